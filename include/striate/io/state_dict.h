// A module's weights as a safetensors file, with PyTorch's state_dict names,
// so weights move between Striate and PyTorch in either direction:
//
//   io::save_state_dict(*model, "lenet.safetensors");
//   io::load_state_dict_from_safetensors(*model, "exported_from_pytorch.safetensors");
//
// On the PyTorch side: safetensors.torch.save_file(model.state_dict(), path)
// and model.load_state_dict(safetensors.torch.load_file(path)).
#pragma once

#include <string>

#include "striate/io/safetensors.h"
#include "striate/layers/module.h"

namespace striate::io {

// Parameters then buffers, as Module::state_dict() orders them. The metadata
// gets {"format": "pt"} unless it sets "format" itself: Hugging Face tools
// read that as "tensors laid out as PyTorch lays them out", which they are.
void save_state_dict(const nn::Module& module, const std::string& path, const Metadata& metadata = {});

// Module::load_state_dict with the file's tensors (converted to each
// tensor's dtype, as PyTorch's copy_ does). With strict, missing, unexpected
// or mis-shaped keys are a ValueError naming the file and every such key,
// and nothing is loaded; a malformed file is an IOError.
void load_state_dict_from_safetensors(nn::Module& module, const std::string& path, bool strict = true);

}  // namespace striate::io
