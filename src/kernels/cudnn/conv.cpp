// Convolutions through cuDNN 9's convolution API: the peer every native
// kernel is compared with, and the Library backend of OpFamily::Conv.
//
// Each (pass, shape, dtype, device) is searched once by
// cudnnFind*AlgorithmEx, which times cuDNN's candidates on the real buffers;
// later calls run the fastest of the ranking it gives, falling back to the
// next when a workspace cannot be allocated. With deterministic algorithms
// (ConvParams::deterministic) the ranking is cudnnGet*Algorithm_v7's
// instead, cuDNN's heuristic order, which no timing noise can change, kept
// to the algorithms cuDNN marks CUDNN_DETERMINISTIC: the same algorithm, and
// so the same bits, on every run. Math is CUDNN_FMA_MATH, true
// f32, unless the params allow TF32 (then CUDNN_DEFAULT_MATH, and each
// algorithm runs with the math type Find timed), so a comparison with the
// native kernels is like for like either way. Workspaces come from the
// caching allocator. NCHW and NHWC (the descriptors' format). cuDNN pads
// symmetrically: a "same" convolution with an even kernel (more padding
// after than before) runs the native kernel, as does a case cuDNN has no
// algorithm for; conv2d_native_runs() counts those runs.
#ifdef STRIATE_WITH_CUDNN

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
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

thread_local int64_t native_runs = 0;

// Says once why `pass` runs the native kernel, and counts the run.
void say_native(const char* pass, const char* reason) {
  ++native_runs;
  registry::log_once(std::string("striate: cuDNN ") + pass + ": " + reason + "; running the native kernel");
}

bool use_native(const ConvParams& p, const char* pass) {
  if (supported(p)) return false;
  say_native(pass, "asymmetric padding (or a size or dtype cuDNN does not take)");
  return true;
}

enum class Pass { Forward, GradInput, GradWeight };

// One algorithm that Find ran successfully, and what it needs.
struct Algorithm {
  int algo;  // the pass's cudnn*Algo_t
  size_t workspace;
  cudnnMathType_t math;
};
// Find's working algorithms, fastest first; empty when cuDNN has none for
// the case (some layout and dtype pairs).
using Ranking = std::vector<Algorithm>;

std::vector<int64_t> key_of(const ConvParams& p, Pass pass) {
  std::vector<int64_t> key = conv_key(p);
  key.push_back(static_cast<int64_t>(pass));
  key.push_back(striate::cuda::current_device());
  return key;
}

std::mutex cache_mutex;
std::map<std::vector<int64_t>, Ranking>& rankings() {
  static std::map<std::vector<int64_t>, Ranking> cache;
  return cache;
}

// The cached ranking for `key`, or find() run once (outside the lock: it
// launches work). Entries are never erased, so the reference stays valid.
template <typename Find>
const Ranking& ranking_for(const std::vector<int64_t>& key, Find&& find) {
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    const auto it = rankings().find(key);
    if (it != rankings().end()) return it->second;
  }
  Ranking found = find();
  std::lock_guard<std::mutex> lock(cache_mutex);
  return rankings().emplace(key, std::move(found)).first->second;
}

// The successful results of a Find or Get_v7 call (cuDNN sorts them fastest
// first, measured or expected). Without TF32, an f32 convolution keeps only
// algorithms that do not use tensor-op math (which would round to TF32) and
// runs them with FMA math; otherwise each runs with the math type cuDNN gave
// it, as PyTorch does. Deterministic params keep only deterministic ones.
template <typename Perf>
Ranking ranked(cudnnStatus_t status, const Perf* results, int count, const ConvParams& p) {
  if (not_supported(status)) return {};
  if (status != CUDNN_STATUS_SUCCESS)
    throw_cudnn_error(status, "cudnnFind*AlgorithmEx / cudnnGet*Algorithm_v7", __FILE__, __LINE__);
  const bool exact_f32 = p.dtype == DType::F32 && !p.allow_tf32;
  Ranking ranking;
  for (int i = 0; i < count; ++i) {
    const Perf& r = results[i];
    if (r.status != CUDNN_STATUS_SUCCESS) continue;
    const bool tensor_op = r.mathType == CUDNN_TENSOR_OP_MATH || r.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
    if (exact_f32 && tensor_op) continue;
    if (p.deterministic && r.determinism != CUDNN_DETERMINISTIC) continue;
    ranking.push_back({static_cast<int>(r.algo), r.memory, exact_f32 ? CUDNN_FMA_MATH : r.mathType});
  }
  return ranking;
}

