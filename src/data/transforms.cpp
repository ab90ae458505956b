// Transforms on CPU image tensors [..., C, H, W]. The loops work on the
// contiguous data directly: these run once per sample per epoch in the
// loader's workers, outside autograd.
#include "striate/data/transforms.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include "striate/core/error.h"
#include "striate/core/ops/factory.h"

namespace striate::data {
namespace {

// The image as contiguous [planes, H, W], planes = (leading dims) * C.
struct Planes {
  Tensor data;
  Shape leading;  // every dim before H and W
  int64_t planes, height, width;
};

Planes as_planes(const Tensor& image, const char* op) {
  STRIATE_CHECK(image.defined(), ValueError, op, ": the image is undefined");
  STRIATE_CHECK(image.is_cpu(), DeviceError, op, ": transforms run on CPU tensors, got one on ", image.device());
  STRIATE_CHECK(image.dim() >= 3, ShapeError, op, ": expected an image [..., C, H, W] with at least 3 dims, got ",
                image.sizes());
  Planes p;
  p.data = image.contiguous();
  p.leading = Shape(image.sizes().begin(), image.sizes().end() - 2);
  p.height = image.size(-2);
  p.width = image.size(-1);
  p.planes = shape_numel(p.leading);
  return p;
}

Tensor with_hw(const Planes& p, int64_t height, int64_t width, DType dtype) {
  Shape sizes = p.leading;
  sizes.push_back(height);
  sizes.push_back(width);
  return empty(sizes, TensorOptions(dtype));
}

// Python's round(): halves go to the even neighbour.
int64_t round_half_even(double v) { return static_cast<int64_t>(std::nearbyint(v)); }

template <typename T>
void resize_bilinear(const T* in, T* out, int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w) {
  // As ATen's upsample_bilinear2d with align_corners=False: source
  // coordinate (dst + 0.5) * in/out - 0.5, clamped at 0, in the input's type.
  const T scale_h = static_cast<T>(in_h) / static_cast<T>(out_h);
  const T scale_w = static_cast<T>(in_w) / static_cast<T>(out_w);
  struct Tap {
    int64_t i0, i1;
    T l0, l1;
  };
  auto taps = [](int64_t out_size, int64_t in_size, T scale) {
    std::vector<Tap> t(static_cast<size_t>(out_size));
    for (int64_t o = 0; o < out_size; ++o) {
      T src = scale * (static_cast<T>(o) + T(0.5)) - T(0.5);
      if (src < 0) src = 0;
      const auto i0 = static_cast<int64_t>(src);
      const int64_t i1 = i0 + (i0 < in_size - 1 ? 1 : 0);
      const T l1 = src - static_cast<T>(i0);
      t[static_cast<size_t>(o)] = Tap{i0, i1, T(1) - l1, l1};
    }
    return t;
  };
  const std::vector<Tap> rows = taps(out_h, in_h, scale_h);
  const std::vector<Tap> cols = taps(out_w, in_w, scale_w);
  for (int64_t p = 0; p < planes; ++p) {
    const T* plane = in + p * in_h * in_w;
    T* dst = out + p * out_h * out_w;
    for (int64_t y = 0; y < out_h; ++y) {
      const Tap& r = rows[static_cast<size_t>(y)];
      const T* row0 = plane + r.i0 * in_w;
      const T* row1 = plane + r.i1 * in_w;
      for (int64_t x = 0; x < out_w; ++x) {
        const Tap& c = cols[static_cast<size_t>(x)];
        dst[y * out_w + x] =
            r.l0 * (c.l0 * row0[c.i0] + c.l1 * row0[c.i1]) + r.l1 * (c.l0 * row1[c.i0] + c.l1 * row1[c.i1]);
      }
    }
  }
}

std::string list_str(const std::vector<double>& v) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  return os.str() + ']';
}

std::string size_str(int64_t h, int64_t w) { return ::striate::detail::concat("(", h, ", ", w, ")"); }

void check_size(int64_t height, int64_t width, const char* op) {
  STRIATE_CHECK(height > 0 && width > 0, ValueError, op, ": expected a positive output size, got ",
                size_str(height, width));
}

// The crop box torchvision's RandomResizedCrop.get_params picks.
struct Box {
  int64_t top, left, height, width;
};

Box random_resized_box(int64_t height, int64_t width, std::pair<double, double> scale,
                       std::pair<double, double> ratio, SampleRandom& random) {
  const double area = static_cast<double>(height) * static_cast<double>(width);
  const double log_lo = std::log(ratio.first), log_hi = std::log(ratio.second);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * random.uniform(scale.first, scale.second);
    const double aspect = std::exp(random.uniform(log_lo, log_hi));
    const int64_t w = round_half_even(std::sqrt(target_area * aspect));
    const int64_t h = round_half_even(std::sqrt(target_area / aspect));
    if (0 < w && w <= width && 0 < h && h <= height) {
      const int64_t top = random.randint(0, height - h + 1);
      const int64_t left = random.randint(0, width - w + 1);
      return Box{top, left, h, w};
    }
  }
  // Fallback: the whole image, cropped to the nearest allowed aspect ratio.
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  int64_t w = width, h = height;
  if (in_ratio < ratio.first) {
    h = round_half_even(static_cast<double>(w) / ratio.first);
  } else if (in_ratio > ratio.second) {
    w = round_half_even(static_cast<double>(h) * ratio.second);
  }
  return Box{(height - h) / 2, (width - w) / 2, h, w};
}

}  // namespace

