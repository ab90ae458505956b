// Reading whole files and gzip streams for the data readers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace striate::data::detail {

// The bytes of `path`; an IOError saying why when it cannot be read.
std::vector<uint8_t> read_file(const std::string& path, const char* reader);
// Writes bytes to `path`, an IOError naming it on failure.
void write_file(const std::string& path, const std::vector<uint8_t>& bytes, const char* writer);

bool is_gzip(const std::vector<uint8_t>& bytes);
// Inflates every gzip member of `bytes` (as gzip -d does with concatenated
// files). Corrupt or truncated input, or a build without zlib, is an IOError
// or NotImplementedError naming `name`.
std::vector<uint8_t> gunzip(const std::vector<uint8_t>& bytes, const std::string& name, const char* reader);

// The first of `candidates` that exists as a regular file, or "".
std::string first_existing_file(const std::vector<std::string>& candidates);

}  // namespace striate::data::detail
