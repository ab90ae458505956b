// softmax and log_softmax on the GPU against the CPU backend, forward and
// backward (through autograd): dims 0, 1 and last of 2-D, 3-D and 4-D
// tensors with odd sizes, a [1, 1] tensor, a dim of size 1, rows long enough
// for the block-per-row kernel, columns long enough for the split-column
// one, more rows than one grid covers; f32 and f64; logits of +-80, -inf
// entries and an all -inf slice (NaN, as on the CPU). The memory the
// results land in is filled with NaN first, so an element a kernel forgets
// to write shows up.
#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "striate/striate.h"
#include "support/gpu.h"

namespace striate {
namespace {

const Device kGpu = testing::test_gpu();
constexpr double kInf = std::numeric_limits<double>::infinity();

struct Tolerance {
  double rtol, atol;
};

// Sums in another order (the CPU adds one element after another in the
// tensor's type, the GPU in a tree) and the GPU's exp/log (a few ulp): the
// error grows with the length of the sum; log-softmax values near 0 carry
// the absolute error of log(sum), gradients that of sum(g). The CPU's own
// float32 error against a float64 computation reaches about a third of the
// float32 tolerance on the 2500- and 3001-long dims here.
Tolerance tolerance_for(DType dtype) {
  if (dtype == kDouble) return {1e-12, 1e-14};
  if (dtype == kFloat) return {5e-5, 5e-6};
  if (dtype == kHalf) return {2e-3, 1e-3};  // computed in f32, rounded once: an ulp apart at most
  return {1.6e-2, 1e-2};
}

void expect_close(const Tensor& gpu, const Tensor& cpu, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(gpu.device(), kGpu);
  ASSERT_EQ(gpu.sizes(), cpu.sizes());
  ASSERT_EQ(gpu.dtype(), cpu.dtype());
  const auto g = gpu.cpu().to(kDouble).contiguous().flatten().to_vector<double>();
  const auto c = cpu.to(kDouble).contiguous().flatten().to_vector<double>();
  const Tolerance tol = tolerance_for(cpu.dtype());
  int64_t bad = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    const bool ok = std::isnan(c[i])   ? std::isnan(g[i])
                    : std::isinf(c[i]) ? g[i] == c[i]
                                       : std::abs(g[i] - c[i]) <= tol.atol + tol.rtol * std::abs(c[i]);
    if (!ok && bad++ < 5) ADD_FAILURE() << "element " << i << ": gpu " << g[i] << ", cpu " << c[i];
  }
  EXPECT_EQ(bad, 0) << bad << " of " << c.size() << " elements differ";
}

// Frees device blocks of these sizes filled with NaN bytes, so the caching
// allocator hands them to the next allocations of the same sizes.
void poison_cache(std::initializer_list<int64_t> bytes) {
  std::vector<Tensor> blocks;
  for (int64_t n : bytes) blocks.push_back(full({n}, 255, TensorOptions(kByte).device(kGpu)));
}

enum class Values { Plain, Large, NegInf };

const char* values_name(Values v) { return v == Values::Plain ? "plain" : v == Values::Large ? "+-80" : "-inf"; }

// randn * 3; Large sets a third of the entries to +-80; NegInf sets every
// seventh entry to -inf, and (when `empty_slice`) the last slice along dim.
Tensor inputs(const Shape& shape, int64_t dim, DType dtype, Values values, bool empty_slice, uint64_t seed) {
  Generator gen(seed);
  std::vector<double> v = (randn(shape, TensorOptions(kDouble), &gen) * 3).to_vector<double>();
  const int64_t n = static_cast<int64_t>(v.size());
  if (values == Values::Large)
    for (int64_t k = 0; k < n; k += 3) v[k] = (k / 3) % 2 == 0 ? 80.0 : -80.0;
  if (values == Values::NegInf) {
    for (int64_t k = 1; k < n; k += 7) v[k] = -kInf;
    const int64_t rank = static_cast<int64_t>(shape.size());
    if (empty_slice && n > 0 && rank > 0) {
      const int64_t d = dim < 0 ? dim + rank : dim;
      int64_t base = 0, stride = 1, dim_stride = 1;
      for (int64_t j = rank - 1; j >= 0; --j) {
        if (j == d) dim_stride = stride;
        else base += (shape[j] - 1) * stride;
        stride *= shape[j];
      }
      for (int64_t i = 0; i < shape[d]; ++i) v[base + i * dim_stride] = -kInf;
    }
  }
  return from_vector(v, shape).to(dtype);
}

struct Case {
  Shape shape;
  std::vector<int64_t> dims;
};

const Case kCases[] = {
    {{7, 1000}, {0, 1, -1}},
    {{3, 5, 17}, {0, 1, 2}},
    {{2, 13, 3, 5}, {0, 1, 2, 3}},
    {{1, 1}, {0, 1}},
    {{4, 1, 6}, {1}},        // a dim of size 1, inner > 1
    {{6, 1}, {1}},           // a dim of size 1, inner == 1
    {{9}, {0}},
    {{5, 3001}, {1, 0}},     // long rows: a block per row
    {{2, 2500, 3}, {1}},     // long columns, few of them: split columns
    {{4, 33, 700}, {1}},     // many columns
};

int64_t bytes_of(const Tensor& t) { return static_cast<int64_t>(t.nbytes()); }

using SoftmaxFn = Tensor (*)(const Tensor&, int64_t, std::optional<DType>);

struct Variant {
  const char* name;
  SoftmaxFn fn;
};

const Variant kVariants[] = {{"softmax", &softmax}, {"log_softmax", &log_softmax}};

std::string describe(const char* op, const Shape& shape, int64_t dim, DType dtype, Values values) {
  return std::string(op) + " " + shape_str(shape) + " dim " + std::to_string(dim) + " " + dtype_name(dtype) + " " +
         values_name(values);
}

TEST(CudaSoftmax, ForwardMatchesTheCpu) {
  STRIATE_REQUIRE_GPU();
  uint64_t seed = 1;
  for (const Case& c : kCases)
    for (int64_t dim : c.dims)
      for (DType dtype : {kFloat, kDouble})
        for (Values values : {Values::Plain, Values::Large, Values::NegInf})
          for (const Variant& v : kVariants) {
            const Tensor x = inputs(c.shape, dim, dtype, values, true, ++seed);
            const Tensor xg = x.to(kGpu);
            poison_cache({bytes_of(x)});
            expect_close(v.fn(xg, dim, std::nullopt), v.fn(x, dim, std::nullopt),
                         describe(v.name, c.shape, dim, dtype, values));
          }
}

TEST(CudaSoftmax, KnownValues) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble}) {
    // [1, 1]: softmax 1, log_softmax 0; a huge logit does not overflow.
    Tensor one = full({1, 1}, 1e30, TensorOptions(dtype).device(kGpu));
    EXPECT_EQ(softmax(one, 1).item<double>(), 1.0);
    EXPECT_EQ(log_softmax(one, 0).item<double>(), 0.0);
    // Equal logits: uniform.
    Tensor same = full({3, 4}, -80.0, TensorOptions(dtype).device(kGpu));
    for (double p : softmax(same, 1).cpu().to(kDouble).flatten().to_vector<double>()) EXPECT_NEAR(p, 0.25, 1e-7);
    // A -inf entry has probability 0 and log-probability -inf; all -inf is NaN.
    Tensor x = from_vector(std::vector<double>{0.0, -kInf, 0.0, -kInf, -kInf, -kInf}, {2, 3}).to(dtype).to(kGpu);
    const auto p = softmax(x, 1).cpu().to(kDouble).to_vector<double>();
    EXPECT_NEAR(p[0], 0.5, 1e-7);
    EXPECT_EQ(p[1], 0.0);
    EXPECT_TRUE(std::isnan(p[3]) && std::isnan(p[4]) && std::isnan(p[5]));
    const auto lp = log_softmax(x, 1).cpu().to(kDouble).to_vector<double>();
    EXPECT_EQ(lp[1], -kInf);
    EXPECT_NEAR(lp[2], -std::log(2.0), 1e-6);
    EXPECT_TRUE(std::isnan(lp[3]));
  }
}

