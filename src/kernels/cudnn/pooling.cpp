// Max and average pooling through cuDNN's pooling API: the Library backend
// of OpFamily::Pooling.
//
// The op layer's [planes, H, W] block is described as NCHW images of one
// channel, or when channels-last as NHWC images of C channels, in as many
// calls as 32-bit counts and cuDNN's image limit need
// (library_pool_planes_per_call; one call for any ordinary network). Max
// pooling is CUDNN_POOLING_MAX_DETERMINISTIC, so its backward does not depend
// on scheduling; NaN propagates, so a window holding a NaN gives NaN as on
// the CPU. Three things are cuDNN's own and not the CPU's: the backward of a
// window with tied maxima, or with a NaN, may send its gradient to another
// of those positions (cuDNN finds the maximum again from x and y; the CPU
// uses the first maximum, or the last NaN); cuDNN's max padding is the
// dtype's lowest finite value, not -inf, so a window reaching into the
// padding whose inputs are all -inf gives that value; and sums come in
// cuDNN's order.
#ifdef STRIATE_WITH_CUDNN

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>

#include "kernels/cudnn/library.h"
#include "kernels/pooling.h"

namespace striate::kernels::cudnn {
namespace {

// The descriptors of one call over `planes` planes, destroyed with it.
struct Descriptors {
  cudnnPoolingDescriptor_t pool = nullptr;
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;

  Descriptors(cudnnPoolingMode_t mode, const Pool2dShape& s, const Pool2dWindow& w, DType dtype, int64_t planes) {
    const cudnnDataType_t t = float_data_type(dtype, "cuDNN pooling");
    const auto i = [](int64_t v) { return static_cast<int>(v); };
    STRIATE_CUDNN_CHECK(cudnnCreatePoolingDescriptor(&pool));
    STRIATE_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    STRIATE_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y));
    STRIATE_CUDNN_CHECK(cudnnSetPooling2dDescriptor(pool, mode, CUDNN_PROPAGATE_NAN, i(w.kernel_h), i(w.kernel_w),
                                                    i(w.pad_h), i(w.pad_w), i(w.stride_h), i(w.stride_w)));
    // planes is a multiple of pixel_stride (whole images) when channels-last.
    const int64_t c = s.pixel_stride;
    const cudnnTensorFormat_t format = c == 1 ? CUDNN_TENSOR_NCHW : CUDNN_TENSOR_NHWC;
    STRIATE_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x, format, t, i(planes / c), i(c), i(s.in_h), i(s.in_w)));
    STRIATE_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y, format, t, i(planes / c), i(c), i(s.out_h), i(s.out_w)));
  }
  ~Descriptors() {
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroyPoolingDescriptor(pool);
  }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;
};

// `base` advanced by `planes` planes of `plane` elements (whole images when
// channels-last, which take as many elements as their planes do in NCHW).
template <typename P>
P* planes_on(P* base, int64_t planes, int64_t plane, DType dtype) {
  using Byte = std::conditional_t<std::is_const_v<P>, const char, char>;
  return reinterpret_cast<Byte*>(base) + planes * plane * static_cast<int64_t>(element_size(dtype));
}

// Calls f(first plane, descriptors) for each cuDNN call the block needs.
template <typename F>
void for_each_call(cudnnPoolingMode_t mode, const Pool2dShape& s, const Pool2dWindow& w, DType dtype, F&& f) {
  const int64_t per_call = library_pool_planes_per_call(s);
  for (int64_t first = 0; first < s.planes; first += per_call) {
    const int64_t planes = std::min(per_call, s.planes - first);
    const Descriptors d(mode, s, w, dtype, planes);
    f(first, d);
  }
}

void pool_forward(cudnnPoolingMode_t mode, const Pool2dShape& s, const Pool2dWindow& w, DType dtype, const void* x,
                  void* y) {
  cudnnHandle_t h = cudnn_handle();
  const int64_t in_plane = s.in_h * s.in_w, out_plane = s.out_h * s.out_w;
  for_each_call(mode, s, w, dtype, [&](int64_t first, const Descriptors& d) {
    STRIATE_CUDNN_CHECK(cudnnPoolingForward(h, d.pool, scaling_one(dtype), d.x, planes_on(x, first, in_plane, dtype),
                                            scaling_zero(dtype), d.y, planes_on(y, first, out_plane, dtype)));
  });
}

