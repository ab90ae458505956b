// The safetensors format: the weights format of the Hugging Face ecosystem,
// readable and writable from PyTorch, so weights move between the two by name.
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON, then the
// raw little-endian tensor data. The header is one flat object mapping each
// tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
// relative to the start of the data), plus an optional "__metadata__" object
// of string to string. The tensors must tile the data region exactly.
//
// Loading checks all of it and reports any inconsistency as an IOError that
// names the file and the problem; a malformed file never crashes the reader
// and never yields a tensor that reads out of bounds.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "striate/core/tensor.h"

namespace striate::io {

// In order; the same type as nn::StateDict, so a state_dict saves directly.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using Metadata = std::map<std::string, std::string>;

struct SafetensorsContents {
  NamedTensors tensors;  // CPU, contiguous, in header order (= data order for files written here)
  Metadata metadata;

  // The tensor called `name`, or nullptr.
  const Tensor* find(std::string_view name) const;
};

// Writes atomically (see atomic_file.h). Tensors are written in the given
// order as contiguous CPU copies: views, non-contiguous and GPU tensors are
// fine. Names must be unique, non-empty, valid UTF-8 and not "__metadata__"
// (ValueError, checked before the file is touched).
void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata = {});
SafetensorsContents load_safetensors(const std::string& path);

// The same format in memory; `source` names the bytes in error messages.
std::string serialize_safetensors(const NamedTensors& tensors, const Metadata& metadata = {});
SafetensorsContents parse_safetensors(const void* data, size_t size, const std::string& source = "<memory>");

// "F32", "BF16", ... and back; nullopt for names Striate has no dtype for.
const char* safetensors_dtype_name(DType dtype);
std::optional<DType> dtype_from_safetensors_name(std::string_view name);

// Headers larger than this are refused before anything is allocated for them.
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = uint64_t{100} << 20;

}  // namespace striate::io
