// What the kernel benchmarks measure: the convolution shape suites, the GEMM
// shapes and the memory-bound kernels, with the FLOPs and bytes each case is
// counted as. Pure data (tested on the CPU); the runners build tensors from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/conv.h"
#include "kernels/gemm.h"

namespace striate::bench {

// ---- convolutions --------------------------------------------------------------

// The three passes of a convolution; each costs the same multiply-adds.
enum class ConvPass { Forward, GradInput, GradWeight };
inline constexpr ConvPass kConvPasses[] = {ConvPass::Forward, ConvPass::GradInput, ConvPass::GradWeight};
const char* pass_name(ConvPass pass);  // "forward", "grad input", "grad weight"
const char* pass_tag(ConvPass pass);   // "fwd", "dgrad", "wgrad" (chart labels)

struct ConvCase {
  std::string suite;  // "resnet50", ...
  std::string name;   // the layer, e.g. "layer3 3x3/2 256-256 @28"
  kernels::ConvParams params;
};

// An f32 NCHW convolution of a square `size` input with a square kernel,
// symmetric padding, no dilation.
kernels::ConvParams conv_params(int64_t batch, int64_t channels, int64_t size, int64_t out_channels, int64_t kernel,
                                int64_t stride, int64_t pad, int64_t groups = 1);

// FLOPs of one pass: 2 * N * O * oH * oW * (C / groups) * kH * kW (a
// multiply-add is two; the bias is not counted).
double conv_flops(const kernels::ConvParams& p);

// "32x256x56x56 * 64x256x1x1 /1 p0" : input, weight, stride and padding.
std::string conv_shape(const kernels::ConvParams& p);
// "NCHW" or "NHWC" (p.channels_last: NHWC tensors, OHWI weights).
const char* layout_name(const kernels::ConvParams& p);
// The case in both layouts: NCHW first, then NHWC.
std::vector<ConvCase> in_layouts(const std::vector<ConvCase>& cases, bool nchw, bool nhwc);
// "f32", or "tf32" where the case allows TF32 tensor cores (both implementations).
const char* math_name(const kernels::ConvParams& p);
// The cases in f32, then (tf32) again with allow_tf32 set.
std::vector<ConvCase> in_maths(const std::vector<ConvCase>& cases, bool f32, bool tf32);

// lenet5 (batch 64, 28x28 as Fashion-MNIST), alexnet, vgg16 (every distinct
// 3x3 layer), resnet50 (every distinct convolution), depthwise (MobileNetV2's
// 3x3 depthwise layers); batch 32 but for LeNet. `full` adds ResNet-50 at
// batch 256. An unknown name is a ValueError.
std::vector<std::string> conv_suite_names();
std::vector<ConvCase> conv_suite(const std::string& name, bool full = false);

// ---- GEMM ------------------------------------------------------------------------

// Row-major C[m, n] = op(A) op(B); A is stored [k, m] when trans_a, B [n, k]
// when trans_b (a Linear layer's weight is [out, in]).
struct GemmCase {
  std::string name;
  int64_t m, n, k;
  bool trans_a = false, trans_b = false;
};

// Square 512..8192 and the three GEMMs of a Linear(2048, 1000) at batch 256.
std::vector<GemmCase> gemm_cases();
double gemm_flops(const GemmCase& c);  // 2 m n k
// The f32 kernel parameters of a case over contiguous operands a, b, c.
kernels::GemmParams gemm_params(const GemmCase& c, const void* a, const void* b, void* out);
// Elements of the stored A, B and C.
int64_t gemm_a_elements(const GemmCase& c);
int64_t gemm_b_elements(const GemmCase& c);
int64_t gemm_c_elements(const GemmCase& c);

// ---- memory-bound kernels -------------------------------------------------------------

enum class MemoryOp {
  Relu,
  ReluBackward,
  Add,
  MaxPool,
  MaxPoolBackward,
  BatchNorm,
  BatchNormBackward,
  Softmax,
  SoftmaxBackward,
  Sgd,
  Adam,
};

// One memory-bound case: the op, its f32 tensor shape (the input; for the
// optimizers {parameter count}) and the bytes it is counted as moving, with
// the rule (`traffic`) that gave them. Bytes are the least traffic the
// operation needs: each tensor the algorithm must read is read once per
// pass it needs, each output is written once; caches are assumed not to
// hold the (much larger than L2) tensors between passes. The 4-D cases come
// in NCHW and in channels-last (NHWC kernels; the same bytes).
struct MemorySpec {
  MemoryOp op;
  std::string name;
  std::vector<int64_t> shape;
  int64_t bytes;
  std::string traffic;
  bool channels_last = false;  // the input (and so the output and the gradients) in MemoryFormat::ChannelsLast
};

// ResNet-50's parameter count (torchvision's, 1000 classes).
inline constexpr int64_t kResNet50Parameters = 25'557'032;
inline constexpr int64_t kMemoryElements = int64_t{64} << 20;  // 64M: fills any GPU's L2 many times over

// The suite; the optimizer cases update `optimizer_parameters` f32 values.
std::vector<MemorySpec> memory_suite(int64_t optimizer_parameters = kResNet50Parameters);
// The cases of the chosen layouts; those with no 4-D tensor always stay.
std::vector<MemorySpec> in_layouts(const std::vector<MemorySpec>& cases, bool nchw, bool nhwc);

// ---- selection -------------------------------------------------------------------------

// Every suite the harness knows: the conv suites, then gemm, memory,
// allocator, overhead.
std::vector<std::string> all_suite_names();
bool is_conv_suite(const std::string& name);

}  // namespace striate::bench
