// Convolutions through cuDNN 9's convolution API: the peer every native
// kernel is compared with, and the Library backend of OpFamily::Conv.
//
// Each (pass, shape, dtype, device) gets its algorithm once from
// cudnnFind*AlgorithmEx, which times cuDNN's candidates on the real buffers;
// later calls reuse it. Math is CUDNN_FMA_MATH, true f32, unless the
// params allow TF32 (then CUDNN_DEFAULT_MATH), so a comparison with the
// native kernels is like for like either way. Workspaces come
// from the caching allocator. NCHW and NHWC (the descriptors' format). cuDNN
// pads symmetrically: a "same" convolution with an even kernel (more padding
// after than before) runs the native kernel, as does a case Find has no
// algorithm for.
#ifdef STRIATE_WITH_CUDNN

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "kernels/conv.h"
#include "kernels/cudnn/library.h"
#include "striate/core/cuda.h"

namespace striate::kernels::cudnn {
namespace {

// Find may try algorithms up to this much scratch memory.
constexpr size_t kMaxWorkspace = size_t{1} << 30;

// The descriptors of one convolution, destroyed with it.
struct Descriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;

  explicit Descriptors(const ConvParams& p) {
    const cudnnDataType_t t = float_data_type(p.dtype, "cuDNN conv2d");
    const auto i = [](int64_t v) { return static_cast<int>(v); };
    STRIATE_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    STRIATE_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y));
    STRIATE_CUDNN_CHECK(cudnnCreateTensorDescriptor(&bias));
    STRIATE_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w));
    STRIATE_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
    // The sizes are always given N, C, H, W; the format says how they lie
    // in memory (an NHWC filter is OHWI, cuDNN's KRSC).
    const cudnnTensorFormat_t layout = p.channels_last ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
    STRIATE_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x, layout, t, i(p.batch), i(p.channels), i(p.height), i(p.width)));
    STRIATE_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y, layout, t, i(p.batch), i(p.out_channels), i(p.out_h),
                                                   i(p.out_w)));
    STRIATE_CUDNN_CHECK(cudnnSetTensor4dDescriptor(bias, CUDNN_TENSOR_NCHW, t, 1, i(p.out_channels), 1, 1));
    STRIATE_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w, t, layout, i(p.out_channels),
                                                   i(p.channels / p.groups), i(p.kernel_h), i(p.kernel_w)));
    STRIATE_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv, i(p.pad_top), i(p.pad_left), i(p.stride_h),
                                                        i(p.stride_w), i(p.dilation_h), i(p.dilation_w),
                                                        CUDNN_CROSS_CORRELATION, t));
    STRIATE_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv, i(p.groups)));
    // FMA math is true f32; default math lets cuDNN pick TF32 tensor-core
    // algorithms for f32 (on sm_80 and later), as PyTorch's allow_tf32 does.
    const bool tf32 = p.allow_tf32 && p.dtype == DType::F32;
    STRIATE_CUDNN_CHECK(cudnnSetConvolutionMathType(conv, tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
  }
  ~Descriptors() {
    cudnnDestroyConvolutionDescriptor(conv);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyTensorDescriptor(bias);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(x);
  }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;
};

// Whether cuDNN's symmetric padding gives our output size, and the sizes fit its ints.
bool supported(const ConvParams& p) {
  const auto out = [](int64_t in, int64_t pad, int64_t kernel, int64_t stride, int64_t dilation) {
    return (in + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1;
  };
  const int64_t largest = std::max({p.batch * p.channels * p.height * p.width,
                                    p.batch * p.out_channels * p.out_h * p.out_w});
  return out(p.height, p.pad_top, p.kernel_h, p.stride_h, p.dilation_h) == p.out_h &&
         out(p.width, p.pad_left, p.kernel_w, p.stride_w, p.dilation_w) == p.out_w && largest <= INT32_MAX &&
         (p.dtype == DType::F32 || p.dtype == DType::F64);
}

bool use_native(const ConvParams& p, const char* pass) {
  if (supported(p)) return false;
  registry::log_once(std::string("striate: cuDNN ") + pass +
                   ": asymmetric padding (or a size or dtype cuDNN does not take); running the native kernel");
  return true;
}

enum class Pass { Forward, GradInput, GradWeight };

struct Choice {
  int algo;  // the pass's cudnn*Algo_t, or kNative
  size_t workspace;
};
// cuDNN has no algorithm for the case (some layout and dtype pairs): the
// native kernel runs instead.
constexpr int kNative = -1;

std::vector<int64_t> key_of(const ConvParams& p, Pass pass) {
  std::vector<int64_t> key = conv_key(p);
  key.push_back(static_cast<int64_t>(pass));
  key.push_back(striate::cuda::current_device());
  return key;
}

std::mutex cache_mutex;
std::map<std::vector<int64_t>, Choice>& choices() {
  static std::map<std::vector<int64_t>, Choice> cache;
  return cache;
}

// The cached choice for `key`, or find() run once (outside the lock: it launches work).
template <typename Find>
Choice choose(const std::vector<int64_t>& key, Find&& find) {
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    const auto it = choices().find(key);
    if (it != choices().end()) return it->second;
  }
  const Choice c = find();
  std::lock_guard<std::mutex> lock(cache_mutex);
  return choices().emplace(key, c).first->second;
}

