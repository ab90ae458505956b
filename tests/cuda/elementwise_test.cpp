// Every elementwise op on the GPU against the CPU backend: every dtype,
// contiguous, broadcast, transposed and 0-dim operands, odd sizes, NaN
// inputs. Where the CPU rejects a dtype the GPU must reject it the same way.
// Then the 16-byte vector path and its fallbacks, bit for bit.
#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <functional>
#include <limits>
#include <string>

#include "striate/striate.h"
#include "support/gpu.h"
#include "cuda/compare.h"

namespace striate {
namespace {

const Device kGpu = testing::test_gpu();
const DType kAllDTypes[] = {kFloat, kDouble, kHalf, kBFloat16, kInt, kLong, kByte, kBool};

// Random non-zero values of the dtype; floats get a NaN and both infinities
// when `specials`, and are kept positive when `positive` (log, sqrt, pow).
Tensor operand(DType dtype, const Shape& shape, bool positive, bool specials, uint64_t seed) {
  Generator gen(seed);
  if (dtype == kBool) return rand(shape, {}, &gen).gt(0.5);
  if (!is_floating_point(dtype)) {
    const int64_t lo = dtype == kByte || positive ? 1 : -9;
    return randint(lo, 10, shape, TensorOptions(dtype), &gen);
  }
  Tensor t = positive ? rand(shape, TensorOptions(kDouble), &gen) * 4 + 0.05 : randn(shape, TensorOptions(kDouble), &gen) * 3;
  if (specials && t.numel() >= 8) {
    Tensor flat = t.view({-1});
    flat[1].fill_(std::numeric_limits<double>::quiet_NaN());
    flat[3].fill_(std::numeric_limits<double>::infinity());
    flat[5].fill_(-std::numeric_limits<double>::infinity());
  }
  return t.to(dtype);
}

struct Layout {
  const char* name;
  Shape a, b;
  bool transpose_a;
};
const Layout kLayouts[] = {
    {"contiguous", {3, 5, 7}, {3, 5, 7}, false},
    {"broadcast", {2, 1, 9}, {1, 4, 9}, false},
    {"transposed", {6, 11}, {11, 6}, true},
    {"scalar", {17}, {}, false},
    {"0-dim", {}, {}, false},
    {"large odd", {(1 << 18) + 3}, {(1 << 18) + 3}, false},
};

// Runs `op` on CPU and GPU copies of the same operands and compares; if the
// CPU throws, the GPU must throw the same Error subclass.
template <typename Op>
void compare(const std::string& name, DType dtype, const Layout& layout, bool positive, bool specials, Op op) {
  Tensor a = operand(dtype, layout.a, positive, specials, 1);
  Tensor b = operand(dtype, layout.b, positive, specials, 2);
  if (layout.transpose_a) a = a.t();
  const std::string what = name + " " + dtype_name(dtype) + " " + layout.name;
  Tensor expected;
  try {
    expected = op(a, b);
  } catch (const NotImplementedError&) {
    EXPECT_THROW(op(a.to(kGpu), b.to(kGpu)), NotImplementedError) << what;
    return;
  } catch (const DTypeError&) {
    EXPECT_THROW(op(a.to(kGpu), b.to(kGpu)), DTypeError) << what;
    return;
  }
  Tensor got = op(a.to(kGpu), b.to(kGpu));
  EXPECT_EQ(got.device(), kGpu) << what;
  testing::expect_matches_cpu(got, expected, what);
}

using BinaryFn = std::function<Tensor(const Tensor&, const Tensor&)>;

TEST(CudaElementwise, BinaryOpsMatchTheCpu) {
  STRIATE_REQUIRE_GPU();
  const std::pair<const char*, BinaryFn> ops[] = {
      {"add", [](const Tensor& a, const Tensor& b) { return a + b; }},
      {"add alpha", [](const Tensor& a, const Tensor& b) { return add(a, b, 3); }},
      {"sub", [](const Tensor& a, const Tensor& b) { return a - b; }},
      {"mul", [](const Tensor& a, const Tensor& b) { return a * b; }},
      {"div", [](const Tensor& a, const Tensor& b) { return a / b; }},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }},
      {"eq", [](const Tensor& a, const Tensor& b) { return eq(a, b); }},
      {"ne", [](const Tensor& a, const Tensor& b) { return ne(a, b); }},
      {"lt", [](const Tensor& a, const Tensor& b) { return lt(a, b); }},
      {"le", [](const Tensor& a, const Tensor& b) { return le(a, b); }},
      {"gt", [](const Tensor& a, const Tensor& b) { return gt(a, b); }},
      {"ge", [](const Tensor& a, const Tensor& b) { return ge(a, b); }},
      {"logical_and", [](const Tensor& a, const Tensor& b) { return logical_and(a, b); }},
      {"logical_or", [](const Tensor& a, const Tensor& b) { return logical_or(a, b); }},
      {"where", [](const Tensor& a, const Tensor& b) { return where(a.gt(b), a, b); }},
  };
  for (DType dtype : kAllDTypes)
    for (const Layout& layout : kLayouts)
      for (const auto& [name, op] : ops) compare(name, dtype, layout, false, true, op);
}

