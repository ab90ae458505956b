// The CUDA convolutions (src/kernels/cuda/conv*.cu) run by the emulator
// against the CPU kernels: the direct kernels, the implicit GEMMs and the
// dispatcher, each pass on its own (forward, grad input, grad weight + bias),
// f32 and f64. The small cases cover the geometry (odd sizes, batch 1,
// rectangular kernels, strides 2 and 3, padding, dilation, groups,
// depthwise, 1x1, bias or none); the larger ones make the implicit GEMM use
// several tiles in M, N and K and the grad weight split K across blocks.
// Each runs NCHW and channels last (NHWC tensors, OHWI weights), against
// the same NCHW reference. TF32 (allow_tf32, the implicit GEMMs' tensor-core
// tile): the reference takes the inputs rounded to TF32, so the f32
// tolerance still holds, and a kernel that skips the rounding (the emulated
// MMA drops the 13 low bits, as the hardware does) fails it.
#include <gtest/gtest.h>

#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include "compare.h"
#include "kernels/conv.h"

namespace striate::emu_test {
namespace {

struct Case {
  const char* name;
  int64_t batch, channels, height, width;
  int64_t out_channels, kernel_h, kernel_w;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1, groups = 1;
  bool bias = true;
  int64_t extra_bottom = 0;  // padding below/right beyond pad_h/pad_w (the "same" padding of an even kernel)
};

kernels::ConvParams params_of(const Case& c, DType dtype) {
  kernels::ConvParams p{};
  p.dtype = dtype;
  p.batch = c.batch;
  p.channels = c.channels;
  p.height = c.height;
  p.width = c.width;
  p.out_channels = c.out_channels;
  p.kernel_h = c.kernel_h;
  p.kernel_w = c.kernel_w;
  p.stride_h = c.stride_h;
  p.stride_w = c.stride_w;
  p.dilation_h = c.dilation_h;
  p.dilation_w = c.dilation_w;
  p.pad_top = c.pad_h;
  p.pad_left = c.pad_w;
  p.groups = c.groups;
  p.out_h = (c.height + 2 * c.pad_h + c.extra_bottom - c.dilation_h * (c.kernel_h - 1) - 1) / c.stride_h + 1;
  p.out_w = (c.width + 2 * c.pad_w + c.extra_bottom - c.dilation_w * (c.kernel_w - 1) - 1) / c.stride_w + 1;
  return p;
}

// The four results of one convolution, in f64.
struct Results {
  std::vector<double> y, gx, gw, gb;
};

template <typename T>
struct Tensors {
  std::vector<T> x, w, b, gy;
};

template <typename T>
Results cpu_reference(const kernels::ConvParams& p, const Tensors<T>& t, bool bias, bool magnitudes) {
  kernels::ConvParams p64 = p;
  p64.dtype = DType::F64;
  const auto prep = [&](const std::vector<T>& v) { return magnitudes ? abs_f64(v) : to_f64(v); };
  const std::vector<double> x = prep(t.x), w = prep(t.w), b = prep(t.b), gy = prep(t.gy);
  Results r{std::vector<double>(t.gy.size()), std::vector<double>(t.x.size()), std::vector<double>(t.w.size()),
            std::vector<double>(t.b.size())};
  kernels::cpu::conv2d_forward(p64, x.data(), w.data(), bias ? b.data() : nullptr, r.y.data());
  kernels::cpu::conv2d_grad_input(p64, w.data(), gy.data(), r.gx.data());
  kernels::cpu::conv2d_grad_weight(p64, x.data(), gy.data(), r.gw.data(), bias ? r.gb.data() : nullptr);
  return r;
}

using ForwardFn = decltype(&kernels::cuda::conv2d_forward);
using GradInputFn = decltype(&kernels::cuda::conv2d_grad_input);
using GradWeightFn = decltype(&kernels::cuda::conv2d_grad_weight);

struct Kernels {
  const char* name;
  ForwardFn forward;
  GradInputFn grad_input;
  GradWeightFn grad_weight;
};

const Kernels kDirect{"direct", &kernels::cuda::conv2d_forward_direct, &kernels::cuda::conv2d_grad_input_direct,
                      &kernels::cuda::conv2d_grad_weight_direct};
const Kernels kImplicitGemm{"implicit GEMM", &kernels::cuda::conv2d_forward_implicit_gemm,
                            &kernels::cuda::conv2d_grad_input_implicit_gemm,
                            &kernels::cuda::conv2d_grad_weight_implicit_gemm};
const Kernels kDispatch{"dispatcher", &kernels::cuda::conv2d_forward, &kernels::cuda::conv2d_grad_input,
                        &kernels::cuda::conv2d_grad_weight};

// [outer, rows, cols] -> [outer, cols, rows]: NCHW -> NHWC with (c, hw), back with (hw, c).
template <typename T>
std::vector<T> transposed(const std::vector<T>& v, int64_t outer, int64_t rows, int64_t cols) {
  std::vector<T> out(v.size());
  for (int64_t n = 0; n < outer; ++n)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) out[(n * cols + c) * rows + r] = v[(n * rows + r) * cols + c];
  return out;
}

template <typename T>
void expect_kernels_match(const Case& c, const Kernels& k, bool channels_last, bool tf32) {
  const DType dtype = std::is_same_v<T, float> ? DType::F32 : DType::F64;
  kernels::ConvParams p = params_of(c, dtype);
  p.allow_tf32 = tf32;
  const int64_t cg = c.channels / c.groups, og = c.out_channels / c.groups, taps = c.kernel_h * c.kernel_w;
  Tensors<T> t;
  t.x = random_values<T>(c.batch * c.channels * c.height * c.width, 1);
  t.w = random_values<T>(c.out_channels * cg * taps, 2);
  t.b = random_values<T>(c.out_channels, 3);
  t.gy = random_values<T>(c.batch * c.out_channels * p.out_h * p.out_w, 4);
  Results want = cpu_reference(p, t, c.bias, false), size = cpu_reference(p, t, c.bias, true);
  if (tf32) {  // the GEMMs' operands are rounded; the bias and its gradient stay f32
    Tensors<T> rounded{rounded_to_tf32(t.x), rounded_to_tf32(t.w), t.b, rounded_to_tf32(t.gy)};
    Results tf32_want = cpu_reference(p, rounded, c.bias, false), tf32_size = cpu_reference(p, rounded, c.bias, true);
    tf32_want.gb = want.gb;
    tf32_size.gb = size.gb;
    want = tf32_want;
    size = tf32_size;
  }

  // The kernels' view: NHWC / OHWI copies when channels last, and back.
  const int64_t in_hw = c.height * c.width, out_hw = p.out_h * p.out_w;
  const auto nhwc = [&](const std::vector<T>& v, int64_t n, int64_t ch, int64_t hw) {
    return channels_last ? transposed(v, n, ch, hw) : v;
  };
  const auto nchw = [&](const std::vector<T>& v, int64_t n, int64_t ch, int64_t hw) {
    return channels_last ? transposed(v, n, hw, ch) : v;
  };
  p.channels_last = channels_last;
  const std::vector<T> x = nhwc(t.x, c.batch, c.channels, in_hw), w = nhwc(t.w, c.out_channels, cg, taps),
                       gy = nhwc(t.gy, c.batch, c.out_channels, out_hw);

  std::vector<T> y = poisoned<T>(t.gy.size()), gx = poisoned<T>(t.x.size()), gw = poisoned<T>(t.w.size()),
                 gb = poisoned<T>(t.b.size());
  k.forward(p, x.data(), w.data(), c.bias ? t.b.data() : nullptr, y.data());
  k.grad_input(p, w.data(), gy.data(), gx.data());
  k.grad_weight(p, x.data(), gy.data(), gw.data(), c.bias ? gb.data() : nullptr);
  y = nchw(y, c.batch, c.out_channels, out_hw);
  gx = nchw(gx, c.batch, c.channels, in_hw);
  gw = nchw(gw, c.out_channels, cg, taps);

  const std::string where = std::string(c.name) + ", " + (tf32 ? "tf32" : dtype == DType::F32 ? "f32" : "f64") +
                            (channels_last ? ", NHWC, " : ", NCHW, ") + k.name;
  const int64_t pixels = c.batch * p.out_h * p.out_w;
  expect_close(y, want.y, size.y, cg * taps + 1, where + ": output");
  expect_close(gx, want.gx, size.gx, og * taps, where + ": grad input");
  expect_close(gw, want.gw, size.gw, pixels, where + ": grad weight");
  if (c.bias) expect_close(gb, want.gb, size.gb, pixels, where + ": grad bias");
  else EXPECT_TRUE(std::isnan(gb[0])) << where << ": grad bias written though not asked for";
}

// Small: the geometry, for every kernel family.
const std::vector<Case> kSmallCases = {
    {"plain 3x3 pad 1", 2, 3, 7, 7, 4, 3, 3, 1, 1, 1, 1},
    {"batch 1, stride 2", 1, 3, 7, 8, 2, 3, 3, 2, 2},
    {"rectangular kernel, stride 3x1", 2, 2, 9, 6, 3, 2, 3, 3, 1, 1, 0},
    {"dilation 2", 1, 2, 8, 9, 2, 3, 3, 1, 1, 2, 1, 2, 2},
    {"groups 2", 2, 4, 6, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2},
    {"depthwise", 2, 8, 9, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 8},
    {"1x1 no bias", 2, 5, 4, 3, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1, false},
    {"even kernel, extra bottom padding", 1, 2, 6, 6, 2, 4, 4, 1, 1, 1, 1, 1, 1, 1, true, 1},
    {"5x5 odd plane, stride 2 pad 2", 2, 2, 11, 13, 3, 5, 5, 2, 2, 2, 2},
};

// Larger: several tiles of the implicit GEMM (f32 and TF32 128x128, f64
// 64x64) in M, N and K, channel groups in blockIdx.z, and split K in grad
// weight. The first case runs the square f32/TF32 tiles (M, N > 64); the
// cases with at most 64 channels run the short variants: short M where the
// channels are M (NCHW, and NHWC grad weight), short N where they are N
// (the other NHWC passes).
const std::vector<Case> kGemmCases = {
    // forward M=132 N=144 K=390; grad input M=130 N=144 K=396; grad weight M=132 N=390 K=144.
    {"130 -> 132, 1x3 pad 0x1", 3, 130, 6, 8, 132, 1, 3, 1, 1, 0, 1},
    // grad weight K = 4*13*13 = 676 in 3 slices of 232, the last one short.
    {"12 -> 40, split K", 4, 12, 15, 15, 40, 3, 3},
    {"groups 2 of 32, dilation 2, no bias", 2, 64, 9, 8, 72, 3, 3, 1, 1, 2, 2, 2, 2, 2, false},
    {"7x7 stride 2 pad 3, odd plane", 2, 3, 17, 19, 12, 7, 7, 2, 2, 3, 3},
};

enum class Precision { F32, F64, Tf32 };
const char* precision_name(Precision p) { return p == Precision::F32 ? "f32" : p == Precision::F64 ? "f64" : "tf32"; }

struct Param {
  const Case* c;
  const Kernels* k;
  Precision precision;
  bool channels_last;
};

void PrintTo(const Param& p, std::ostream* os) {
  *os << p.k->name << ", " << p.c->name << ", " << precision_name(p.precision)
      << (p.channels_last ? ", NHWC" : ", NCHW");
}

std::string param_name(const testing::TestParamInfo<Param>& info) {
  std::string s = std::string(info.param.k->name) + "_" + info.param.c->name + "_" +
                  precision_name(info.param.precision) + (info.param.channels_last ? "_nhwc" : "_nchw");
  for (char& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return s + "_" + std::to_string(info.index);
}

std::vector<Param> params() {
  std::vector<Param> all;
  for (bool channels_last : {false, true}) {
    for (Precision precision : {Precision::F32, Precision::F64}) {
      for (const Case& c : kSmallCases)
        for (const Kernels* k : {&kDirect, &kImplicitGemm}) all.push_back({&c, k, precision, channels_last});
      // The direct grad weight runs a block per weight element: too slow to
      // emulate at these sizes.
      for (const Case& c : kGemmCases) all.push_back({&c, &kImplicitGemm, precision, channels_last});
      // The dispatcher once down each of its paths: few channels (direct),
      // and 32 channels per group each way (implicit GEMM).
      all.push_back({&kSmallCases[0], &kDispatch, precision, channels_last});
      all.push_back({&kGemmCases[2], &kDispatch, precision, channels_last});
    }
    // TF32: the implicit GEMMs (the direct kernels stay f32) and the
    // dispatcher's GEMM path.
    for (const Case* c : {&kSmallCases[0], &kSmallCases[4], &kSmallCases[7], &kGemmCases[0], &kGemmCases[1],
                          &kGemmCases[2], &kGemmCases[3]})
      all.push_back({c, &kImplicitGemm, Precision::Tf32, channels_last});
    all.push_back({&kGemmCases[2], &kDispatch, Precision::Tf32, channels_last});
  }
  return all;
}

class EmulatedConv : public testing::TestWithParam<Param> {};

TEST_P(EmulatedConv, MatchesTheCpu) {
  const Param& p = GetParam();
  if (p.precision == Precision::F64) expect_kernels_match<double>(*p.c, *p.k, p.channels_last, false);
  else expect_kernels_match<float>(*p.c, *p.k, p.channels_last, p.precision == Precision::Tf32);
}

INSTANTIATE_TEST_SUITE_P(Kernels, EmulatedConv, testing::ValuesIn(params()), param_name);

// Deterministic split K (ConvParams::deterministic): each split stores into
// its own scratch slice, then the slices are summed in split order. The
// emulator runs blocks one after another, splits of an element in order, so
// its atomic path adds 0 + s0 + s1 + s2 in that same order: the two paths
// must agree bit for bit, which a slice written to or read from the wrong
// place would break. Both must match the CPU as well.
template <typename T>
void expect_split_k_orders_match(bool channels_last) {
  const Case& c = kGemmCases[1];  // grad weight K = 676 in 3 splits
  const DType dtype = std::is_same_v<T, float> ? DType::F32 : DType::F64;
  kernels::ConvParams p = params_of(c, dtype);
  const int64_t cg = c.channels / c.groups, taps = c.kernel_h * c.kernel_w;
  Tensors<T> t;
  t.x = random_values<T>(c.batch * c.channels * c.height * c.width, 5);
  t.w = random_values<T>(c.out_channels * cg * taps, 6);
  t.b = random_values<T>(c.out_channels, 7);
  t.gy = random_values<T>(c.batch * c.out_channels * p.out_h * p.out_w, 8);
  const Results want = cpu_reference(p, t, false, false), size = cpu_reference(p, t, false, true);
  p.channels_last = channels_last;
  const int64_t in_hw = c.height * c.width, out_hw = p.out_h * p.out_w;
  const std::vector<T> x = channels_last ? transposed(t.x, c.batch, c.channels, in_hw) : t.x;
  const std::vector<T> gy = channels_last ? transposed(t.gy, c.batch, c.out_channels, out_hw) : t.gy;

  std::vector<T> atomic = poisoned<T>(t.w.size()), ordered = poisoned<T>(t.w.size());
  kernels::cuda::conv2d_grad_weight_implicit_gemm(p, x.data(), gy.data(), atomic.data(), nullptr);
  p.deterministic = true;
  kernels::cuda::conv2d_grad_weight_implicit_gemm(p, x.data(), gy.data(), ordered.data(), nullptr);
  const std::string where = std::string(channels_last ? "NHWC" : "NCHW") + (dtype == DType::F32 ? " f32" : " f64");
  for (size_t i = 0; i < atomic.size(); ++i) {
    ASSERT_EQ(std::memcmp(&atomic[i], &ordered[i], sizeof(T)), 0)
        << where << ": element " << i << ": atomic " << atomic[i] << ", in order " << ordered[i];
  }
  if (channels_last) ordered = transposed(ordered, c.out_channels, taps, cg);
  expect_close(ordered, want.gw, size.gw, c.batch * out_hw, where + ": deterministic grad weight");
}

TEST(EmulatedConv, DeterministicSplitKMatchesTheAtomicOrderBitForBit) {
  for (bool channels_last : {false, true}) {
    expect_split_k_orders_match<float>(channels_last);
    expect_split_k_orders_match<double>(channels_last);
  }
}

}  // namespace
}  // namespace striate::emu_test
