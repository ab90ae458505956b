// The CUDA GEMM against the CPU backend, on both GPU backends (the native
// tiled kernel and cuBLAS): through the public ops (mm, bmm, matmul with
// broadcast batches, addmm, linear, and the gradients of mm and linear),
// every dtype, operands plain, transposed (trans = true) and windowed
// (ld > columns, an unaligned start), shapes across the tile edges and k = 0;
// and raw kernel calls into poisoned buffers with ldc > n.
//
// Tolerance. A GEMM element is a sum of k products, which the GPU adds in
// another order than the CPU's BLAS (other blockings, fused multiply-adds).
// Each order's rounding error grows like sqrt(k) times the size of the
// products, not with the size of the result: an element that cancels to
// near zero may differ from the CPU's in every digit, so compare.h's
// element-wise rtol would fail correct kernels. The bound is absolute per
// problem instead:
//   |gpu - cpu| <= rtol |cpu| + 8 eps (sqrt(k) |alpha| max|A| max|B| + |beta| max|C|)
// with eps the precision the sums are taken in (f32 for f16/bf16) and rtol
// compare.h's, which covers the final rounding to the stored type. A wrong
// or missing product is of the size of max|A| max|B| and far outside it.
// Integer results (wrapping) must be exact.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "cuda/compare.h"
#include "kernels/gemm.h"
#include "striate/core/backend.h"
#include "striate/striate.h"
#include "support/gpu.h"

namespace striate {
namespace {

const Device kGpu = testing::test_gpu();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const DType kDTypes[] = {kFloat, kDouble, kHalf, kBFloat16, kInt, kLong, kByte};
const KernelBackend kBackends[] = {KernelBackend::Native, KernelBackend::Library};

struct Dims {
  int64_t m, k, n;  // op(A): [m, k], op(B): [k, n]
};
const Dims kShapes[] = {{1, 1, 1}, {7, 13, 5}, {1, 1000, 1}, {129, 65, 257}, {256, 256, 256}, {5, 0, 4}};

std::string describe(const char* op, DType dtype, KernelBackend backend, const Dims& d) {
  return std::string(op) + " " + dtype_name(dtype) + " " + backend_name(OpFamily::Gemm, backend) + " " +
         std::to_string(d.m) + "x" + std::to_string(d.k) + "x" + std::to_string(d.n);
}

// The same values on every call with the same seed. Integers span wide
// ranges so that products and sums overflow: the results must wrap.
Tensor random(const Shape& sizes, DType dtype, uint64_t seed) {
  Generator gen(seed);
  if (is_floating_point(dtype)) return randn(sizes, TensorOptions(kDouble), &gen).to(dtype);
  if (dtype == kByte) return randint(0, 256, sizes, TensorOptions(kByte), &gen);
  if (dtype == kInt) return randint(-(1 << 20), 1 << 20, sizes, TensorOptions(kInt), &gen);
  return randint(-(int64_t{1} << 40), int64_t{1} << 40, sizes, TensorOptions(kLong), &gen);
}

double max_abs(const Tensor& t) { return t.numel() == 0 ? 0.0 : t.to(kDouble).abs().max().item<double>(); }

// How an operand [rows, cols] is stored: contiguous; a transposed view (the
// GEMM gets trans = true); or a column window of a wider matrix (ld > cols).
enum class Layout { Plain, Transposed, Window };
const Layout kLayouts[] = {Layout::Plain, Layout::Transposed, Layout::Window};
const char* layout_name(Layout l) { return l == Layout::Plain ? "plain" : l == Layout::Transposed ? "t" : "window"; }

Tensor operand(int64_t rows, int64_t cols, DType dtype, uint64_t seed, Layout layout, const Device& device) {
  switch (layout) {
    case Layout::Plain: return random({rows, cols}, dtype, seed).to(device);
    case Layout::Transposed: return random({cols, rows}, dtype, seed).to(device).t();
    case Layout::Window: return random({rows, cols + 3}, dtype, seed).to(device).narrow(1, 1, cols);
  }
  return {};
}

// The GEMM bound above; `products` = |alpha| max|A| max|B|, `c_term` = |beta| max|C|.
void expect_gemm_matches(const Tensor& gpu, const Tensor& cpu, int64_t k, double products, double c_term,
                         const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(gpu.device(), kGpu);
  ASSERT_EQ(gpu.sizes(), cpu.sizes());
  ASSERT_EQ(gpu.dtype(), cpu.dtype());
  int64_t bad = 0;
  if (!cpu.is_floating_point()) {
    const auto gv = gpu.cpu().contiguous().flatten().to_vector<int64_t>();
    const auto cv = cpu.contiguous().flatten().to_vector<int64_t>();
    for (size_t i = 0; i < cv.size(); ++i)
      if (gv[i] != cv[i] && bad++ < 5) ADD_FAILURE() << "element " << i << ": gpu " << gv[i] << ", cpu " << cv[i];
  } else {
    const double eps = cpu.dtype() == kDouble ? DBL_EPSILON : FLT_EPSILON;
    const double atol = 8 * eps * (std::sqrt(static_cast<double>(std::max<int64_t>(k, 1))) * products + c_term);
    const double rtol = testing::tolerance_for(cpu.dtype()).rtol;
    const auto gv = gpu.cpu().to(kDouble).contiguous().flatten().to_vector<double>();
    const auto cv = cpu.to(kDouble).contiguous().flatten().to_vector<double>();
    for (size_t i = 0; i < cv.size(); ++i) {
      const bool ok = std::isnan(cv[i])   ? std::isnan(gv[i])
                      : std::isinf(cv[i]) ? gv[i] == cv[i]
                                          : std::abs(gv[i] - cv[i]) <= atol + rtol * std::abs(cv[i]);
      if (!ok && bad++ < 5)
        ADD_FAILURE() << "element " << i << ": gpu " << gv[i] << ", cpu " << cv[i] << " (atol " << atol << ")";
    }
  }
  EXPECT_EQ(bad, 0) << bad << " elements differ";
}

double products_of(const Tensor& a, const Tensor& b, double alpha = 1) {
  return a.is_floating_point() ? std::abs(alpha) * max_abs(a) * max_abs(b) : 0.0;
}

TEST(CudaGemm, MmMatchesTheCpuForEveryDtypeLayoutAndBackend) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : kDTypes)
    for (const Dims& d : kShapes)
      for (Layout la : kLayouts)
        for (Layout lb : kLayouts) {
          const Tensor a = operand(d.m, d.k, dtype, 1, la, Device::cpu());
          const Tensor b = operand(d.k, d.n, dtype, 2, lb, Device::cpu());
          const Tensor want = mm(a, b);
          for (KernelBackend backend : kBackends) {
            KernelBackendGuard guard(OpFamily::Gemm, backend);
            const Tensor got = mm(operand(d.m, d.k, dtype, 1, la, kGpu), operand(d.k, d.n, dtype, 2, lb, kGpu));
            expect_gemm_matches(got, want, d.k, products_of(a, b), 0,
                                describe("mm", dtype, backend, d) + " " + layout_name(la) + " " + layout_name(lb));
          }
        }
}