TEST(CudaElementwise, PowMatchesTheCpu) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : kAllDTypes)
    for (const Layout& layout : kLayouts)
      compare("pow", dtype, layout, true, false, [](const Tensor& a, const Tensor& b) { return pow(a, clamp_max(b, 4)); });
}

TEST(CudaElementwise, UnaryOpsMatchTheCpu) {
  STRIATE_REQUIRE_GPU();
  using UnaryFn = std::function<Tensor(const Tensor&)>;
  const std::tuple<const char*, bool, UnaryFn> ops[] = {
      {"neg", false, [](const Tensor& a) { return -a; }},
      {"abs", false, [](const Tensor& a) { return abs(a); }},
      {"sign", false, [](const Tensor& a) { return sign(a); }},
      {"logical_not", false, [](const Tensor& a) { return logical_not(a); }},
      {"clamp", false, [](const Tensor& a) { return clamp(a, -1, 2); }},
      {"clamp_min", false, [](const Tensor& a) { return clamp_min(a, 0); }},
      {"exp", false, [](const Tensor& a) { return exp(a); }},
      {"log", true, [](const Tensor& a) { return log(a); }},
      {"sqrt", true, [](const Tensor& a) { return sqrt(a); }},
  };
  for (DType dtype : kAllDTypes)
    for (const Layout& layout : kLayouts)
      for (const auto& [name, positive, op] : ops)
        compare(name, dtype, layout, positive, !positive, [&op](const Tensor& a, const Tensor&) { return op(a); });
}

TEST(CudaElementwise, InPlaceOpsWriteOnlyTheirView) {
  STRIATE_REQUIRE_GPU();
  Tensor host = randn({8, 8});
  Tensor gpu = host.to(kGpu);
  gpu.narrow(1, 2, 3).mul_(2);
  gpu.narrow(0, 5, 2).add_(1);
  host.narrow(1, 2, 3).mul_(2);
  host.narrow(0, 5, 2).add_(1);
  testing::expect_matches_cpu(gpu, host, "in-place on views");
}

// ---- The 16-byte vector path (kernels/cuda/vectorized.cuh) -----------------
// Contiguous operands whose bases are aligned take one 16-byte vector per
// thread plus a scalar tail; misaligned, strided and broadcast ones the
// element-by-element path. Both must agree with the CPU bit for bit on ops
// whose arithmetic is exact IEEE on either (no library exp, log or pow, no
// alpha that could fuse into an FMA).

// How a test operand is cut from its base tensor (the same on both devices),
// so a GPU view has the CPU view's offset and strides.
struct Cut {
  const char* name;
  int64_t extra;  // elements the base has beyond the view's n
  std::function<Tensor(const Tensor& base, int64_t n)> view;
};
const Cut kWhole{"aligned", 0, [](const Tensor& t, int64_t) { return t; }};
// Element 1: the base is not 16-byte aligned for any dtype.
const Cut kFromElement1{"misaligned", 1, [](const Tensor& t, int64_t n) { return t.narrow(0, 1, n); }};
// Element 16: 16 * element size bytes in, still aligned; a vector store past
// the view's end would show in the 16 elements after it.
const Cut kFromElement16{"aligned offset", 32, [](const Tensor& t, int64_t n) { return t.narrow(0, 16, n); }};