// The fastest successful result of a Find call, or kNative when none works.
template <typename Perf>
Choice best_of(cudnnStatus_t status, const Perf* results, int count, const char* pass) {
  if (status != CUDNN_STATUS_SUCCESS && status != CUDNN_STATUS_NOT_SUPPORTED)
    throw_cudnn_error(status, "cudnnFind*AlgorithmEx", __FILE__, __LINE__);
  for (int i = 0; status == CUDNN_STATUS_SUCCESS && i < count; ++i)
    if (results[i].status == CUDNN_STATUS_SUCCESS) return {static_cast<int>(results[i].algo), results[i].memory};
  registry::log_once(std::string("striate: cuDNN ") + pass +
                     ": no algorithm for this convolution (layout, dtype or size); running the native kernel");
  return {kNative, 0};
}

// Scratch for Find to try algorithms in: kMaxWorkspace, or less when the GPU
// cannot spare that much (algorithms needing more are then skipped).
Workspace find_workspace() {
  for (size_t bytes = kMaxWorkspace;; bytes /= 4) {
    try {
      return Workspace(bytes);
    } catch (const OutOfMemoryError&) {
      if (bytes < (size_t{1} << 20)) return Workspace(0);
    }
  }
}

}  // namespace

void conv2d_forward(const ConvParams& p, const void* input, const void* weight, const void* bias, void* output) {
  if (use_native(p, "conv2d forward")) return cuda::conv2d_forward(p, input, weight, bias, output);
  if (p.batch == 0) return;
  cudnnHandle_t h = cudnn_handle();
  const Descriptors d(p);
  const Choice c = choose(key_of(p, Pass::Forward), [&] {
    Workspace scratch = find_workspace();
    constexpr int kMax = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
    cudnnConvolutionFwdAlgoPerf_t results[kMax];
    int found = 0;
    const cudnnStatus_t status = cudnnFindConvolutionForwardAlgorithmEx(
        h, d.x, input, d.w, weight, d.conv, d.y, output, kMax, &found, results, scratch.data(), scratch.size());
    return best_of(status, results, found, "conv2d forward");
  });
  if (c.algo == kNative) return cuda::conv2d_forward(p, input, weight, bias, output);
  Workspace scratch(c.workspace);
  STRIATE_CUDNN_CHECK(cudnnConvolutionForward(h, scaling_one(p.dtype), d.x, input, d.w, weight, d.conv,
                                              static_cast<cudnnConvolutionFwdAlgo_t>(c.algo), scratch.data(),
                                              scratch.size(), scaling_zero(p.dtype), d.y, output));
  if (bias != nullptr)
    STRIATE_CUDNN_CHECK(cudnnAddTensor(h, scaling_one(p.dtype), d.bias, bias, scaling_one(p.dtype), d.y, output));
}

void conv2d_grad_input(const ConvParams& p, const void* weight, const void* grad_output, void* grad_input) {
  if (use_native(p, "conv2d grad input")) return cuda::conv2d_grad_input(p, weight, grad_output, grad_input);
  if (p.batch == 0) return;
  cudnnHandle_t h = cudnn_handle();
  const Descriptors d(p);
  const Choice c = choose(key_of(p, Pass::GradInput), [&] {
    Workspace scratch = find_workspace();
    constexpr int kMax = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
    cudnnConvolutionBwdDataAlgoPerf_t results[kMax];
    int found = 0;
    const cudnnStatus_t status =
        cudnnFindConvolutionBackwardDataAlgorithmEx(h, d.w, weight, d.y, grad_output, d.conv, d.x, grad_input, kMax,
                                                    &found, results, scratch.data(), scratch.size());
    return best_of(status, results, found, "conv2d grad input");
  });
  if (c.algo == kNative) return cuda::conv2d_grad_input(p, weight, grad_output, grad_input);
  Workspace scratch(c.workspace);
  STRIATE_CUDNN_CHECK(cudnnConvolutionBackwardData(h, scaling_one(p.dtype), d.w, weight, d.y, grad_output, d.conv,
                                                   static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo), scratch.data(),
                                                   scratch.size(), scaling_zero(p.dtype), d.x, grad_input));
}

void conv2d_grad_weight(const ConvParams& p, const void* input, const void* grad_output, void* grad_weight,
                        void* grad_bias) {
  if (use_native(p, "conv2d grad weight"))
    return cuda::conv2d_grad_weight(p, input, grad_output, grad_weight, grad_bias);
  if (p.batch == 0) return cuda::conv2d_grad_weight(p, input, grad_output, grad_weight, grad_bias);  // zeros
  cudnnHandle_t h = cudnn_handle();
  const Descriptors d(p);
  if (grad_weight != nullptr) {
    const Choice c = choose(key_of(p, Pass::GradWeight), [&] {
      Workspace scratch = find_workspace();
      constexpr int kMax = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
      cudnnConvolutionBwdFilterAlgoPerf_t results[kMax];
      int found = 0;
      const cudnnStatus_t status =
          cudnnFindConvolutionBackwardFilterAlgorithmEx(h, d.x, input, d.y, grad_output, d.conv, d.w, grad_weight,
                                                        kMax, &found, results, scratch.data(), scratch.size());
      return best_of(status, results, found, "conv2d grad weight");
    });
    if (c.algo == kNative) return cuda::conv2d_grad_weight(p, input, grad_output, grad_weight, grad_bias);
    Workspace scratch(c.workspace);
    STRIATE_CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, scaling_one(p.dtype), d.x, input, d.y, grad_output, d.conv,
                                                       static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo),
                                                       scratch.data(), scratch.size(), scaling_zero(p.dtype), d.w,
                                                       grad_weight));
  }
  if (grad_bias != nullptr)
    STRIATE_CUDNN_CHECK(cudnnConvolutionBackwardBias(h, scaling_one(p.dtype), d.y, grad_output, scaling_zero(p.dtype),
                                                     d.bias, grad_bias));
}

}  // namespace striate::kernels::cudnn

#endif
