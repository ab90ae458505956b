// Which implementation runs a GPU op family that has both a hand-written
// kernel (kernels/cuda) and an NVIDIA-library one (cuDNN, or cuBLAS for GEMM).
//
//   striate::set_kernel_backend(striate::OpFamily::Conv, striate::KernelBackend::Auto);  // globally
//   { striate::KernelBackendGuard g(striate::OpFamily::Conv, striate::KernelBackend::Library);
//     y = conv2d(x, w); }                                                             // for these calls
//   STRIATE_CONV_BACKEND=cudnn ./train                                               // by environment
//
// The effective choice is the innermost guard on this thread, else the
// global setting, else the environment variable (read once), else Native.
// Library in a build without that library, or for a case the library does not
// cover, runs the native kernel and says so once on stderr. Auto times both
// implementations the first time it meets a shape (one host synchronisation)
// and uses the faster from then on, as cudnn.benchmark does in PyTorch.
// CPU tensors always run the CPU backend.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace striate {

enum class OpFamily : uint8_t {
  Conv,           // conv1d/conv2d forward, grad input, grad weight   STRIATE_CONV_BACKEND
  Gemm,           // matmul, linear                                    STRIATE_GEMM_BACKEND
  Pooling,        // max/avg pooling                                   STRIATE_POOL_BACKEND
  Normalization,  // batch norm                                        STRIATE_NORM_BACKEND
  Activation,     // relu, sigmoid, tanh, elu                          STRIATE_ACTIVATION_BACKEND
};
constexpr int kNumOpFamilies = 5;

enum class KernelBackend : uint8_t {
  Native,   // Striate's own CUDA kernels (the default)
  Library,  // cuDNN (cuBLAS for Gemm); spelled "cudnn" or "cublas" in the environment
  Auto,     // whichever is faster, measured once per shape
};

void set_kernel_backend(OpFamily family, KernelBackend backend);
KernelBackend kernel_backend(OpFamily family);

// "conv", "gemm", "pooling", "normalization", "activation".
std::string_view op_family_name(OpFamily family);
// "native", "cudnn" / "cublas" (the family's library), "auto".
std::string backend_name(OpFamily family, KernelBackend backend);
// Parses "native", "cudnn", "cublas", "library" or "auto"; ValueError otherwise.
KernelBackend parse_kernel_backend(std::string_view text);
// The environment variable naming the family's backend, e.g. "STRIATE_CONV_BACKEND".
std::string backend_env_var(OpFamily family);
// Whether this build has the family's library (cuDNN or cuBLAS) compiled in.
bool library_backend_compiled(OpFamily family);

// TF32 tensor cores for f32 work on the GPU: inputs rounded to TF32 (10
// mantissa bits, round to nearest), products summed in f32. About 3 decimal
// digits per product instead of 7, for several times the throughput. The
// switch is PyTorch's torch.backends.cudnn.allow_tf32 (Conv) and
// torch.backends.cuda.matmul.allow_tf32 (Gemm), but off by default for both
// here, so that f32 means f32 unless a user asks; STRIATE_ALLOW_TF32 sets the
// default ("1" or "all", "conv", "gemm", "conv,gemm"; "0" or "none").
// It is a permission: a kernel with no TF32 path computes in f32, and the CPU
// always does. A convolution reads it when it runs forward; its backward
// passes follow that choice. Only Conv and Gemm take it (ValueError otherwise).
void set_allow_tf32(OpFamily family, bool allow);
bool allow_tf32(OpFamily family);

// Deterministic algorithms, PyTorch's torch.use_deterministic_algorithms:
// on, every GPU op computes the same bits on every run for the same inputs,
// device and build. Off (the default), a few ops trade that for speed:
// - the native convolution's grad weight splits its long sum across blocks
//   that add into the result with atomics; deterministic, each split writes
//   its own scratch slice and one more pass sums the slices in order;
// - cuDNN convolutions time their candidate algorithms once per shape
//   (cudnnFind) and run the fastest, a choice that can change from run to
//   run; deterministic, the algorithm is cuDNN's heuristic choice (no
//   timing) among those cuDNN marks deterministic;
// - Auto backends time native against the library; deterministic, Auto
//   runs the native kernels (a timed choice could change between runs).
// Every other kernel is deterministic either way (fixed reduction orders,
// no atomics; cuBLAS on one stream is). The CPU always is. STRIATE_DETERMINISTIC
// ("1" or "0") sets the default; a call made before the first use wins.
void use_deterministic_algorithms(bool enabled);
bool are_deterministic_algorithms_enabled();

namespace detail {
struct Tf32Families {
  bool conv = false, gemm = false;
};
// STRIATE_ALLOW_TF32's value (any case); ValueError for anything else.
Tf32Families parse_allow_tf32(std::string_view text);
// STRIATE_DETERMINISTIC's value: "1"/"true"/"on" or "0"/"false"/"off" (any case); ValueError otherwise.
bool parse_deterministic(std::string_view text);
}  // namespace detail

// Sets the backend of one family for the calls made on this thread while it lives.
class KernelBackendGuard {
 public:
  KernelBackendGuard(OpFamily family, KernelBackend backend);
  ~KernelBackendGuard();
  KernelBackendGuard(const KernelBackendGuard&) = delete;
  KernelBackendGuard& operator=(const KernelBackendGuard&) = delete;

 private:
  OpFamily family_;
  int previous_;  // the thread's earlier override, or -1 for none
};

}  // namespace striate