// ---- functions -------------------------------------------------------------

Tensor image_to_tensor(const Tensor& image) {
  STRIATE_CHECK(image.defined(), ValueError, "ToTensor: the image is undefined");
  if (image.is_floating_point()) return image;
  STRIATE_CHECK(image.dtype() == kByte, DTypeError, "ToTensor: expected a uint8 image (or a floating one), got ",
                dtype_name(image.dtype()));
  STRIATE_CHECK(image.dim() >= 2 && image.dim() <= 4, ShapeError,
                "ToTensor: expected a uint8 image [H, W], [H, W, C] or [N, H, W, C], got ", image.sizes());
  Tensor hwc = image.dim() == 2 ? image.unsqueeze(-1) : image;
  // Channels-last to channels-first: the move and the scaling in one pass.
  const Tensor src = hwc.contiguous();
  const int64_t c = src.size(-1), w = src.size(-2), h = src.size(-3);
  const int64_t n = src.dim() == 4 ? src.size(0) : 1;
  Shape out_sizes{c, h, w};
  if (src.dim() == 4) out_sizes.insert(out_sizes.begin(), n);
  Tensor out = empty(out_sizes, TensorOptions(kFloat));
  const uint8_t* in = src.data_ptr<uint8_t>();
  float* dst = out.data_ptr<float>();
  constexpr float kScale = 1.0f / 255.0f;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t k = 0; k < c; ++k)
          dst[((i * c + k) * h + y) * w + x] = static_cast<float>(in[((i * h + y) * w + x) * c + k]) * kScale;
  return out;
}

Tensor normalize(const Tensor& image, const std::vector<double>& mean, const std::vector<double>& std) {
  Planes p = as_planes(image, "Normalize");
  STRIATE_CHECK(p.data.is_floating_point(), DTypeError,
                "Normalize: expected a floating-point image (apply ToTensor first), got ", dtype_name(p.data.dtype()));
  const int64_t channels = image.size(-3);
  STRIATE_CHECK(!mean.empty() && mean.size() == std.size(), ValueError,
                "Normalize: mean and std must have the same, non-zero length, got ", mean.size(), " and ", std.size());
  STRIATE_CHECK(mean.size() == 1 || static_cast<int64_t>(mean.size()) == channels, ShapeError, "Normalize: ",
                mean.size(), " means and stds for an image with ", channels, " channels (shape ", image.sizes(), ")");
  for (double s : std) STRIATE_CHECK(s != 0, ValueError, "Normalize: std ", list_str(std), " contains a zero");
  Tensor out = empty(image.sizes(), TensorOptions(p.data.dtype()));
  const int64_t plane_size = p.height * p.width;
  visit_floating(p.data.dtype(), "Normalize", [&]<typename T>() {
    const T* in = p.data.data_ptr<T>();
    T* dst = out.data_ptr<T>();
    for (int64_t q = 0; q < p.planes; ++q) {
      const size_t k = mean.size() == 1 ? 0 : static_cast<size_t>(q % channels);
      const auto m = static_cast<acc_t<T>>(mean[k]);
      const auto s = static_cast<acc_t<T>>(std[k]);
      for (int64_t i = 0; i < plane_size; ++i)
        dst[q * plane_size + i] = static_cast<T>((static_cast<acc_t<T>>(in[q * plane_size + i]) - m) / s);
    }
  });
  return out;
}