// allow_tf32(Gemm), native and cuBLAS: within TF32's rounding of each
// product, whether a kernel rounds or truncates its inputs (2^-9 of
// |A||B|, element by element), plus f32's summation bound.
TEST(CudaGemm, AllowTf32KeepsMmWithinTf32Precision) {
  STRIATE_REQUIRE_GPU();
  set_allow_tf32(OpFamily::Gemm, true);
  for (const Dims& d : kShapes)
    for (Layout la : kLayouts)
      for (Layout lb : kLayouts) {
        const Tensor a = operand(d.m, d.k, kFloat, 1, la, Device::cpu());
        const Tensor b = operand(d.k, d.n, kFloat, 2, lb, Device::cpu());
        const Tensor want = mm(a.to(kDouble), b.to(kDouble));
        const Tensor size = mm(a.to(kDouble).abs(), b.to(kDouble).abs());
        const double f32_bound = 8 * FLT_EPSILON * std::sqrt(static_cast<double>(std::max<int64_t>(d.k, 1))) *
                                 products_of(a, b);
        for (KernelBackend backend : {KernelBackend::Native, KernelBackend::Library}) {
          KernelBackendGuard guard(OpFamily::Gemm, backend);
          const Tensor got = mm(operand(d.m, d.k, kFloat, 1, la, kGpu), operand(d.k, d.n, kFloat, 2, lb, kGpu));
          ASSERT_EQ(got.sizes(), want.sizes());
          if (want.numel() == 0) continue;
          const Tensor excess = (got.cpu().to(kDouble) - want).abs() - size * std::ldexp(1.0, -9) - f32_bound;
          EXPECT_LE(excess.max().item<double>(), 0.0)
              << describe("mm tf32", kFloat, backend, d) << " " << layout_name(la) << " " << layout_name(lb);
        }
      }
  set_allow_tf32(OpFamily::Gemm, false);
}

