// PNG through libpng's classic API, which leaves pixel values alone (the
// simplified png_image API would apply gamma and composite alpha).
//
// libpng reports errors by longjmp to a setjmp in the decoding function; that
// function therefore keeps no C++ object with a destructor in its own frame
// (the buffers it fills belong to its caller), so the jump skips nothing.
#include <cstdio>
#include <cstring>

#include "data/image_codecs.h"
#include "striate/core/error.h"
#include "striate/data/image.h"

#ifdef STRIATE_WITH_PNG
#include <png.h>
#endif

namespace striate::data {

bool built_with_png() {
#ifdef STRIATE_WITH_PNG
  return true;
#else
  return false;
#endif
}

namespace detail {

bool is_png(const std::vector<uint8_t>& bytes) {
  static const uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  return bytes.size() >= 8 && std::memcmp(bytes.data(), kSignature, 8) == 0;
}

#ifdef STRIATE_WITH_PNG
namespace {

struct PngSource {
  const uint8_t* data;
  size_t size;
  size_t position;
  char message[256];
};

void read_from_memory(png_structp png, png_bytep out, png_size_t n) {
  auto* source = static_cast<PngSource*>(png_get_io_ptr(png));
  if (n > source->size - source->position) png_error(png, "unexpected end of file (truncated)");
  std::memcpy(out, source->data + source->position, n);
  source->position += n;
}

void on_error(png_structp png, png_const_charp message) {
  auto* source = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(source->message, sizeof(source->message), "%s", message);
  png_longjmp(png, 1);
}

// Warnings concern ancillary data libpng skips; the pixels are intact.
void on_warning(png_structp, png_const_charp) {}

// False, with source->message set, when the data is not a readable PNG.
bool decode_png_into(PngSource* source, DecodedImage* out) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, source, on_error, on_warning);
  if (png == nullptr) {
    std::snprintf(source->message, sizeof(source->message), "libpng could not start");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    std::snprintf(source->message, sizeof(source->message), "libpng could not start");
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, source, read_from_memory);
  png_read_info(png, info);
  const png_uint_32 width = png_get_image_width(png, info);
  const png_uint_32 height = png_get_image_height(png, info);
  if (static_cast<int64_t>(width) * height > kMaxImagePixels) png_error(png, "image dimensions are too large");
  // Deflate expands at most ~1032:1, so a file far smaller than its pixels'
  // compressed minimum is cut short or lying: refuse before allocating.
  const double stored_bytes = static_cast<double>(height) * (static_cast<double>(png_get_rowbytes(png, info)) + 1);
  if (stored_bytes > 1100.0 * static_cast<double>(source->size) + 65536.0)
    png_error(png, "the file is too short for the image size in its header (truncated or corrupt)");
  const int color_type = png_get_color_type(png, info);
  if (png_get_bit_depth(png, info) == 16) png_set_strip_16(png);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const int channels = png_get_channels(png, info);
  if (channels < 1 || channels > 4 || png_get_rowbytes(png, info) != static_cast<size_t>(width) * channels)
    png_error(png, "unexpected pixel layout after expansion to 8 bits");
  out->height = height;
  out->width = width;
  out->channels = channels;
  out->pixels.resize(static_cast<size_t>(width) * height * channels);
  out->rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) out->rows[y] = out->pixels.data() + static_cast<size_t>(y) * width * channels;
  png_read_image(png, out->rows.data());
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

}  // namespace
#endif

DecodedImage decode_png(const std::vector<uint8_t>& bytes, const std::string& name) {
#ifndef STRIATE_WITH_PNG
  throw NotImplementedError(::striate::detail::concat("read_image: ", name,
                                   " is a PNG file but striate was built without libpng "
                                   "(install libpng-dev and reconfigure)"));
#else
  PngSource source{bytes.data(), bytes.size(), 0, {0}};
  DecodedImage image;
  STRIATE_CHECK(decode_png_into(&source, &image), IOError, "read_image: ", name, " is not a valid PNG image: ",
                source.message);
  image.rows.clear();
  return image;
#endif
}

std::vector<uint8_t> encode_png(const uint8_t* pixels, int64_t height, int64_t width, int64_t channels) {
#ifndef STRIATE_WITH_PNG
  throw NotImplementedError("write_png: striate was built without libpng (install libpng-dev and reconfigure)");
#else
  static const png_uint_32 kFormats[] = {PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB, PNG_FORMAT_RGBA};
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = kFormats[channels - 1];
  const auto stride = static_cast<png_int_32>(width * channels);
  png_alloc_size_t size = 0;
  // The first call measures, the second writes.
  bool ok = png_image_write_to_memory(&image, nullptr, &size, 0, pixels, stride, nullptr) != 0;
  std::vector<uint8_t> out;
  if (ok) {
    out.resize(size);
    ok = png_image_write_to_memory(&image, out.data(), &size, 0, pixels, stride, nullptr) != 0;
    out.resize(size);
  }
  const std::string message = image.message;
  png_image_free(&image);
  STRIATE_CHECK(ok, IOError, "write_png: libpng could not encode a ", height, "x", width, "x", channels,
                " image: ", message);
  return out;
#endif
}

}  // namespace detail
}  // namespace striate::data
