// Reductions on the GPU against the CPU backend: sum, mean, var, max/min
// with indices, argmax, over every arrangement of reduced dims (a
// contiguous run, a strided one, all of them), odd sizes, NaN inputs.
#include <gtest/gtest.h>

#include <limits>

#include "cuda/compare.h"
#include "striate/striate.h"
#include "support/gpu.h"

namespace striate {
namespace {

const Device kGpu = testing::test_gpu();

Tensor sample(DType dtype, const Shape& shape, uint64_t seed, bool nan = false) {
  Generator gen(seed);
  if (dtype == kBool) return rand(shape, {}, &gen).gt(0.5);
  if (!is_floating_point(dtype)) return randint(-50, 50, shape, TensorOptions(dtype == kByte ? kInt : dtype), &gen).abs().to(dtype);
  Tensor t = randn(shape, TensorOptions(kDouble), &gen);
  if (nan) t.view({-1})[t.numel() / 3].fill_(std::numeric_limits<double>::quiet_NaN());
  return t.to(dtype);
}

const Shape kDimsCases[] = {{2}, {1}, {0}, {0, 2}, {1, 2}, {0, 1, 2}};

TEST(CudaReduce, SumAndMeanMatchTheCpu) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble, kHalf, kBFloat16, kInt, kLong, kByte, kBool})
    for (const Shape& dims : kDimsCases) {
      Tensor x = sample(dtype, {5, 33, 131}, 3);
      const std::string what = std::string("sum ") + dtype_name(dtype);
      testing::expect_matches_cpu(sum(x.to(kGpu), dims), sum(x, dims), what);
      testing::expect_matches_cpu(sum(x.to(kGpu), dims, true), sum(x, dims, true), what + " keepdim");
      if (is_floating_point(dtype))
        testing::expect_matches_cpu(mean(x.to(kGpu), dims), mean(x, dims), std::string("mean ") + dtype_name(dtype));
    }
}

TEST(CudaReduce, LongRunsAndManySmallOnes) {
  STRIATE_REQUIRE_GPU();
  Tensor big = sample(kFloat, {3, (1 << 20) + 7}, 4);
  testing::expect_matches_cpu(sum(big.to(kGpu), {1}), sum(big, {1}), "long rows");
  testing::expect_matches_cpu(sum(big.to(kGpu)), sum(big), "everything");
  Tensor many = sample(kFloat, {100000, 3}, 5);
  testing::expect_matches_cpu(sum(many.to(kGpu), {1}), sum(many, {1}), "short rows");
  testing::expect_matches_cpu(sum(many.to(kGpu), {0}), sum(many, {0}), "long columns");
  // A million ones sum exactly, as on the CPU.
  EXPECT_EQ(sum(ones({1 << 20}).to(kGpu)).item<float>(), float(1 << 20));
}

TEST(CudaReduce, VarianceMatchesTheCpu) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble, kHalf, kBFloat16})
    for (const Shape& dims : kDimsCases)
      for (int64_t correction : {0, 1}) {
        Tensor x = sample(dtype, {4, 17, 65}, 6) + 1000;  // cancellation would show
        testing::expect_matches_cpu(var(x.to(kGpu), dims, correction), var(x, dims, correction),
                                    std::string("var ") + dtype_name(dtype));
      }
  EXPECT_THROW(var(ones({3}, TensorOptions(kInt)).to(kGpu)), DTypeError);
}

TEST(CudaReduce, MaxMinAndIndicesMatchTheCpu) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble, kHalf, kBFloat16, kInt, kLong, kByte, kBool})
    for (bool nan : {false, true})
      for (int64_t dim : {0, 1, 2}) {
        if (nan && !is_floating_point(dtype)) continue;
        Tensor x = sample(dtype, {6, 45, 301}, 7, nan);
        if (dtype == kInt) x = x.clamp(-3, 3);  // many ties: the first index wins
        const std::string what = std::string("max ") + dtype_name(dtype) + " dim " + std::to_string(dim);
        auto [gv, gi] = max(x.to(kGpu), dim);
        auto [cv, ci] = max(x, dim);
        testing::expect_matches_cpu(gv, cv, what);
        testing::expect_matches_cpu(gi, ci, what + " indices");
        auto [gmv, gmi] = min(x.to(kGpu), dim, true);
        auto [cmv, cmi] = min(x, dim, true);
        testing::expect_matches_cpu(gmv, cmv, what + " min");
        testing::expect_matches_cpu(gmi, cmi, what + " min indices");
        testing::expect_matches_cpu(argmax(x.to(kGpu)), argmax(x), what + " argmax");
      }
}

TEST(CudaReduce, GradientsOfBroadcastOpsReduceOnTheGpu) {
  STRIATE_REQUIRE_GPU();
  Tensor a = randn({4, 1, 6}, requires_grad(true));
  Tensor b = randn({1, 5, 6}, requires_grad(true));
  Tensor ga = a.detach().to(kGpu).requires_grad_(), gb = b.detach().to(kGpu).requires_grad_();
  ((a * b).sum() + a.mean()).backward();
  ((ga * gb).sum() + ga.mean()).backward();
  testing::expect_matches_cpu(ga.grad(), a.grad(), "grad a");
  testing::expect_matches_cpu(gb.grad(), b.grad(), "grad b");
}

}  // namespace
}  // namespace striate