TEST(CudaSoftmax, MoreRowsThanOneGridCovers) {
  STRIATE_REQUIRE_GPU();
  // Rows: 65535 blocks of 8 warps cover 524280 of them, the rest go round the
  // grid again. Columns: 600001 of them, a thread each.
  for (int64_t dim : {1, 0}) {
    const Shape shape = dim == 1 ? Shape{600001, 3} : Shape{3, 600001};
    const Tensor x = inputs(shape, dim, kFloat, Values::Plain, false, 99);
    poison_cache({bytes_of(x)});
    expect_close(log_softmax(x.to(kGpu), dim), log_softmax(x, dim), "log_softmax " + shape_str(shape));
    poison_cache({bytes_of(x)});
    expect_close(softmax(x.to(kGpu), dim), softmax(x, dim), "softmax " + shape_str(shape));
  }
}

TEST(CudaSoftmax, BackwardMatchesTheCpu) {
  STRIATE_REQUIRE_GPU();
  uint64_t seed = 1000;
  for (const Case& c : kCases)
    for (int64_t dim : c.dims)
      for (DType dtype : {kFloat, kDouble})
        for (Values values : {Values::Plain, Values::Large, Values::NegInf})
          for (const Variant& v : kVariants) {
            // No all -inf slice: its NaN would reach every gradient of the slice on both sides alike.
            Tensor x_cpu = inputs(c.shape, dim, dtype, values, false, ++seed).requires_grad_();
            Tensor x_gpu = x_cpu.detach().to(kGpu).requires_grad_();
            Generator gen(seed);
            const Tensor g = randn(c.shape, TensorOptions(dtype), &gen);
            v.fn(x_cpu, dim, std::nullopt).backward(g);
            Tensor y_gpu = v.fn(x_gpu, dim, std::nullopt);
            const Tensor g_gpu = g.to(kGpu);
            poison_cache({bytes_of(g)});
            y_gpu.backward(g_gpu);
            expect_close(x_gpu.grad(), x_cpu.grad(), describe(v.name, c.shape, dim, dtype, values) + " grad");
          }
}