// Runs the fastest algorithm of `ranking` that can run now, through
// execute(algo, workspace) -> cudnnStatus_t. One whose workspace the caching
// allocator cannot give (even after emptying its cache), or that cuDNN
// refuses at run time, gives way to the next. False when none ran.
template <typename Execute>
bool run_fastest(const Ranking& ranking, cudnnConvolutionDescriptor_t conv, const char* pass, Execute&& execute) {
  for (const Algorithm& a : ranking) {
    std::optional<Workspace> scratch;
    try {
      scratch.emplace(a.workspace);
    } catch (const OutOfMemoryError&) {
      registry::log_once(std::string("striate: cuDNN ") + pass +
                         ": no memory for the fastest algorithm's workspace; trying a slower algorithm");
      continue;
    }
    STRIATE_CUDNN_CHECK(cudnnSetConvolutionMathType(conv, a.math));
    const cudnnStatus_t status = execute(a.algo, *scratch);
    if (status == CUDNN_STATUS_SUCCESS) return true;
    if (!not_supported(status) && status != CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED)
      throw_cudnn_error(status, pass, __FILE__, __LINE__);
  }
  say_native(pass, ranking.empty() ? "no algorithm for this convolution (layout, dtype or size)"
                                   : "no algorithm could run (workspace memory, or refused at run time)");
  return false;
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

int64_t conv2d_native_runs() { return native_runs; }

void conv2d_forward(const ConvParams& p, const void* input, const void* weight, const void* bias, void* output) {
  constexpr const char* pass = "conv2d forward";
  if (use_native(p, pass)) return cuda::conv2d_forward(p, input, weight, bias, output);
  if (p.batch == 0) return;
  cudnnHandle_t h = cudnn_handle();
  const Descriptors d(p);
  const Ranking& ranking = ranking_for(key_of(p, Pass::Forward), [&] {
    constexpr int kMax = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
    cudnnConvolutionFwdAlgoPerf_t results[kMax];
    int found = 0;
    if (p.deterministic)
      return ranked(cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y, kMax, &found, results), results,
                    found, p);
    Workspace scratch = find_workspace();
    const cudnnStatus_t status = cudnnFindConvolutionForwardAlgorithmEx(
        h, d.x, input, d.w, weight, d.conv, d.y, output, kMax, &found, results, scratch.data(), scratch.size());
    return ranked(status, results, found, p);
  });
  const bool ran = run_fastest(ranking, d.conv, pass, [&](int algo, const Workspace& scratch) {
    return cudnnConvolutionForward(h, scaling_one(p.dtype), d.x, input, d.w, weight, d.conv,
                                   static_cast<cudnnConvolutionFwdAlgo_t>(algo), scratch.data(), scratch.size(),
                                   scaling_zero(p.dtype), d.y, output);
  });
  if (!ran) return cuda::conv2d_forward(p, input, weight, bias, output);
  if (bias != nullptr)
    STRIATE_CUDNN_CHECK(cudnnAddTensor(h, scaling_one(p.dtype), d.bias, bias, scaling_one(p.dtype), d.y, output));
}

void conv2d_grad_input(const ConvParams& p, const void* weight, const void* grad_output, void* grad_input) {
  constexpr const char* pass = "conv2d grad input";
  if (use_native(p, pass)) return cuda::conv2d_grad_input(p, weight, grad_output, grad_input);
  if (p.batch == 0) return;
  cudnnHandle_t h = cudnn_handle();
  const Descriptors d(p);
  const Ranking& ranking = ranking_for(key_of(p, Pass::GradInput), [&] {
    constexpr int kMax = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
    cudnnConvolutionBwdDataAlgoPerf_t results[kMax];
    int found = 0;
    if (p.deterministic)
      return ranked(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w, d.y, d.conv, d.x, kMax, &found, results),
                    results, found, p);
    Workspace scratch = find_workspace();
    const cudnnStatus_t status =
        cudnnFindConvolutionBackwardDataAlgorithmEx(h, d.w, weight, d.y, grad_output, d.conv, d.x, grad_input, kMax,
                                                    &found, results, scratch.data(), scratch.size());
    return ranked(status, results, found, p);
  });
  const bool ran = run_fastest(ranking, d.conv, pass, [&](int algo, const Workspace& scratch) {
    return cudnnConvolutionBackwardData(h, scaling_one(p.dtype), d.w, weight, d.y, grad_output, d.conv,
                                        static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), scratch.data(),
                                        scratch.size(), scaling_zero(p.dtype), d.x, grad_input);
  });
  if (!ran) cuda::conv2d_grad_input(p, weight, grad_output, grad_input);
}

void conv2d_grad_weight(const ConvParams& p, const void* input, const void* grad_output, void* grad_weight,
                        void* grad_bias) {
  constexpr const char* pass = "conv2d grad weight";
  if (use_native(p, pass)) return cuda::conv2d_grad_weight(p, input, grad_output, grad_weight, grad_bias);
  if (p.batch == 0) return cuda::conv2d_grad_weight(p, input, grad_output, grad_weight, grad_bias);  // zeros
  cudnnHandle_t h = cudnn_handle();
  const Descriptors d(p);
  if (grad_weight != nullptr) {
    const Ranking& ranking = ranking_for(key_of(p, Pass::GradWeight), [&] {
      constexpr int kMax = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
      cudnnConvolutionBwdFilterAlgoPerf_t results[kMax];
      int found = 0;
      if (p.deterministic)
        return ranked(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.x, d.y, d.conv, d.w, kMax, &found, results),
                      results, found, p);
      Workspace scratch = find_workspace();
      const cudnnStatus_t status =
          cudnnFindConvolutionBackwardFilterAlgorithmEx(h, d.x, input, d.y, grad_output, d.conv, d.w, grad_weight,
                                                        kMax, &found, results, scratch.data(), scratch.size());
      return ranked(status, results, found, p);
    });
    const bool ran = run_fastest(ranking, d.conv, pass, [&](int algo, const Workspace& scratch) {
      return cudnnConvolutionBackwardFilter(h, scaling_one(p.dtype), d.x, input, d.y, grad_output, d.conv,
                                            static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), scratch.data(),
                                            scratch.size(), scaling_zero(p.dtype), d.w, grad_weight);
    });
    if (!ran) return cuda::conv2d_grad_weight(p, input, grad_output, grad_weight, grad_bias);
  }
  if (grad_bias != nullptr)
    STRIATE_CUDNN_CHECK(cudnnConvolutionBackwardBias(h, scaling_one(p.dtype), d.y, grad_output, scaling_zero(p.dtype),
                                                     d.bias, grad_bias));
}

}  // namespace striate::kernels::cudnn

#endif
