#include "striate/io/state_dict.h"

namespace striate::io {

void save_state_dict(const nn::Module& module, const std::string& path, const Metadata& metadata) {
  Metadata with_format = metadata;
  with_format.emplace("format", "pt");  // keeps a caller's own "format"
  save_safetensors(path, module.state_dict(), with_format);
}

void load_state_dict_from_safetensors(nn::Module& module, const std::string& path, bool strict) {
  SafetensorsContents contents = load_safetensors(path);
  try {
    module.load_state_dict(contents.tensors, strict);
  } catch (const ValueError& e) {
    throw ValueError(detail::concat(e.what(), "\n  (loading '", path, "')"));
  }
}

}  // namespace striate::io