Tensor resize(const Tensor& image, int64_t height, int64_t width) {
  check_size(height, width, "Resize");
  Planes p = as_planes(image, "Resize");
  STRIATE_CHECK(p.data.dtype() == kFloat || p.data.dtype() == kDouble, DTypeError,
                "Resize: expected a float32 or float64 image (apply ToTensor first), got ",
                dtype_name(p.data.dtype()));
  STRIATE_CHECK(p.height > 0 && p.width > 0, ShapeError, "Resize: cannot resize an empty image ", image.sizes());
  Tensor out = with_hw(p, height, width, p.data.dtype());
  if (p.data.dtype() == kFloat)
    resize_bilinear(p.data.data_ptr<float>(), out.data_ptr<float>(), p.planes, p.height, p.width, height, width);
  else
    resize_bilinear(p.data.data_ptr<double>(), out.data_ptr<double>(), p.planes, p.height, p.width, height, width);
  return out;
}

Tensor crop(const Tensor& image, int64_t top, int64_t left, int64_t height, int64_t width) {
  check_size(height, width, "crop");
  Planes p = as_planes(image, "crop");
  Tensor out = with_hw(p, height, width, p.data.dtype());
  const size_t elem = p.data.element_size();
  const auto* in = static_cast<const uint8_t*>(p.data.data_ptr());
  auto* dst = static_cast<uint8_t*>(out.data_ptr());
  // The columns of the window that fall inside the image; the rest is zero.
  const int64_t x0 = std::max<int64_t>(0, -left), x1 = std::min<int64_t>(width, p.width - left);
  for (int64_t q = 0; q < p.planes; ++q) {
    for (int64_t y = 0; y < height; ++y) {
      uint8_t* row = dst + static_cast<size_t>((q * height + y) * width) * elem;
      const int64_t sy = top + y;
      if (sy < 0 || sy >= p.height || x0 >= x1) {
        std::memset(row, 0, static_cast<size_t>(width) * elem);
        continue;
      }
      std::memset(row, 0, static_cast<size_t>(x0) * elem);
      std::memcpy(row + static_cast<size_t>(x0) * elem,
                  in + static_cast<size_t>((q * p.height + sy) * p.width + left + x0) * elem,
                  static_cast<size_t>(x1 - x0) * elem);
      std::memset(row + static_cast<size_t>(x1) * elem, 0, static_cast<size_t>(width - x1) * elem);
    }
  }
  return out;
}

Tensor center_crop(const Tensor& image, int64_t height, int64_t width) {
  check_size(height, width, "CenterCrop");
  STRIATE_CHECK(image.defined() && image.dim() >= 3, ShapeError,
                "CenterCrop: expected an image [..., C, H, W] with at least 3 dims, got ",
                image.defined() ? image.sizes() : Shape{});
  // torchvision pads a too-small image by (crop - size) // 2 before, then
  // crops at round((size - crop) / 2).
  auto offset = [](int64_t size, int64_t crop_size) {
    return crop_size > size ? -((crop_size - size) / 2)
                            : round_half_even(static_cast<double>(size - crop_size) / 2.0);
  };
  return crop(image, offset(image.size(-2), height), offset(image.size(-1), width), height, width);
}

Tensor pad(const Tensor& image, int64_t padding, double value) {
  STRIATE_CHECK(padding >= 0, ValueError, "pad: expected a non-negative padding, got ", padding);
  Planes p = as_planes(image, "pad");
  Tensor out = with_hw(p, p.height + 2 * padding, p.width + 2 * padding, p.data.dtype());
  out.fill_(value);
  out.narrow(-2, padding, p.height).narrow(-1, padding, p.width).copy_(p.data);
  return out;
}

