// Every elementwise op on the GPU against the CPU backend: every dtype,
// contiguous, broadcast, transposed and 0-dim operands, odd sizes, NaN
// inputs. Where the CPU rejects a dtype the GPU must reject it the same way.
#include <gtest/gtest.h>

#include <functional>
#include <limits>

#include "striate/striate.h"
#include "support/gpu.h"
#include "cuda/compare.h"

namespace striate {
namespace {

const Device kGpu = Device::cuda(0);
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
  EXPECT_TRUE(got.is_cuda()) << what;
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

TEST(CudaElementwise, MixingDevicesIsAClearError) {
  STRIATE_REQUIRE_GPU();
  EXPECT_THROW(ones({2}) + ones({2}).to(kGpu), DeviceError);
}

}  // namespace
}  // namespace striate