// Sizes around each vector width (2, 4, 8 and 16 lanes): tails of 1 to 15
// elements, fewer elements than one vector, and exact multiples.
const int64_t kVectorSizes[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 23, 32, 33, 39, 1000, 1003};

const std::pair<const char*, BinaryFn> kExactBinaryOps[] = {
    {"add", [](const Tensor& a, const Tensor& b) { return a + b; }},
    {"sub", [](const Tensor& a, const Tensor& b) { return a - b; }},
    {"mul", [](const Tensor& a, const Tensor& b) { return a * b; }},
    {"div", [](const Tensor& a, const Tensor& b) { return a / b; }},
    {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }},
    {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }},
    {"lt (bool out)", [](const Tensor& a, const Tensor& b) { return lt(a, b); }},
    {"eq (bool out)", [](const Tensor& a, const Tensor& b) { return eq(a, b); }},
    {"logical_and", [](const Tensor& a, const Tensor& b) { return logical_and(a, b); }},
    {"where", [](const Tensor& a, const Tensor& b) { return where(a.gt(b), a, b); }},
    {"neg", [](const Tensor& a, const Tensor&) { return -a; }},
    {"abs", [](const Tensor& a, const Tensor&) { return abs(a); }},
    {"sign", [](const Tensor& a, const Tensor&) { return sign(a); }},
    {"logical_not (bool out)", [](const Tensor& a, const Tensor&) { return logical_not(a); }},
    {"clamp", [](const Tensor& a, const Tensor&) { return clamp(a, -1, 2); }},
};

// `op` on views cut from the same bases on the CPU and the GPU; where the CPU
// rejects the dtype the GPU must too.
void compare_exactly(const std::string& what, const BinaryFn& op, const Tensor& a_base, const Cut& a_cut,
                     const Tensor& b_base, const Cut& b_cut, int64_t n) {
  const auto on_gpu = [&] {
    return op(a_cut.view(a_base.to(kGpu), n), b_cut.view(b_base.to(kGpu), n));
  };
  Tensor expected;
  try {
    expected = op(a_cut.view(a_base, n), b_cut.view(b_base, n));
  } catch (const NotImplementedError&) {
    EXPECT_THROW(on_gpu(), NotImplementedError) << what;
    return;
  } catch (const DTypeError&) {
    EXPECT_THROW(on_gpu(), DTypeError) << what;
    return;
  }
  testing::expect_same_bits(on_gpu(), expected, what);
}

TEST(CudaElementwise, VectorPathAndItsFallbacksMatchTheCpuExactly) {
  STRIATE_REQUIRE_GPU();
  const std::pair<const Cut*, const Cut*> cuts[] = {
      {&kWhole, &kWhole}, {&kFromElement16, &kFromElement16}, {&kFromElement1, &kWhole}, {&kWhole, &kFromElement1}};
  for (DType dtype : kAllDTypes)
    for (int64_t n : kVectorSizes)
      for (const auto& [a_cut, b_cut] : cuts) {
        const Tensor a = operand(dtype, {n + a_cut->extra}, false, true, 1);
        const Tensor b = operand(dtype, {n + b_cut->extra}, false, true, 2);
        for (const auto& [name, op] : kExactBinaryOps)
          compare_exactly(::striate::detail::concat(name, " ", dtype_name(dtype), " n=", n, " a ", a_cut->name,
                                                    " b ", b_cut->name),
                          op, a, *a_cut, b, *b_cut, n);
      }
}

