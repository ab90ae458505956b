// PNG and JPEG codecs behind image.h: raw 8-bit pixels in, raw pixels out.
// Each throws IOError naming the image on bad data, and NotImplementedError
// when striate was built without the library.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace striate::data::detail {

// Interleaved 8-bit pixels, row-major: height * width * channels bytes.
struct DecodedImage {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;
  std::vector<uint8_t*> rows;  // scratch for the decoders' row pointers
};

bool is_png(const std::vector<uint8_t>& bytes);
bool is_jpeg(const std::vector<uint8_t>& bytes);

// PNG: 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA) channels, as stored;
// palettes expand to RGB(A), 16-bit samples keep their high byte.
DecodedImage decode_png(const std::vector<uint8_t>& bytes, const std::string& name);
// JPEG: 1 (gray) or 3 (RGB) channels.
DecodedImage decode_jpeg(const std::vector<uint8_t>& bytes, const std::string& name);

std::vector<uint8_t> encode_png(const uint8_t* pixels, int64_t height, int64_t width, int64_t channels);
std::vector<uint8_t> encode_jpeg(const uint8_t* pixels, int64_t height, int64_t width, int64_t channels, int quality);

}  // namespace striate::data::detail