Tensor horizontal_flip(const Tensor& image) {
  Planes p = as_planes(image, "RandomHorizontalFlip");
  Tensor out = with_hw(p, p.height, p.width, p.data.dtype());
  const size_t elem = p.data.element_size();
  const auto* in = static_cast<const uint8_t*>(p.data.data_ptr());
  auto* dst = static_cast<uint8_t*>(out.data_ptr());
  for (int64_t r = 0; r < p.planes * p.height; ++r)
    for (int64_t x = 0; x < p.width; ++x)
      std::memcpy(dst + static_cast<size_t>(r * p.width + x) * elem,
                  in + static_cast<size_t>(r * p.width + (p.width - 1 - x)) * elem, elem);
  return out;
}

// ---- transform objects -----------------------------------------------------

Transform::Transform(std::string description, Function function)
    : description_(std::make_shared<const std::string>(std::move(description))),
      function_(std::make_shared<const Function>(std::move(function))) {}

Tensor Transform::operator()(const Tensor& image, SampleRandom& random) const { return (*function_)(image, random); }

Tensor Transform::operator()(const Tensor& image) const {
  SampleRandom random(0, 0, 0);
  return (*function_)(image, random);
}

namespace {

std::string compose_description(const std::vector<Transform>& transforms) {
  std::string s = "Compose(\n";
  for (const auto& t : transforms) s += "    " + t.description() + "\n";
  return s + ")";
}

}  // namespace

Compose::Compose(std::vector<Transform> transforms)
    : Transform(compose_description(transforms), [transforms](const Tensor& image, SampleRandom& random) {
        Tensor x = image;
        for (const auto& t : transforms) x = t(x, random);
        return x;
      }) {}

ToTensor::ToTensor() : Transform("ToTensor()", [](const Tensor& image, SampleRandom&) { return image_to_tensor(image); }) {}

Normalize::Normalize(std::vector<double> mean, std::vector<double> std)
    : Transform(::striate::detail::concat("Normalize(mean=", list_str(mean), ", std=", list_str(std), ")"),
                [mean, std](const Tensor& image, SampleRandom&) { return normalize(image, mean, std); }) {
  STRIATE_CHECK(!mean.empty() && mean.size() == std.size(), ValueError,
                "Normalize: mean and std must have the same, non-zero length, got ", mean.size(), " and ", std.size());
  for (double s : std) STRIATE_CHECK(s != 0, ValueError, "Normalize: std ", list_str(std), " contains a zero");
}

Resize::Resize(int64_t size)
    : Transform(::striate::detail::concat("Resize(size=", size, ", interpolation=bilinear, antialias=False)"),
                [size](const Tensor& image, SampleRandom&) {
                  STRIATE_CHECK(image.defined() && image.dim() >= 3, ShapeError,
                                "Resize: expected an image [..., C, H, W] with at least 3 dims, got ",
                                image.defined() ? image.sizes() : Shape{});
                  const int64_t h = image.size(-2), w = image.size(-1);
                  STRIATE_CHECK(h > 0 && w > 0, ShapeError, "Resize: cannot resize an empty image ", image.sizes());
                  // torchvision: the shorter side becomes `size`, the longer
                  // int(size * long / short).
                  const int64_t shorter = std::min(h, w), longer = std::max(h, w);
                  const auto new_long = static_cast<int64_t>(static_cast<double>(size) * static_cast<double>(longer) /
                                                             static_cast<double>(shorter));
                  return w <= h ? resize(image, new_long, size) : resize(image, size, new_long);
                }) {
  check_size(size, size, "Resize");
}

Resize::Resize(int64_t height, int64_t width)
    : Transform(::striate::detail::concat("Resize(size=", size_str(height, width), ", interpolation=bilinear, antialias=False)"),
                [height, width](const Tensor& image, SampleRandom&) { return resize(image, height, width); }) {
  check_size(height, width, "Resize");
}

CenterCrop::CenterCrop(int64_t size) : CenterCrop(size, size) {}

