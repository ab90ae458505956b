// JPEG through libjpeg(-turbo).
//
// libjpeg's default error handler calls exit(); ours longjmps back to the
// setjmp in the decoding/encoding function, which (as in png_codec.cpp) keeps
// no C++ object with a destructor in its own frame. Warnings about corrupt
// data (a truncated file makes libjpeg pad the image with gray) are errors
// here, except the harmless ones listed in is_benign_warning.
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "data/image_codecs.h"
#include "striate/core/error.h"
#include "striate/data/image.h"

#ifdef STRIATE_WITH_JPEG
#include <jpeglib.h>
#include <jerror.h>
#endif

namespace striate::data {

bool built_with_jpeg() {
#ifdef STRIATE_WITH_JPEG
  return true;
#else
  return false;
#endif
}

namespace detail {

bool is_jpeg(const std::vector<uint8_t>& bytes) {
  return bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
}

#ifdef STRIATE_WITH_JPEG
namespace {

struct JpegErrors {
  jpeg_error_mgr manager;  // first: libjpeg sees a jpeg_error_mgr*
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void on_error(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

bool is_benign_warning(int code) {
  return code == JWRN_EXTRANEOUS_DATA || code == JWRN_ADOBE_XFORM || code == JWRN_BOGUS_ICC;
}

// level < 0: a warning; >= 0: trace output, which we never print.
void on_message(j_common_ptr cinfo, int level) {
  if (level < 0 && !is_benign_warning(cinfo->err->msg_code)) on_error(cinfo);
}

void setup_errors(JpegErrors* errors) {
  jpeg_std_error(&errors->manager);
  errors->manager.error_exit = on_error;
  errors->manager.emit_message = on_message;
  errors->message[0] = '\0';
}

bool decode_jpeg_into(const std::vector<uint8_t>* bytes, JpegErrors* errors, DecodedImage* out) {
  jpeg_decompress_struct cinfo;
  std::memset(&cinfo, 0, sizeof(cinfo));
  setup_errors(errors);
  cinfo.err = &errors->manager;
  if (setjmp(errors->jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes->data(), static_cast<unsigned long>(bytes->size()));
  jpeg_read_header(&cinfo, TRUE);
  if (static_cast<int64_t>(cinfo.image_width) * cinfo.image_height > kMaxImagePixels) {
    std::snprintf(errors->message, sizeof(errors->message), "image dimensions %ux%u are too large",
                  cinfo.image_width, cinfo.image_height);
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  const int64_t width = cinfo.output_width, height = cinfo.output_height, channels = cinfo.output_components;
  out->height = height;
  out->width = width;
  out->channels = channels;
  out->pixels.resize(static_cast<size_t>(width * height * channels));
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out->pixels.data() + static_cast<size_t>(cinfo.output_scanline) * width * channels;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

bool encode_jpeg_into(const uint8_t* pixels, int64_t height, int64_t width, int64_t channels, int quality,
                      JpegErrors* errors, unsigned char** buffer, unsigned long* size) {
  jpeg_compress_struct cinfo;
  std::memset(&cinfo, 0, sizeof(cinfo));
  setup_errors(errors);
  cinfo.err = &errors->manager;
  if (setjmp(errors->jump)) {
    jpeg_destroy_compress(&cinfo);
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, buffer, size);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = static_cast<int>(channels);
  cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    // libjpeg's API takes non-const rows but only reads them.
    JSAMPROW row = const_cast<uint8_t*>(pixels) + static_cast<size_t>(cinfo.next_scanline) * width * channels;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

}  // namespace
#endif

DecodedImage decode_jpeg(const std::vector<uint8_t>& bytes, const std::string& name) {
#ifndef STRIATE_WITH_JPEG
  throw NotImplementedError(::striate::detail::concat(
      "read_image: ", name, " is a JPEG file but striate was built without libjpeg (install libjpeg-dev and reconfigure)"));
#else
  JpegErrors errors;
  DecodedImage image;
  STRIATE_CHECK(decode_jpeg_into(&bytes, &errors, &image), IOError, "read_image: ", name,
                " is not a valid JPEG image: ", errors.message);
  return image;
#endif
}

std::vector<uint8_t> encode_jpeg(const uint8_t* pixels, int64_t height, int64_t width, int64_t channels, int quality) {
#ifndef STRIATE_WITH_JPEG
  throw NotImplementedError("write_jpeg: striate was built without libjpeg (install libjpeg-dev and reconfigure)");
#else
  JpegErrors errors;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  const bool ok = encode_jpeg_into(pixels, height, width, channels, quality, &errors, &buffer, &size);
  std::vector<uint8_t> out;
  if (ok && buffer != nullptr) out.assign(buffer, buffer + size);
  std::free(buffer);  // jpeg_mem_dest's buffer is malloc'd and left to us
  STRIATE_CHECK(ok, IOError, "write_jpeg: libjpeg could not encode a ", height, "x", width, "x", channels,
                " image: ", errors.message);
  return out;
#endif
}

}  // namespace detail
}  // namespace striate::data