void pool_backward(cudnnPoolingMode_t mode, const Pool2dShape& s, const Pool2dWindow& w, DType dtype, const void* x,
                   const void* y, const void* dy, void* dx) {
  cudnnHandle_t h = cudnn_handle();
  const int64_t in_plane = s.in_h * s.in_w, out_plane = s.out_h * s.out_w;
  for_each_call(mode, s, w, dtype, [&](int64_t first, const Descriptors& d) {
    STRIATE_CUDNN_CHECK(cudnnPoolingBackward(h, d.pool, scaling_one(dtype), d.y, planes_on(y, first, out_plane, dtype),
                                             d.y, planes_on(dy, first, out_plane, dtype), d.x,
                                             planes_on(x, first, in_plane, dtype), scaling_zero(dtype), d.x,
                                             planes_on(dx, first, in_plane, dtype)));
  });
}

cudnnPoolingMode_t avg_mode(bool count_include_pad) {
  return count_include_pad ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
}

// Whether cuDNN must leave this call to the native kernel (said once, with the reason).
bool use_native(const char* limit, const char* op) {
  if (limit == nullptr) return false;
  registry::log_once(std::string("striate: cuDNN ") + op + ": " + limit +
                     " is not supported; running the native kernel");
  return true;
}

const char* pool_limit(const Pool2dShape& s, const Pool2dWindow& w, int64_t divisor_override, DType dtype) {
  if (dtype != DType::F32 && dtype != DType::F64) return "a dtype other than f32 and f64";
  return library_pool_limit(s, w, divisor_override);
}

}  // namespace

void max_pool2d(const MaxPool2dParams& p) {
  const char* limit = pool_limit(p.shape, p.window, 0, p.dtype);
  if (limit == nullptr && p.indices != nullptr) limit = "returning indices";
  if (use_native(limit, "max_pool2d")) return cuda::max_pool2d(p);
  if (p.shape.planes == 0) return;
  pool_forward(CUDNN_POOLING_MAX_DETERMINISTIC, p.shape, p.window, p.dtype, p.input, p.output);
}

void max_pool2d_backward(const MaxPool2dLibraryBackwardParams& p) {
  // The op layer takes this path only when the forward ran through cuDNN, so
  // there is no native kernel to hand it to (it would need indices).
  const char* limit = pool_limit(p.shape, p.window, 0, p.dtype);
  if (limit != nullptr)
    throw NotImplementedError(std::string("cuDNN max_pool2d backward: ") + limit + " is not supported");
  if (p.shape.planes == 0) return;
  pool_backward(CUDNN_POOLING_MAX_DETERMINISTIC, p.shape, p.window, p.dtype, p.input, p.output, p.grad_out,
                p.grad_input);
}

void avg_pool2d(const AvgPool2dParams& p) {
  if (use_native(pool_limit(p.shape, p.window, p.divisor_override, p.dtype), "avg_pool2d"))
    return cuda::avg_pool2d(p);
  if (p.shape.planes == 0) return;
  pool_forward(avg_mode(p.count_include_pad), p.shape, p.window, p.dtype, p.input, p.output);
}

void avg_pool2d_backward(const AvgPool2dBackwardParams& p) {
  const char* limit = pool_limit(p.shape, p.window, p.divisor_override, p.dtype);
  if (limit == nullptr && (p.input == nullptr || p.output == nullptr))
    limit = "a backward whose forward kept no input and output";
  if (use_native(limit, "avg_pool2d backward")) return cuda::avg_pool2d_backward(p);
  if (p.shape.planes == 0) return;
  pool_backward(avg_mode(p.count_include_pad), p.shape, p.window, p.dtype, p.input, p.output, p.grad_out,
                p.grad_input);
}

}  // namespace striate::kernels::cudnn

#endif