CenterCrop::CenterCrop(int64_t height, int64_t width)
    : Transform(::striate::detail::concat("CenterCrop(size=", size_str(height, width), ")"),
                [height, width](const Tensor& image, SampleRandom&) { return center_crop(image, height, width); }) {
  check_size(height, width, "CenterCrop");
}

RandomCrop::RandomCrop(int64_t size, int64_t padding) : RandomCrop(size, size, padding) {}

RandomCrop::RandomCrop(int64_t height, int64_t width, int64_t padding)
    : Transform(::striate::detail::concat("RandomCrop(size=", size_str(height, width), ", padding=", padding, ")"),
                [height, width, padding](const Tensor& image, SampleRandom& random) {
                  STRIATE_CHECK(image.defined() && image.dim() >= 3, ShapeError,
                                "RandomCrop: expected an image [..., C, H, W] with at least 3 dims, got ",
                                image.defined() ? image.sizes() : Shape{});
                  const int64_t h = image.size(-2) + 2 * padding, w = image.size(-1) + 2 * padding;
                  STRIATE_CHECK(h >= height && w >= width, ShapeError, "RandomCrop: crop size ",
                                size_str(height, width), " is larger than the padded image ", size_str(h, w),
                                " (image ", image.sizes(), ", padding ", padding, ")");
                  // Cropping the padded image at (top, left) is cropping the
                  // image at (top - padding, left - padding) with zeros outside.
                  const int64_t top = random.randint(0, h - height + 1);
                  const int64_t left = random.randint(0, w - width + 1);
                  return crop(image, top - padding, left - padding, height, width);
                }) {
  check_size(height, width, "RandomCrop");
  STRIATE_CHECK(padding >= 0, ValueError, "RandomCrop: expected a non-negative padding, got ", padding);
}

RandomHorizontalFlip::RandomHorizontalFlip(double p)
    : Transform(::striate::detail::concat("RandomHorizontalFlip(p=", p, ")"), [p](const Tensor& image, SampleRandom& random) {
        return random.bernoulli(p) ? horizontal_flip(image) : image.contiguous();
      }) {
  STRIATE_CHECK(p >= 0 && p <= 1, ValueError, "RandomHorizontalFlip: expected a probability in [0, 1], got ", p);
}

RandomResizedCrop::RandomResizedCrop(int64_t size, std::pair<double, double> scale, std::pair<double, double> ratio)
    : RandomResizedCrop(size, size, scale, ratio) {}

RandomResizedCrop::RandomResizedCrop(int64_t height, int64_t width, std::pair<double, double> scale,
                                     std::pair<double, double> ratio)
    : Transform(::striate::detail::concat("RandomResizedCrop(size=", size_str(height, width), ", scale=(", scale.first, ", ",
                               scale.second, "), ratio=(", ratio.first, ", ", ratio.second,
                               "), interpolation=bilinear, antialias=False)"),
                [height, width, scale, ratio](const Tensor& image, SampleRandom& random) {
                  STRIATE_CHECK(image.defined() && image.dim() >= 3, ShapeError,
                                "RandomResizedCrop: expected an image [..., C, H, W] with at least 3 dims, got ",
                                image.defined() ? image.sizes() : Shape{});
                  STRIATE_CHECK(image.size(-2) > 0 && image.size(-1) > 0, ShapeError,
                                "RandomResizedCrop: cannot crop an empty image ", image.sizes());
                  const Box box = random_resized_box(image.size(-2), image.size(-1), scale, ratio, random);
                  return resize(crop(image, box.top, box.left, box.height, box.width), height, width);
                }) {
  check_size(height, width, "RandomResizedCrop");
  STRIATE_CHECK(scale.first > 0 && scale.first <= scale.second, ValueError,
                "RandomResizedCrop: expected 0 < scale.min <= scale.max, got (", scale.first, ", ", scale.second, ")");
  STRIATE_CHECK(ratio.first > 0 && ratio.first <= ratio.second, ValueError,
                "RandomResizedCrop: expected 0 < ratio.min <= ratio.max, got (", ratio.first, ", ", ratio.second, ")");
}

}  // namespace striate::data