TEST(CudaGemm, BmmAndBroadcastingMatmulMatchTheCpu) {
  STRIATE_REQUIRE_GPU();
  const Dims shapes[] = {{1, 1, 1}, {7, 13, 5}, {129, 65, 257}, {5, 0, 4}};
  constexpr int64_t kBatch = 3;
  for (DType dtype : kDTypes)
    for (const Dims& d : shapes)
      for (KernelBackend backend : kBackends) {
        KernelBackendGuard guard(OpFamily::Gemm, backend);
        const std::string what = describe("", dtype, backend, d);
        // bmm, each operand plain or a transposed view of its matrices.
        for (bool ta : {false, true})
          for (bool tb : {false, true}) {
            // Stored [batch, k, m] (and [batch, n, k]) when transposed.
            const Tensor sa = random(ta ? Shape{kBatch, d.k, d.m} : Shape{kBatch, d.m, d.k}, dtype, 3);
            const Tensor sb = random(tb ? Shape{kBatch, d.n, d.k} : Shape{kBatch, d.k, d.n}, dtype, 4);
            const Tensor a = ta ? sa.transpose(1, 2) : sa, b = tb ? sb.transpose(1, 2) : sb;
            const Tensor a_gpu = ta ? sa.to(kGpu).transpose(1, 2) : sa.to(kGpu);
            const Tensor b_gpu = tb ? sb.to(kGpu).transpose(1, 2) : sb.to(kGpu);
            expect_gemm_matches(bmm(a_gpu, b_gpu), bmm(a, b), d.k, products_of(a, b), 0,
                                "bmm" + what + (ta ? " t(a)" : "") + (tb ? " t(b)" : ""));
          }
        const Tensor a2 = random({d.m, d.k}, dtype, 5), a3 = random({kBatch, d.m, d.k}, dtype, 6);
        const Tensor a4 = random({2, 1, d.m, d.k}, dtype, 7);
        const Tensor b2 = random({d.k, d.n}, dtype, 8), b3 = random({kBatch, d.k, d.n}, dtype, 9);
        // One A for every batch (a batch stride of 0), batches folded into
        // rows, and broadcast batch dims [2, 1] x [3].
        expect_gemm_matches(matmul(a2.to(kGpu), b3.to(kGpu)), matmul(a2, b3), d.k, products_of(a2, b3), 0,
                            "matmul 2-D x 3-D" + what);
        expect_gemm_matches(matmul(a3.to(kGpu), b2.to(kGpu)), matmul(a3, b2), d.k, products_of(a3, b2), 0,
                            "matmul 3-D x 2-D" + what);
        expect_gemm_matches(matmul(a4.to(kGpu), b3.to(kGpu)), matmul(a4, b3), d.k, products_of(a4, b3), 0,
                            "matmul 4-D x 3-D" + what);
      }
}

TEST(CudaGemm, AddmmMatchesTheCpuWithAndWithoutBeta) {
  STRIATE_REQUIRE_GPU();
  const Dims shapes[] = {{1, 1, 1}, {7, 13, 5}, {129, 65, 257}, {5, 0, 4}};
  for (DType dtype : kDTypes)
    for (const Dims& d : shapes)
      for (KernelBackend backend : kBackends) {
        KernelBackendGuard guard(OpFamily::Gemm, backend);
        const std::string what = describe("addmm", dtype, backend, d);
        const bool floating = is_floating_point(dtype);
        const Scalar beta = floating ? Scalar(0.5) : Scalar(2), alpha = floating ? Scalar(1.5) : Scalar(3);
        const Tensor a = random({d.m, d.k}, dtype, 10), b = random({d.k, d.n}, dtype, 11);
        const Tensor a_gpu = a.to(kGpu), b_gpu = b.to(kGpu);
        const Tensor c = random({d.m, d.n}, dtype, 12), bias = random({d.n}, dtype, 13);
        const double products = products_of(a, b, alpha.to_double());
        const double c_term = floating ? std::abs(beta.to_double()) * max_abs(c) : 0.0;
        expect_gemm_matches(addmm(c.to(kGpu), a_gpu, b_gpu, beta, alpha), addmm(c, a, b, beta, alpha), d.k, products,
                            c_term, what + " beta, alpha");
        expect_gemm_matches(addmm(bias.to(kGpu), a_gpu.t().contiguous().t(), b_gpu.t().contiguous().t()),
                            addmm(bias, a, b), d.k, products_of(a, b), floating ? max_abs(bias) : 0.0,
                            what + " broadcast bias, t(a), t(b)");
        // beta == 0 ignores C: a NaN input must not reach the result. The
        // output buffer is poisoned too: a block of its size, freed just
        // before, is what the caching allocator hands addmm for it.
        const Tensor nan_c = floating ? full({d.m, d.n}, kNaN, TensorOptions(dtype)) : c;
        const Tensor want = addmm(nan_c, a, b, 0, alpha), nan_c_gpu = nan_c.to(kGpu);
        { const Tensor poison = nan_c.to(kGpu); }
        expect_gemm_matches(addmm(nan_c_gpu, a_gpu, b_gpu, 0, alpha), want, d.k, products, 0, what + " beta 0");
      }
}

