// Image files to and from u8 [H, W, C] tensors, and image grids.
#include "striate/data/image.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "data/file_io.h"
#include "data/image_codecs.h"
#include "striate/core/autograd.h"
#include "striate/core/error.h"
#include "striate/core/ops/factory.h"

namespace striate::data {
namespace {

uint8_t gray_of(const uint8_t* rgb) {
  // PIL's convert("L"): ITU-R 601-2 luma (0.299, 0.587, 0.114) in 16-bit
  // fixed point, rounded.
  return static_cast<uint8_t>((rgb[0] * 19595u + rgb[1] * 38470u + rgb[2] * 7471u + 0x8000u) >> 16);
}

// Converts interleaved pixels with `from` channels to `to` channels
// (1 gray, 2 gray + alpha, 3 RGB, 4 RGBA). Missing alpha is opaque.
std::vector<uint8_t> convert_channels(const std::vector<uint8_t>& in, int64_t pixels, int64_t from, int64_t to) {
  std::vector<uint8_t> out(static_cast<size_t>(pixels * to));
  for (int64_t i = 0; i < pixels; ++i) {
    const uint8_t* s = in.data() + i * from;
    uint8_t* d = out.data() + i * to;
    const bool color_in = from >= 3;
    const uint8_t alpha = (from == 2 || from == 4) ? s[from - 1] : 255;
    const uint8_t r = s[0], g = color_in ? s[1] : s[0], b = color_in ? s[2] : s[0];
    if (to <= 2) {
      d[0] = color_in ? gray_of(s) : s[0];
    } else {
      d[0] = r;
      d[1] = g;
      d[2] = b;
    }
    if (to == 2 || to == 4) d[to - 1] = alpha;
  }
  return out;
}

int64_t mode_channels(ImageMode mode, int64_t stored) {
  switch (mode) {
    case ImageMode::Gray: return 1;
    case ImageMode::RGB: return 3;
    case ImageMode::RGBA: return 4;
    case ImageMode::Unchanged: break;
  }
  return stored;
}

std::string first_bytes_hex(const std::vector<uint8_t>& bytes) {
  char buf[16] = {0};
  int at = 0;
  for (size_t i = 0; i < std::min<size_t>(bytes.size(), 4); ++i)
    at += std::snprintf(buf + at, sizeof(buf) - static_cast<size_t>(at), i ? " %02x" : "%02x", bytes[i]);
  return buf;
}

// An image tensor as contiguous u8 [H, W, C], C in 1..4.
Tensor to_hwc_u8(const Tensor& image, ImageLayout layout, const char* op) {
  STRIATE_CHECK(image.defined(), ValueError, op, ": the image is undefined");
  STRIATE_CHECK(image.is_cpu(), DeviceError, op, ": expected a CPU tensor, got one on ", image.device(),
                " (call .cpu() first)");
  STRIATE_CHECK(image.dim() == 2 || image.dim() == 3, ShapeError, op,
                ": expected an image [H, W], [H, W, C] or [C, H, W], got ", image.sizes());
  NoGradGuard no_grad;
  Tensor hwc = image.detach();
  if (hwc.dim() == 2) {
    hwc = hwc.unsqueeze(-1);
  } else {
    auto is_channels = [](int64_t c) { return c >= 1 && c <= 4; };
    if (layout == ImageLayout::Auto)
      layout = is_channels(hwc.size(2)) ? ImageLayout::HWC : is_channels(hwc.size(0)) ? ImageLayout::CHW
                                                                                      : ImageLayout::HWC;
    if (layout == ImageLayout::CHW) hwc = hwc.permute({1, 2, 0});
  }
  STRIATE_CHECK(hwc.size(2) >= 1 && hwc.size(2) <= 4, ShapeError, op, ": expected 1 to 4 channels, got ",
                hwc.size(2), " (image ", image.sizes(), ")");
  STRIATE_CHECK(hwc.size(0) > 0 && hwc.size(1) > 0 && hwc.size(0) <= (1 << 20) && hwc.size(1) <= (1 << 20),
                ShapeError, op, ": cannot write an image of ", hwc.size(0), "x", hwc.size(1), " pixels");
  if (hwc.dtype() == kByte) return hwc.contiguous();
  STRIATE_CHECK(hwc.is_floating_point(), DTypeError, op, ": expected a uint8 image or a floating one in [0, 1], got ",
                dtype_name(hwc.dtype()));
  const Tensor f = hwc.to(kFloat).contiguous();
  Tensor out = empty(f.sizes(), TensorOptions(kByte));
  const float* src = f.data_ptr<float>();
  uint8_t* dst = out.data_ptr<uint8_t>();
  for (int64_t i = 0; i < f.numel(); ++i) {
    // torchvision's save_image: x * 255 + 0.5, clamped, truncated. NaN -> 0.
    const float v = src[i] * 255.0f + 0.5f;
    dst[i] = static_cast<uint8_t>(v >= 255.0f ? 255.0f : v > 0.0f ? v : 0.0f);
  }
  return out;
}

}  // namespace

Tensor decode_image(const std::vector<uint8_t>& bytes, ImageMode mode, const std::string& name) {
  STRIATE_CHECK(!bytes.empty(), IOError, "read_image: ", name, " is empty");
  detail::DecodedImage image;
  if (detail::is_png(bytes)) {
    image = detail::decode_png(bytes, name);
  } else if (detail::is_jpeg(bytes)) {
    image = detail::decode_jpeg(bytes, name);
  } else {
    throw IOError(::striate::detail::concat("read_image: ", name, " is neither a PNG nor a JPEG image (starts with ",
                                            first_bytes_hex(bytes), ")"));
  }
  const int64_t channels = mode_channels(mode, image.channels);
  const int64_t pixels = image.height * image.width;
  Tensor out = empty({image.height, image.width, channels}, TensorOptions(kByte));
  if (channels == image.channels) {
    if (!image.pixels.empty()) std::memcpy(out.data_ptr(), image.pixels.data(), image.pixels.size());
  } else {
    const std::vector<uint8_t> converted = convert_channels(image.pixels, pixels, image.channels, channels);
    if (!converted.empty()) std::memcpy(out.data_ptr(), converted.data(), converted.size());
  }
  return out;
}

Tensor read_image(const std::string& path, ImageMode mode) {
  return decode_image(detail::read_file(path, "read_image"), mode, path);
}

std::vector<uint8_t> encode_png(const Tensor& image, ImageLayout layout) {
  const Tensor hwc = to_hwc_u8(image, layout, "write_png");
  return detail::encode_png(hwc.data_ptr<uint8_t>(), hwc.size(0), hwc.size(1), hwc.size(2));
}

void write_png(const std::string& path, const Tensor& image, ImageLayout layout) {
  detail::write_file(path, encode_png(image, layout), "write_png");
}

std::vector<uint8_t> encode_jpeg(const Tensor& image, int quality, ImageLayout layout) {
  STRIATE_CHECK(quality >= 1 && quality <= 100, ValueError, "write_jpeg: expected a quality in 1..100, got ",
                quality);
  const Tensor hwc = to_hwc_u8(image, layout, "write_jpeg");
  STRIATE_CHECK(hwc.size(2) == 1 || hwc.size(2) == 3, ShapeError,
                "write_jpeg: JPEG stores 1 (gray) or 3 (RGB) channels, got ", hwc.size(2));
  return detail::encode_jpeg(hwc.data_ptr<uint8_t>(), hwc.size(0), hwc.size(1), hwc.size(2), quality);
}

void write_jpeg(const std::string& path, const Tensor& image, int quality, ImageLayout layout) {
  detail::write_file(path, encode_jpeg(image, quality, layout), "write_jpeg");
}

// ---- grids ---------------------------------------------------------------------

Tensor make_grid(const Tensor& images, const GridOptions& o) {
  STRIATE_CHECK(images.defined() && (images.dim() == 3 || images.dim() == 4), ShapeError,
                "make_grid: expected images [N, C, H, W] or [N, H, W], got ",
                images.defined() ? images.sizes() : Shape{});
  STRIATE_CHECK(images.is_cpu(), DeviceError, "make_grid: expected CPU tensors, got one on ", images.device());
  STRIATE_CHECK(images.size(0) > 0, ShapeError, "make_grid: no images (shape ", images.sizes(), ")");
  STRIATE_CHECK(o.nrow_ >= 1 && o.padding_ >= 0 && o.upscale_ >= 1, ValueError,
                "make_grid: expected nrow >= 1, padding >= 0 and upscale >= 1, got ", o.nrow_, ", ", o.padding_,
                " and ", o.upscale_);
  NoGradGuard no_grad;
  Tensor x = images.detach();
  if (x.dim() == 3) x = x.unsqueeze(1);
  x = x.to(kFloat).contiguous();
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t plane = c * h * w;
  // to() and contiguous() may hand back the caller's storage: scale a copy.
  if (o.normalize_ && x.storage() == images.storage()) x = x.clone();
  float* data = x.data_ptr<float>();
  if (o.normalize_) {
    // torchvision's norm_ip: clamp to [low, high], then (x - low) / max(high - low, 1e-5).
    auto scale = [](float* p, int64_t count) {
      if (count == 0) return;
      const auto [lo_it, hi_it] = std::minmax_element(p, p + count);
      const float lo = *lo_it, range = std::max(*hi_it - lo, 1e-5f);
      for (int64_t i = 0; i < count; ++i) p[i] = (p[i] - lo) / range;
    };
    if (o.scale_each_) {
      for (int64_t k = 0; k < n; ++k) scale(data + k * plane, plane);
    } else {
      scale(data, n * plane);
    }
  }
  const int64_t u = o.upscale_, pad = o.padding_;
  const int64_t xmaps = std::min(o.nrow_, n), ymaps = (n + xmaps - 1) / xmaps;
  const int64_t cell_h = h * u + pad, cell_w = w * u + pad;
  Tensor grid = full({c, ymaps * cell_h + pad, xmaps * cell_w + pad}, o.pad_value_, TensorOptions(kFloat));
  float* g = grid.data_ptr<float>();
  const int64_t gh = grid.size(1), gw = grid.size(2);
  for (int64_t k = 0; k < n; ++k) {
    const int64_t top = (k / xmaps) * cell_h + pad, left = (k % xmaps) * cell_w + pad;
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h * u; ++y)
        for (int64_t xx = 0; xx < w * u; ++xx)
          g[(ch * gh + top + y) * gw + left + xx] = data[k * plane + (ch * h + y / u) * w + xx / u];
  }
  return grid;
}

void save_image_grid(const std::string& path, const Tensor& images, const GridOptions& options) {
  write_png(path, make_grid(images, options), ImageLayout::CHW);
}

}  // namespace striate::data