TEST(CudaSoftmax, BackwardOfALossThroughLogSoftmax) {
  STRIATE_REQUIRE_GPU();
  // The gradient of sum(log_softmax) along rows, and of a weighted sum of softmax.
  Generator gen(5);
  Tensor x_cpu = (randn({31, 257}, TensorOptions(kDouble), &gen) * 10).requires_grad_();
  Tensor x_gpu = x_cpu.detach().to(kGpu).requires_grad_();
  const Tensor w = randn({31, 257}, TensorOptions(kDouble), &gen);
  (log_softmax(x_cpu, 1).sum() + (softmax(x_cpu, 0) * w).sum()).backward();
  (log_softmax(x_gpu, 1).sum() + (softmax(x_gpu, 0) * w.to(kGpu)).sum()).backward();
  expect_close(x_gpu.grad(), x_cpu.grad(), "sum of log_softmax and weighted softmax");
}

TEST(CudaSoftmax, HalfPrecisionAndDtypeArgument) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kHalf, kBFloat16}) {
    const Tensor x = inputs({6, 77}, 1, dtype, Values::Plain, false, 7);
    expect_close(softmax(x.to(kGpu), 1), softmax(x, 1), std::string("softmax ") + dtype_name(dtype));
    expect_close(log_softmax(x.to(kGpu), 0), log_softmax(x, 0), std::string("log_softmax ") + dtype_name(dtype));
  }
  const Tensor x = inputs({5, 9}, 1, kFloat, Values::Plain, false, 8);
  expect_close(softmax(x.to(kGpu), 1, kDouble), softmax(x, 1, kDouble), "softmax dtype=f64");
}

TEST(CudaSoftmax, EmptyTensors) {
  STRIATE_REQUIRE_GPU();
  for (const Shape& shape : {Shape{0, 5}, Shape{4, 0}, Shape{3, 0, 2}}) {
    const Tensor x = zeros(shape, TensorOptions(kFloat).device(kGpu));
    for (int64_t dim = 0; dim < static_cast<int64_t>(shape.size()); ++dim) {
      EXPECT_EQ(softmax(x, dim).sizes(), shape);
      EXPECT_EQ(log_softmax(x, dim).sizes(), shape);
    }
  }
}

}  // namespace
}  // namespace striate
