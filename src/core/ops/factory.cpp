// Creating tensors that are filled, ranged or copied from host data.
// (Random factories are in random.cpp.)
#include "striate/core/ops/factory.h"

#include <cmath>
#include <cstring>

#include "core/ops/internal.h"

namespace striate {

static void check_sizes(const Shape& sizes, const char* op) {
  STRIATE_CHECK(static_cast<int>(sizes.size()) <= kMaxDims, ShapeError, op, ": at most ", kMaxDims,
                " dims are supported, got ", sizes.size());
  for (int64_t s : sizes)
    STRIATE_CHECK(s >= 0, ShapeError, op, ": negative dimension ", s, " in size ", sizes);
}

static Tensor finish(Tensor t, const TensorOptions& options) {
  if (options.requires_grad()) t.requires_grad_(true);
  return t;
}

Tensor empty_strided(const Shape& sizes, const Shape& strides, const TensorOptions& options) {
  check_sizes(sizes, "empty_strided");
  STRIATE_CHECK(sizes.size() == strides.size(), ShapeError, "empty_strided: sizes ", sizes, " and strides ",
                strides, " differ in length");
  for (int64_t s : strides)
    STRIATE_CHECK(s >= 0, ShapeError, "empty_strided: negative stride ", s, " in ", strides);
  int64_t extent = shape_numel(sizes) == 0 ? 0 : 1;
  for (size_t i = 0; i < sizes.size() && extent; ++i) extent += (sizes[i] - 1) * strides[i];
  auto impl = std::make_shared<TensorImpl>();
  STRIATE_CHECK(!options.pinned_memory() || options.device().is_cpu(), DeviceError,
                "empty: only CPU tensors can be pinned, got device ", options.device());
  impl->storage = Storage::allocate(static_cast<size_t>(extent) * element_size(options.dtype()), options.device(),
                                    options.pinned_memory());
  impl->sizes = sizes;
  impl->strides = strides;
  impl->dtype = options.dtype();
  return finish(Tensor(std::move(impl)), options);
}

Tensor empty(const Shape& sizes, const TensorOptions& options, MemoryFormat fmt) {
  check_sizes(sizes, "empty");
  if (fmt == MemoryFormat::ChannelsLast) return empty_strided(sizes, channels_last_strides(sizes), options);
  return empty_strided(sizes, contiguous_strides(sizes), options);
}

Tensor full(const Shape& sizes, const Scalar& value, const TensorOptions& options) {
  Tensor t = empty(sizes, options.requires_grad(false));
  ops::fill_raw(t, value);
  return finish(t, options);
}

Tensor zeros(const Shape& sizes, const TensorOptions& options) { return full(sizes, 0, options); }
Tensor ones(const Shape& sizes, const TensorOptions& options) { return full(sizes, 1, options); }
Tensor scalar_tensor(const Scalar& value, const TensorOptions& options) { return full({}, value, options); }

Tensor eye(int64_t n, const TensorOptions& options) {
  STRIATE_CHECK(n >= 0, ShapeError, "eye: n must be non-negative, got ", n);
  Tensor t = zeros({n, n}, options.requires_grad(false));
  ops::fill_raw(t.as_strided({n}, {n + 1}, 0), 1);
  return finish(t, options);
}

Tensor empty_like(const Tensor& like, const TensorOptions& options) {
  return empty(like.sizes(), options, like.suggest_memory_format());
}
Tensor empty_like(const Tensor& like) { return empty_like(like, like.options()); }
Tensor full_like(const Tensor& like, const Scalar& value, const TensorOptions& options) {
  Tensor t = empty_like(like, options.requires_grad(false));
  ops::fill_raw(t, value);
  return finish(t, options);
}
Tensor full_like(const Tensor& like, const Scalar& value) { return full_like(like, value, like.options()); }
Tensor zeros_like(const Tensor& like) { return full_like(like, 0); }
Tensor zeros_like(const Tensor& like, const TensorOptions& options) { return full_like(like, 0, options); }
Tensor ones_like(const Tensor& like) { return full_like(like, 1); }
Tensor ones_like(const Tensor& like, const TensorOptions& options) { return full_like(like, 1, options); }

// ---- ranges --------------------------------------------------------------

Tensor arange(const Scalar& end) { return arange(0, end, 1); }

Tensor arange(const Scalar& end, const TensorOptions& options) {
  return arange(0, end, 1, options);
}

Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step) {
  const bool any_float = start.is_floating_point() || end.is_floating_point() || step.is_floating_point();
  return arange(start, end, step, TensorOptions(any_float ? kDefaultFloat : kLong));
}

Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, const TensorOptions& options) {
  const double s = start.to_double(), e = end.to_double(), d = step.to_double();
  STRIATE_CHECK(d != 0, ValueError, "arange: step must be nonzero");
  STRIATE_CHECK(std::isfinite(s) && std::isfinite(e), ValueError, "arange: unsupported range ", s, " -> ", e);
  STRIATE_CHECK((d > 0 && e >= s) || (d < 0 && e <= s), ValueError,
                "arange: upper bound and larger bound inconsistent with step sign (start ", start, ", end ", end,
                ", step ", step, ")");
  const auto n = static_cast<int64_t>(std::ceil((e - s) / d));
  Tensor values = empty({n}, TensorOptions(kDouble));
  double* p = values.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i) p[i] = s + static_cast<double>(i) * d;
  return finish(values.to(options.dtype()).to(options.device()), options);
}