TEST(CudaGemm, LinearMatchesTheCpuWithAndWithoutBias) {
  STRIATE_REQUIRE_GPU();
  const Dims shapes[] = {{1, 1, 1}, {7, 13, 5}, {129, 65, 257}, {256, 256, 256}};
  for (DType dtype : kDTypes)
    for (const Dims& d : shapes)
      for (KernelBackend backend : kBackends) {
        KernelBackendGuard guard(OpFamily::Gemm, backend);
        const std::string what = describe("linear", dtype, backend, d);
        const Tensor x = random({d.m, d.k}, dtype, 14), x3 = random({2, d.m, d.k}, dtype, 15);
        const Tensor w = random({d.n, d.k}, dtype, 16), bias = random({d.n}, dtype, 17);
        const Tensor w_gpu = w.to(kGpu), bias_gpu = bias.to(kGpu);
        const double products = products_of(x, w), c_term = is_floating_point(dtype) ? max_abs(bias) : 0.0;
        expect_gemm_matches(linear(x.to(kGpu), w_gpu), linear(x, w), d.k, products, 0, what);
        expect_gemm_matches(linear(x.to(kGpu), w_gpu, bias_gpu), linear(x, w, bias), d.k, products, c_term,
                            what + " bias");
        expect_gemm_matches(linear(x3.to(kGpu), w_gpu, bias_gpu), linear(x3, w, bias), d.k, products_of(x3, w),
                            c_term, what + " 3-D input, bias");
      }
}

// Both operands' gradients; `b` is used transposed when tb, so the
// backward products see every trans combination.
TEST(CudaGemm, MmAndLinearGradientsMatchTheCpu) {
  STRIATE_REQUIRE_GPU();
  const Dims shapes[] = {{1, 1, 1}, {7, 13, 5}, {1, 1000, 1}, {129, 65, 257}, {5, 0, 4}};
  for (DType dtype : {kFloat, kDouble})
    for (const Dims& d : shapes)
      for (KernelBackend backend : kBackends) {
        KernelBackendGuard guard(OpFamily::Gemm, backend);
        for (bool tb : {false, true}) {
          const std::string what = describe("mm grad", dtype, backend, d) + (tb ? " t(b)" : "");
          const Tensor a0 = random({d.m, d.k}, dtype, 20);
          const Tensor b0 = random(tb ? Shape{d.n, d.k} : Shape{d.k, d.n}, dtype, 21);
          const Tensor g = random({d.m, d.n}, dtype, 22);
          Tensor a = a0.detach().requires_grad_(), b = b0.detach().requires_grad_();
          Tensor a_gpu = a0.to(kGpu).requires_grad_(), b_gpu = b0.to(kGpu).requires_grad_();
          mm(a, tb ? b.t() : b).backward(g);
          mm(a_gpu, tb ? b_gpu.t() : b_gpu).backward(g.to(kGpu));
          expect_gemm_matches(a_gpu.grad(), a.grad(), d.n, products_of(g, b0), 0, what + ": grad a");
          expect_gemm_matches(b_gpu.grad(), b.grad(), d.m, products_of(a0, g), 0, what + ": grad b");
        }
        const std::string what = describe("linear grad", dtype, backend, d);
        const Tensor x0 = random({d.m, d.k}, dtype, 23), w0 = random({d.n, d.k}, dtype, 24);
        const Tensor bias0 = random({d.n}, dtype, 25), g = random({d.m, d.n}, dtype, 26);
        Tensor x = x0.detach().requires_grad_(), w = w0.detach().requires_grad_();
        Tensor bias = bias0.detach().requires_grad_();
        Tensor x_gpu = x0.to(kGpu).requires_grad_(), w_gpu = w0.to(kGpu).requires_grad_();
        Tensor bias_gpu = bias0.to(kGpu).requires_grad_();
        linear(x, w, bias).backward(g);
        linear(x_gpu, w_gpu, bias_gpu).backward(g.to(kGpu));
        expect_gemm_matches(x_gpu.grad(), x.grad(), d.n, products_of(g, w0), 0, what + ": grad x");
        expect_gemm_matches(w_gpu.grad(), w.grad(), d.m, products_of(g, x0), 0, what + ": grad weight");
        expect_gemm_matches(bias_gpu.grad(), bias.grad(), d.m, max_abs(g), 0, what + ": grad bias");
      }
}

