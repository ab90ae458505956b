// The tiled CUDA GEMM (src/kernels/cuda/gemm.cu) run by the emulator against
// the CPU GEMM: every transpose combination, padded leading dimensions,
// batches (strided and repeated operands), alpha/beta, sizes that are not
// multiples of the tiles (f32 128x128x8, f64 and integers 64x64x8) and span
// several tiles in each dimension, and the k == 0 / alpha == 0 paths that
// only scale C. f32 and f64 within rounding of the f64 reference; int32
// exactly (both wrap modulo 2^32). TF32 (allow_tf32: the TF32 tile of
// implicit_gemm.cuh) within f32 rounding of the reference on TF32-rounded
// A and B.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "compare.h"
#include "kernels/gemm.h"

namespace striate::emu_test {
namespace {

struct Case {
  const char* name;
  int64_t m, n, k;
  bool trans_a = false, trans_b = false;
  int64_t batch = 1;
  double alpha = 1, beta = 0;
  int64_t pad = 0;            // added to every leading dimension
  bool repeat_b = false;      // batch_stride 0: one B for every batch
};

// Rows and columns of an operand as stored (before op()).
struct Stored {
  int64_t rows, cols, ld, batch_stride;
  size_t size(int64_t batch) const {
    return static_cast<size_t>(batch_stride * (batch - 1) + (rows - 1) * ld + cols);
  }
};

struct Layout {
  Stored a, b, c;
};

Layout layout_of(const Case& c) {
  Layout l;
  l.a.rows = c.trans_a ? c.k : c.m;
  l.a.cols = c.trans_a ? c.m : c.k;
  l.b.rows = c.trans_b ? c.n : c.k;
  l.b.cols = c.trans_b ? c.k : c.n;
  l.c.rows = c.m;
  l.c.cols = c.n;
  for (Stored* s : {&l.a, &l.b, &l.c}) {
    s->ld = std::max<int64_t>(1, s->cols) + c.pad;
    s->batch_stride = s->rows * s->ld + 3;  // a gap between batches, never written
  }
  if (c.repeat_b) l.b.batch_stride = 0;
  return l;
}

kernels::GemmParams params_of(const Case& c, const Layout& l, DType dtype, const void* a, const void* b, void* out) {
  kernels::GemmParams p;
  p.dtype = dtype;
  p.batch = c.batch;
  p.m = c.m;
  p.n = c.n;
  p.k = c.k;
  p.a = {a, l.a.ld, l.a.batch_stride, c.trans_a};
  p.b = {b, l.b.ld, l.b.batch_stride, c.trans_b};
  p.c = out;
  p.ldc = l.c.ld;
  p.c_batch_stride = l.c.batch_stride;
  p.alpha = c.alpha;
  p.beta = c.beta;
  return p;
}

const std::vector<Case> kCases = {
    {"1x1x1", 1, 1, 1},
    {"odd sizes NN, padded ld", 37, 53, 19, false, false, 1, 1, 0, 5},
    {"two tiles each way TN, alpha beta", 130, 129, 17, true, false, 1, -1.5, 0.5},
    {"NT, batch 3, k not a multiple of 8", 70, 65, 13, false, true, 3, 0.75, -2},
    {"TT, wide, padded ld", 17, 200, 9, true, true, 1, 1, 1, 3},
    {"batch 2, B repeated, deep k", 66, 20, 150, false, false, 2, 1, 0, 0, true},
    {"k = 0 scales C", 9, 7, 0, false, false, 2, 1, 2},
    {"alpha = 0 with beta = 0 zeroes C", 9, 7, 5, false, false, 1, 0, 0},
    {"k = 0 with beta = 1 leaves C", 9, 7, 0, false, false, 1, 1, 1},
};

template <typename T>
void expect_gemm_matches(const Case& c, bool tf32 = false) {
  constexpr DType dtype = std::is_same_v<T, float> ? DType::F32 : std::is_same_v<T, double> ? DType::F64 : DType::I32;
  const Layout l = layout_of(c);
  std::vector<T> a, b, c0;
  if constexpr (std::is_integral_v<T>) {
    const auto ints = [](size_t n, uint32_t seed) {
      std::vector<T> v(n);
      std::mt19937 gen(seed);
      for (T& x : v) x = static_cast<T>(gen());  // full range: the sums wrap
      return v;
    };
    a = ints(l.a.size(c.batch), 1), b = ints(l.b.size(c.batch), 2), c0 = ints(l.c.size(c.batch), 3);
  } else {
    a = random_values<T>(l.a.size(c.batch), 1), b = random_values<T>(l.b.size(c.batch), 2);
    c0 = random_values<T>(l.c.size(c.batch), 3);
  }
  // beta == 0 must not read C: NaN there (floats) must not reach the result.
  std::vector<T> got = c0;
  if constexpr (!std::is_integral_v<T>)
    if (c.beta == 0) got = poisoned<T>(got.size());
  const std::vector<T> before = got;
  kernels::GemmParams p = params_of(c, l, dtype, a.data(), b.data(), got.data());
  p.allow_tf32 = tf32;
  kernels::cuda::gemm(p);

  const std::string where = std::string(c.name) + ", " + (tf32 ? "tf32" : dtype_name(dtype));
  if constexpr (std::is_integral_v<T>) {
    std::vector<T> want = c0;
    kernels::cpu::gemm(params_of(c, l, dtype, a.data(), b.data(), want.data()));
    EXPECT_EQ(got, want) << where;
  } else {
    std::vector<double> want = to_f64(c0), size = abs_f64(c0);
    const std::vector<T> ra = tf32 ? rounded_to_tf32(a) : a, rb = tf32 ? rounded_to_tf32(b) : b;
    const std::vector<double> a64 = to_f64(ra), b64 = to_f64(rb), a_abs = abs_f64(ra), b_abs = abs_f64(rb);
    kernels::cpu::gemm(params_of(c, l, DType::F64, a64.data(), b64.data(), want.data()));
    Case magnitude = c;
    magnitude.alpha = std::abs(c.alpha), magnitude.beta = std::abs(c.beta);
    kernels::cpu::gemm(params_of(magnitude, l, DType::F64, a_abs.data(), b_abs.data(), size.data()));
    // Only the m x n block of each batch is C; the padding and gaps must be untouched.
    std::vector<T> c_only = got;
    std::vector<double> want_c = want, size_c = size;
    for (int64_t z = 0; z < c.batch; ++z)
      for (int64_t i = 0; i < c.m; ++i)
        for (int64_t j = 0; j < l.c.ld; ++j) {
          const size_t e = static_cast<size_t>(z * l.c.batch_stride + i * l.c.ld + j);
          if (j >= c.n && e < got.size()) {
            EXPECT_TRUE(std::memcmp(&got[e], &before[e], sizeof(T)) == 0) << where << ": padding " << e << " written";
            c_only[e] = 0, want_c[e] = 0, size_c[e] = 0;
          }
        }
    for (int64_t z = 0; z + 1 < c.batch; ++z)
      for (int64_t g = 0; g < 3; ++g) {
        const size_t e = static_cast<size_t>(z * l.c.batch_stride + c.m * l.c.ld + g);
        EXPECT_TRUE(std::memcmp(&got[e], &before[e], sizeof(T)) == 0) << where << ": batch gap " << e << " written";
        c_only[e] = 0, want_c[e] = 0, size_c[e] = 0;
      }
    expect_close(c_only, want_c, size_c, c.k + 1, where);
  }
}

struct Param {
  const Case* c;
  DType dtype;
  bool tf32 = false;
};

const char* name_of(const Param& p) { return p.tf32 ? "tf32" : dtype_name(p.dtype); }

void PrintTo(const Param& p, std::ostream* os) { *os << p.c->name << ", " << name_of(p); }

std::string param_name(const testing::TestParamInfo<Param>& info) {
  std::string s = std::string(info.param.c->name) + "_" + name_of(info.param);
  for (char& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return s;
}

std::vector<Param> params() {
  std::vector<Param> all;
  for (DType dtype : {DType::F32, DType::F64, DType::I32})
    for (const Case& c : kCases) all.push_back({&c, dtype});
  for (const Case& c : kCases) all.push_back({&c, DType::F32, true});
  return all;
}

class EmulatedGemm : public testing::TestWithParam<Param> {};

TEST_P(EmulatedGemm, MatchesTheCpu) {
  const Param& p = GetParam();
  if (p.dtype == DType::F32) expect_gemm_matches<float>(*p.c, p.tf32);
  else if (p.dtype == DType::F64) expect_gemm_matches<double>(*p.c);
  else expect_gemm_matches<int32_t>(*p.c);
}

INSTANTIATE_TEST_SUITE_P(Kernels, EmulatedGemm, testing::ValuesIn(params()), param_name);

}  // namespace
}  // namespace striate::emu_test