Tensor linspace(double start, double end, int64_t steps, const TensorOptions& options) {
  STRIATE_CHECK(steps >= 0, ValueError, "linspace: number of steps must be non-negative, got ", steps);
  Tensor values = empty({steps}, TensorOptions(kDouble));
  double* p = values.data_ptr<double>();
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0;
  // Fill the second half from the end, as PyTorch does, so both endpoints are exact.
  if (steps == 1) p[0] = start;  // PyTorch: the start, not the end
  for (int64_t i = 0; i < steps && steps > 1; ++i)
    p[i] = i < steps / 2 ? start + step * static_cast<double>(i) : end - step * static_cast<double>(steps - 1 - i);
  return finish(values.to(options.dtype()).to(options.device()), options);
}

// ---- host data -------------------------------------------------------------

template <typename T>
Tensor from_vector(const std::vector<T>& data, const Shape& sizes, const TensorOptions& options) {
  check_sizes(sizes, "from_vector");
  STRIATE_CHECK(static_cast<int64_t>(data.size()) == shape_numel(sizes), ShapeError, "from_vector: ", data.size(),
                " values cannot fill a tensor of shape ", sizes, " (", shape_numel(sizes), " elements)");
  Tensor host = empty(sizes, TensorOptions(dtype_of_v<T>));
  if constexpr (std::is_same_v<T, bool>) {
    bool* p = host.data_ptr<bool>();
    for (size_t i = 0; i < data.size(); ++i) p[i] = data[i];
  } else if (!data.empty()) {
    std::memcpy(host.data_ptr(), data.data(), data.size() * sizeof(T));
  }
  return finish(host.to(options.dtype()).to(options.device()), options);
}

template <typename T>
Tensor from_vector(const std::vector<T>& data, const Shape& sizes) {
  return from_vector(data, sizes, TensorOptions(dtype_of_v<T>));
}

#define STRIATE_INSTANTIATE(T)                                                               \
  template Tensor from_vector<T>(const std::vector<T>&, const Shape&, const TensorOptions&); \
  template Tensor from_vector<T>(const std::vector<T>&, const Shape&);
STRIATE_INSTANTIATE(bool)
STRIATE_INSTANTIATE(uint8_t)
STRIATE_INSTANTIATE(int32_t)
STRIATE_INSTANTIATE(int64_t)
STRIATE_INSTANTIATE(Half)
STRIATE_INSTANTIATE(BFloat16)
STRIATE_INSTANTIATE(float)
STRIATE_INSTANTIATE(double)
#undef STRIATE_INSTANTIATE

Tensor from_blob(void* data, const Shape& sizes, const Shape& strides, const TensorOptions& options) {
  check_sizes(sizes, "from_blob");
  STRIATE_CHECK(data != nullptr || shape_numel(sizes) == 0, ValueError, "from_blob: data is null");
  STRIATE_CHECK(sizes.size() == strides.size(), ShapeError, "from_blob: sizes ", sizes, " and strides ", strides,
                " differ in length");
  for (int64_t s : strides)
    STRIATE_CHECK(s >= 0, ShapeError, "from_blob: negative stride ", s, " in ", strides);
  int64_t extent = shape_numel(sizes) == 0 ? 0 : 1;
  for (size_t i = 0; i < sizes.size() && extent; ++i) extent += (sizes[i] - 1) * strides[i];
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(DataPtr{data, nullptr},
                                            static_cast<size_t>(extent) * element_size(options.dtype()),
                                            options.device());
  impl->sizes = sizes;
  impl->strides = strides;
  impl->dtype = options.dtype();
  return finish(Tensor(std::move(impl)), options);
}

Tensor from_blob(void* data, const Shape& sizes, const TensorOptions& options) {
  return from_blob(data, sizes, contiguous_strides(sizes), options);
}

}  // namespace striate
