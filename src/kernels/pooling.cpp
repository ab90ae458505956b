// The pooling tables: which backend implements them on which device.
#include "kernels/pooling.h"

#include <algorithm>
#include <cstdint>

namespace striate::kernels {

const Kernel<MaxPool2dFn> max_pool2d_kernel{"max_pool2d",
                                            {&cpu::max_pool2d, STRIATE_CUDA_ENTRY(&cuda::max_pool2d)},
                                            STRIATE_CUDNN_ENTRY(&cudnn::max_pool2d),
                                            OpFamily::Pooling};
const Kernel<MaxPoolBackwardFn> max_pool_backward_kernel{
    "max_pool backward", {&cpu::max_pool_backward, STRIATE_CUDA_ENTRY(&cuda::max_pool_backward)}};
const Kernel<AvgPool2dFn> avg_pool2d_kernel{"avg_pool2d",
                                            {&cpu::avg_pool2d, STRIATE_CUDA_ENTRY(&cuda::avg_pool2d)},
                                            STRIATE_CUDNN_ENTRY(&cudnn::avg_pool2d),
                                            OpFamily::Pooling};
const Kernel<AvgPool2dBackwardFn> avg_pool2d_backward_kernel{
    "avg_pool2d backward",
    {&cpu::avg_pool2d_backward, STRIATE_CUDA_ENTRY(&cuda::avg_pool2d_backward)},
    STRIATE_CUDNN_ENTRY(&cudnn::avg_pool2d_backward),
    OpFamily::Pooling};
const Kernel<AdaptivePool2dFn> adaptive_avg_pool2d_kernel{
    "adaptive_avg_pool2d", {&cpu::adaptive_avg_pool2d, STRIATE_CUDA_ENTRY(&cuda::adaptive_avg_pool2d)}};
const Kernel<AdaptiveAvgPool2dBackwardFn> adaptive_avg_pool2d_backward_kernel{
    "adaptive_avg_pool2d backward",
    {&cpu::adaptive_avg_pool2d_backward, STRIATE_CUDA_ENTRY(&cuda::adaptive_avg_pool2d_backward)}};
const Kernel<AdaptivePool2dFn> adaptive_max_pool2d_kernel{
    "adaptive_max_pool2d", {&cpu::adaptive_max_pool2d, STRIATE_CUDA_ENTRY(&cuda::adaptive_max_pool2d)}};
const Kernel<MaxPool2dLibraryBackwardFn> max_pool2d_library_backward_kernel{
    "max_pool2d backward (cuDNN)", {nullptr, nullptr}, STRIATE_CUDNN_ENTRY(&cudnn::max_pool2d_backward),
    OpFamily::Pooling};

std::vector<int64_t> pool_key(const Pool2dShape& s, const Pool2dWindow& w, DType dtype, bool count_include_pad,
                              int64_t divisor_override) {
  return {static_cast<int64_t>(dtype), s.planes, s.in_h, s.in_w, s.out_h, s.out_w, s.pixel_stride, w.kernel_h,
          w.kernel_w, w.stride_h, w.stride_w, w.pad_h, w.pad_w, w.dilation_h, w.dilation_w,
          count_include_pad ? 1 : 0, divisor_override};
}

const char* library_pool_limit(const Pool2dShape& s, const Pool2dWindow& w, int64_t divisor_override) {
  if (w.dilation_h != 1 || w.dilation_w != 1) return "dilation > 1";
  if (divisor_override != 0) return "divisor_override";
  const auto floor_out = [](int64_t in, int64_t kernel, int64_t pad, int64_t stride) {
    return (in + 2 * pad - kernel) / stride + 1;
  };
  if (s.in_h + 2 * w.pad_h < w.kernel_h || s.in_w + 2 * w.pad_w < w.kernel_w)
    return "a window larger than the padded input (ceil_mode)";
  if (floor_out(s.in_h, w.kernel_h, w.pad_h, w.stride_h) != s.out_h ||
      floor_out(s.in_w, w.kernel_w, w.pad_w, w.stride_w) != s.out_w)
    return "a ceil_mode output size (cuDNN's is floor mode)";
  if (std::max(s.in_h * s.in_w, s.out_h * s.out_w) * s.pixel_stride > INT32_MAX)
    return s.pixel_stride == 1 ? "a plane beyond 32-bit sizes" : "an image beyond 32-bit sizes";
  return nullptr;
}

int64_t library_pool_planes_per_call(const Pool2dShape& s) {
  const int64_t image = std::max<int64_t>({s.in_h * s.in_w, s.out_h * s.out_w, 1}) * s.pixel_stride;
  return std::max<int64_t>(1, std::min<int64_t>(65535, INT32_MAX / image)) * s.pixel_stride;
}

}  // namespace striate::kernels