// In place, the output is the view itself: misaligned (element 1) or aligned
// at an offset (element 16); the base outside the view must keep its values.
TEST(CudaElementwise, InPlaceVectorPathWritesOnlyItsView) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kHalf, kDouble, kInt, kByte})
    for (int64_t n : kVectorSizes)
      for (const Cut* cut : {&kFromElement1, &kFromElement16}) {
        Tensor cpu = operand(dtype, {n + cut->extra}, false, false, 3);
        Tensor gpu = cpu.to(kGpu);
        const Tensor b = operand(dtype, {n}, false, false, 4);
        cut->view(cpu, n).add_(b);
        cut->view(gpu, n).add_(b.to(kGpu));
        testing::expect_same_bits(gpu, cpu, ::striate::detail::concat("add_ ", dtype_name(dtype), " n=", n, " ", cut->name));
      }
}

// where's bool condition has its own access width (V bytes beside V
// elements of the values): aligned, misaligned or broadcast on its own.
TEST(CudaElementwise, WhereConditionTakesEitherPath) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : kAllDTypes)
    for (int64_t n : {int64_t{7}, int64_t{16}, int64_t{33}, int64_t{1003}})
      for (const Cut* cut : {&kWhole, &kFromElement1, &kFromElement16}) {
        const Tensor condition = operand(kBool, {n + cut->extra}, false, false, 5);
        const Tensor a = operand(dtype, {n}, false, true, 6), b = operand(dtype, {n}, false, true, 7);
        const std::string what = ::striate::detail::concat("where ", dtype_name(dtype), " n=", n, " condition ", cut->name);
        testing::expect_same_bits(where(cut->view(condition.to(kGpu), n), a.to(kGpu), b.to(kGpu)),
                         where(cut->view(condition, n), a, b), what);
        // A condition broadcast along a leading dim: strided, the old path.
        const Tensor rows_a = operand(dtype, {3, n}, false, true, 8);
        testing::expect_same_bits(where(cut->view(condition.to(kGpu), n), rows_a.to(kGpu), b.to(kGpu)),
                         where(cut->view(condition, n), rows_a, b), what + " broadcast");
      }
}

// Broadcast operands have 0 strides: contiguous-looking, aligned and a
// multiple of every vector width (n = 16), they must still take the old path.
TEST(CudaElementwise, BroadcastOperandsTakeTheElementPath) {
  STRIATE_REQUIRE_GPU();
  const std::pair<Shape, Shape> shapes[] = {
      {{16}, {}}, {{16}, {1}}, {{}, {16}}, {{4, 16}, {16}}, {{16, 1}, {1, 16}}, {{1003}, {1}}, {{}, {}}};
  for (DType dtype : kAllDTypes)
    for (const auto& [sa, sb] : shapes) {
      const Tensor a = operand(dtype, sa, false, true, 9), b = operand(dtype, sb, false, true, 10);
      for (const auto& [name, op] : kExactBinaryOps)
        compare_exactly(::striate::detail::concat(name, " ", dtype_name(dtype), " ", sa, " with ", sb), op, a,
                        kWhole, b, kWhole, 0);
    }
}

// More vectors than one grid has threads (grid_for caps it at 65536 blocks of
// 256), plus a tail: the grid-stride loop takes a second turn.
TEST(CudaElementwise, VectorPathCoversMoreThanOneGrid) {
  STRIATE_REQUIRE_GPU();
  const int64_t n = int64_t{4} * 65536 * 256 + 5;
  Generator gen(11);
  const Tensor a = rand({n}, TensorOptions(kFloat), &gen) - 0.5, b = rand({n}, TensorOptions(kFloat), &gen) - 0.5;
  const Tensor ga = a.to(kGpu), gb = b.to(kGpu);
  testing::expect_same_bits(ga + gb, a + b, "add f32, large");
  testing::expect_same_bits(ga.gt(gb), a.gt(b), "gt f32 to bool, large");
}

TEST(CudaElementwise, MixingDevicesIsAClearError) {
  STRIATE_REQUIRE_REAL_GPU();
  EXPECT_THROW(ones({2}) + ones({2}).to(kGpu), DeviceError);
}

}  // namespace
}  // namespace striate