// The kernels on their own: C has ldc > n and is poisoned (NaN, or
// arbitrary integers); A is one matrix for both batches (batch stride 0).
// beta == 0 must ignore C, alpha == 0 must only scale it, and the padding
// columns must be left as they were.
TEST(CudaGemm, RawKernelWritesOnlyCAndHonoursAlphaAndBeta) {
  STRIATE_REQUIRE_GPU();
  constexpr int64_t kBatch = 2, m = 37, k = 45, n = 70, ldc = n + 5;
  struct Coefficients {
    double alpha, beta;
  };
  for (DType dtype : kDTypes)
    for (KernelBackend backend : kBackends) {
      KernelBackendGuard guard(OpFamily::Gemm, backend);
      const bool floating = is_floating_point(dtype);
      const Tensor a = random({m, k}, dtype, 30), b = random({kBatch, k, n}, dtype, 31);
      for (const Coefficients co : {Coefficients{1.5, 0}, Coefficients{1.5, 0.5}, Coefficients{0, 0.5},
                                    Coefficients{0, 0}}) {
        const double alpha = floating ? co.alpha : 2 * co.alpha, beta = floating ? co.beta : 6 * co.beta;
        const Tensor c0 = co.beta == 0 && floating ? full({kBatch, m, ldc}, kNaN, TensorOptions(dtype))
                                                   : random({kBatch, m, ldc}, dtype, 32);
        auto run = [&](const Tensor& a_, const Tensor& b_, const Tensor& c_) {
          kernels::GemmParams p;
          p.dtype = dtype;
          p.batch = kBatch;
          p.m = m;
          p.n = n;
          p.k = k;
          p.a = {a_.data_ptr(), k, 0, false};
          p.b = {b_.data_ptr(), n, k * n, false};
          p.c = c_.data_ptr();
          p.ldc = ldc;
          p.c_batch_stride = m * ldc;
          p.alpha = alpha;
          p.beta = beta;
          kernels::gemm_kernel.get(c_.device())(p);
        };
        const Tensor want = c0.clone(), got = c0.to(kGpu);
        run(a, b, want);
        run(a.to(kGpu), b.to(kGpu), got);
        const double c_term = floating && beta != 0 ? std::abs(beta) * max_abs(c0) : 0.0;
        expect_gemm_matches(got, want, k, products_of(a, b, alpha), c_term,
                            std::string("raw gemm ") + dtype_name(dtype) + " " +
                                backend_name(OpFamily::Gemm, backend) + " alpha " + std::to_string(alpha) +
                                " beta " + std::to_string(beta));
      }
    }
}

TEST(CudaGemm, BoolIsRejectedAsOnTheCpu) {
  STRIATE_REQUIRE_GPU();
  const Tensor x = zeros({4, 4}, TensorOptions(kBool).device(kGpu)), c = zeros_like(x);
  for (KernelBackend backend : kBackends) {
    KernelBackendGuard guard(OpFamily::Gemm, backend);
    EXPECT_THROW(mm(x, x), DTypeError);
    kernels::GemmParams p;
    p.dtype = kBool;
    p.m = p.n = p.k = 4;
    p.a = {x.data_ptr(), 4, 0, false};
    p.b = p.a;
    p.c = c.data_ptr();
    p.ldc = 4;
    EXPECT_THROW(kernels::gemm_kernel.get(kGpu)(p), DTypeError) << backend_name(OpFamily::Gemm, backend);
  }
}

}  // namespace
}  // namespace striate
