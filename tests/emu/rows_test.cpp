// The row-wise CUDA kernels (softmax.cu, reduce.cu) run by the emulator
// against the CPU: softmax / log_softmax forward and backward, sum, var and
// arg max/min, over [outer, dim, inner] shapes that take each of their
// layouts — a warp per row (inner 1, short rows), a block per row (long
// rows), and threads per column, with several threads splitting one column
// (folded through shared memory) or one each.
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "compare.h"
#include "kernels/reduce.h"
#include "kernels/softmax.h"

namespace striate::emu_test {
namespace {

struct Shape3 {
  const char* name;
  int64_t outer, dim, inner;
  int64_t numel() const { return outer * dim * inner; }
};

const std::vector<Shape3> kShapes = {
    {"warp rows", 11, 17, 1},         // 8 rows per block: the second block part-filled
    {"one warp row of 1000", 2, 1000, 1},
    {"block rows", 3, 1500, 1},        // dim > 1024: 512 threads per row
    {"split columns", 4, 37, 5},       // 20 columns, 8 threads each
    {"one thread per column", 2, 5, 300},
};

template <typename T>
DType dtype_of() {
  return std::is_same_v<T, float> ? DType::F32 : DType::F64;
}

template <typename T>
void expect_softmax_matches(const Shape3& s, bool log) {
  const std::string where = std::string(s.name) + (log ? ", log_softmax, " : ", softmax, ") + dtype_name(dtype_of<T>());
  const std::vector<T> x = random_values<T>(s.numel(), 5), g = random_values<T>(s.numel(), 6);
  const kernels::SoftmaxShape shape{s.outer, s.dim, s.inner};

  std::vector<T> y = poisoned<T>(x.size());
  kernels::cuda::softmax({x.data(), y.data(), shape, log, dtype_of<T>()});
  const std::vector<double> x64 = to_f64(x), g64 = to_f64(g);
  std::vector<double> want(x.size());
  kernels::cpu::softmax({x64.data(), want.data(), shape, log, DType::F64});
  expect_close(y, want, scale_of(want), s.dim, where + " forward");

  // The backward from the emulated forward's own output, as autograd would.
  std::vector<T> gx = poisoned<T>(x.size());
  kernels::cuda::softmax_backward({g.data(), y.data(), gx.data(), shape, log, dtype_of<T>()});
  const std::vector<double> y64 = to_f64(y);
  std::vector<double> want_gx(x.size());
  kernels::cpu::softmax_backward({g64.data(), y64.data(), want_gx.data(), shape, log, DType::F64});
  expect_close(gx, want_gx, scale_of(want_gx), s.dim, where + " backward");
}

template <typename T>
void expect_reductions_match(const Shape3& s) {
  const std::string where = std::string(s.name) + ", " + dtype_name(dtype_of<T>());
  const std::vector<T> x = random_values<T>(s.numel(), 7);
  const std::vector<double> x64 = to_f64(x), x_abs = abs_f64(x);
  const kernels::ReduceShape shape{s.outer, s.dim, s.inner};
  const size_t outputs = static_cast<size_t>(s.outer * s.inner);

  std::vector<T> sum = poisoned<T>(outputs);
  kernels::cuda::reduce({x.data(), sum.data(), shape, dtype_of<T>(), kernels::ReduceOp::Sum, 0.5});
  std::vector<double> want(outputs), size(outputs);
  kernels::cpu::reduce({x64.data(), want.data(), shape, DType::F64, kernels::ReduceOp::Sum, 0.5});
  kernels::cpu::reduce({x_abs.data(), size.data(), shape, DType::F64, kernels::ReduceOp::Sum, 0.5});
  expect_close(sum, want, size, s.dim, where + ": sum");

  std::vector<T> var = poisoned<T>(outputs);
  kernels::cuda::reduce({x.data(), var.data(), shape, dtype_of<T>(), kernels::ReduceOp::Var, 1, 1});
  kernels::cpu::reduce({x64.data(), want.data(), shape, DType::F64, kernels::ReduceOp::Var, 1, 1});
  expect_close(var, want, scale_of(want), s.dim, where + ": var");

  for (bool is_max : {true, false}) {
    std::vector<T> values = poisoned<T>(outputs), want_values(outputs);
    std::vector<int64_t> indices(outputs, -1), want_indices(outputs, -2);
    kernels::cuda::arg_reduce({x.data(), values.data(), indices.data(), shape, dtype_of<T>(), is_max});
    kernels::cpu::arg_reduce({x.data(), want_values.data(), want_indices.data(), shape, dtype_of<T>(), is_max});
    EXPECT_EQ(indices, want_indices) << where << (is_max ? ": argmax" : ": argmin");
    EXPECT_EQ(values, want_values) << where << (is_max ? ": max" : ": min");
  }
}

TEST(EmulatedRows, IntegerSumsAreExact) {
  for (const Shape3& s : kShapes) {
    std::vector<int32_t> x(static_cast<size_t>(s.numel()));
    std::mt19937 gen(8);
    for (int32_t& v : x) v = static_cast<int32_t>(gen() % 2001) - 1000;
    const size_t outputs = static_cast<size_t>(s.outer * s.inner);
    std::vector<int64_t> got(outputs, -7), want(outputs, -8);
    const kernels::ReduceShape shape{s.outer, s.dim, s.inner};
    kernels::cuda::reduce({x.data(), got.data(), shape, DType::I32});
    kernels::cpu::reduce({x.data(), want.data(), shape, DType::I32});
    EXPECT_EQ(got, want) << s.name;
  }
}

struct Param {
  const Shape3* s;
  bool f64;
};

void PrintTo(const Param& p, std::ostream* os) { *os << p.s->name << (p.f64 ? ", f64" : ", f32"); }

std::string param_name(const testing::TestParamInfo<Param>& info) {
  std::string n = std::string(info.param.s->name) + (info.param.f64 ? "_f64" : "_f32");
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

std::vector<Param> params() {
  std::vector<Param> all;
  for (bool f64 : {false, true})
    for (const Shape3& s : kShapes) all.push_back({&s, f64});
  return all;
}

class EmulatedRows : public testing::TestWithParam<Param> {};

TEST_P(EmulatedRows, SoftmaxMatchesTheCpu) {
  for (bool log : {false, true}) {
    if (GetParam().f64) expect_softmax_matches<double>(*GetParam().s, log);
    else expect_softmax_matches<float>(*GetParam().s, log);
  }
}

TEST_P(EmulatedRows, ReductionsMatchTheCpu) {
  if (GetParam().f64) expect_reductions_match<double>(*GetParam().s);
  else expect_reductions_match<float>(*GetParam().s);
}

INSTANTIATE_TEST_SUITE_P(Kernels, EmulatedRows, testing::ValuesIn(params()), param_name);

}  // namespace
}  // namespace striate::emu_test
