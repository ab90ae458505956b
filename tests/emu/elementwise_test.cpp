// The CUDA elementwise kernels (elementwise.cu) run by the emulator against
// the CPU: the arithmetic binary ops (f32, f64, and int32 exactly), the
// comparisons and logic ops (bool out, exactly), the unary ops and where,
// over each loop of loops.h (vector path, scalar fallback, strided view).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "compare.h"
#include "kernels/elementwise.h"
#include "loops.h"

namespace striate::emu_test {
namespace {

using kernels::BinaryOp;
using kernels::UnaryOp;

template <typename T>
DType dtype_of() {
  return std::is_same_v<T, float> ? DType::F32 : std::is_same_v<T, double> ? DType::F64 : DType::I32;
}

template <typename T>
std::vector<T> inputs(size_t n, uint32_t seed) {
  if constexpr (std::is_integral_v<T>) {
    std::vector<T> v(n);
    std::mt19937 gen(seed);
    for (T& x : v) x = static_cast<T>(gen() % 2001) - 1000;
    return v;
  } else {
    return random_values<T>(n, seed);
  }
}

// NaN for floats (an unwritten element shows); integers start equal on both sides.
template <typename T>
std::vector<T> poisoned_or_zero(size_t n) {
  if constexpr (std::is_integral_v<T>) return std::vector<T>(n, T(0));
  else return poisoned<T>(n);
}

template <typename T>
char* bytes(std::vector<T>& v) {
  return reinterpret_cast<char*>(v.data());
}

// Everything from the loop's first element on (what lies before stays poisoned on both sides).
template <typename T>
std::vector<T> from(const std::vector<T>& v, int64_t offset) {
  return std::vector<T>(v.begin() + offset, v.end());
}

template <typename T>
void expect_same(const std::vector<T>& got, const std::vector<T>& want, const Layout& l, const std::string& where) {
  if constexpr (std::is_integral_v<T>) {
    EXPECT_EQ(got, want) << where;
  } else {
    EXPECT_TRUE(l.offset == 0 || std::isnan(got[0])) << where << ": wrote before the loop";
    const std::vector<double> want64 = to_f64(from(want, l.offset));
    std::vector<double> scale(want64.size());
    for (size_t i = 0; i < scale.size(); ++i) scale[i] = std::max(1.0, std::abs(want64[i]));
    expect_close(from(got, l.offset), want64, scale, 1, where);
  }
}

template <typename T>
void expect_binary_matches(BinaryOp op, const char* name, const Layout& l) {
  const std::string where = std::string(name) + ", " + l.name + ", " + dtype_name(dtype_of<T>());
  const size_t size = static_cast<size_t>(l.n + l.offset);
  std::vector<T> a = inputs<T>(size, 71), b = inputs<T>(size, 72);
  if (op == BinaryOp::Pow)
    for (T& v : a) v = std::abs(v);  // a real power of a negative base is NaN on both sides
  std::vector<T> got = poisoned_or_zero<T>(size), want = got;
  const auto params = [&](std::vector<T>& out) {
    char* const data[3] = {bytes(out), bytes(a), bytes(b)};
    return kernels::BinaryParams{loop_of(l, sizeof(T), data), op, dtype_of<T>(), -0.75, -3};
  };
  kernels::cuda::binary(params(got));
  kernels::cpu::binary(params(want));
  expect_same(got, want, l, where);
}

template <typename T>
void expect_unary_matches(UnaryOp op, const char* name, const Layout& l) {
  const std::string where = std::string(name) + ", " + l.name + ", " + dtype_name(dtype_of<T>());
  const size_t size = static_cast<size_t>(l.n + l.offset);
  std::vector<T> x = inputs<T>(size, 73);
  if (op == UnaryOp::Log || op == UnaryOp::Sqrt)
    for (T& v : x) v = std::abs(v);
  std::vector<T> got = poisoned_or_zero<T>(size), want = got;
  const auto params = [&](std::vector<T>& out) {
    char* const data[2] = {bytes(out), bytes(x)};
    return kernels::UnaryParams{loop_of(l, sizeof(T), data), op, dtype_of<T>(), true, true, -0.5, 0.4};
  };
  kernels::cuda::unary(params(got));
  kernels::cpu::unary(params(want));
  expect_same(got, want, l, where);
}

TEST(EmulatedElementwise, BinaryOpsMatchTheCpu) {
  const std::pair<BinaryOp, const char*> ops[] = {{BinaryOp::Add, "add"},         {BinaryOp::Sub, "sub"},
                                                  {BinaryOp::Mul, "mul"},         {BinaryOp::Div, "div"},
                                                  {BinaryOp::Maximum, "maximum"}, {BinaryOp::Minimum, "minimum"},
                                                  {BinaryOp::Pow, "pow"}};
  for (const auto& [op, name] : ops)
    for (const Layout& l : kLayouts) {
      expect_binary_matches<float>(op, name, l);
      expect_binary_matches<double>(op, name, l);
      if (op != BinaryOp::Pow && op != BinaryOp::Div) expect_binary_matches<int32_t>(op, name, l);  // float-only ops
    }
}

TEST(EmulatedElementwise, UnaryOpsMatchTheCpu) {
  const std::pair<UnaryOp, const char*> ops[] = {{UnaryOp::Neg, "neg"},   {UnaryOp::Abs, "abs"},
                                                 {UnaryOp::Exp, "exp"},   {UnaryOp::Log, "log"},
                                                 {UnaryOp::Sqrt, "sqrt"}, {UnaryOp::Sign, "sign"},
                                                 {UnaryOp::Clamp, "clamp"}};
  for (const auto& [op, name] : ops)
    for (const Layout& l : kLayouts) {
      expect_unary_matches<float>(op, name, l);
      expect_unary_matches<double>(op, name, l);
    }
}

// Comparisons and logic write bool; inputs with many ties and zeros (the
// integers mod 3) so that every outcome occurs.
template <typename T>
void expect_predicate_matches(BinaryOp op, const char* name, const Layout& l) {
  const std::string where = std::string(name) + ", " + l.name + ", " + dtype_name(dtype_of<T>());
  const size_t size = static_cast<size_t>(l.n + l.offset);
  std::vector<T> a(size), b(size);
  for (size_t i = 0; i < size; ++i) {
    a[i] = static_cast<T>(static_cast<int>(i * 7 % 3) - 1);
    b[i] = static_cast<T>(static_cast<int>(i * 5 % 3) - 1);
  }
  std::vector<uint8_t> got(size, 0xA5), want = got;
  const auto params = [&](std::vector<uint8_t>& out) {
    char* const data[3] = {reinterpret_cast<char*>(out.data()), bytes(a), bytes(b)};
    kernels::BinaryParams p{loop_of(l, sizeof(T), data), op, dtype_of<T>()};
    // The output's strides are of one-byte bools.
    for (int d = 0; d < p.loop.ndim; ++d) p.loop.strides[0][d] = p.loop.strides[0][d] / static_cast<int64_t>(sizeof(T));
    p.loop.data[0] = reinterpret_cast<char*>(out.data()) + l.offset;
    return p;
  };
  kernels::cuda::binary(params(got));
  kernels::cpu::binary(params(want));
  EXPECT_EQ(got, want) << where;
}

TEST(EmulatedElementwise, ComparisonsAndLogicMatchTheCpu) {
  const std::pair<BinaryOp, const char*> ops[] = {{BinaryOp::Eq, "eq"}, {BinaryOp::Ne, "ne"},
                                                  {BinaryOp::Lt, "lt"}, {BinaryOp::Le, "le"},
                                                  {BinaryOp::Gt, "gt"}, {BinaryOp::Ge, "ge"},
                                                  {BinaryOp::LogicalAnd, "logical_and"},
                                                  {BinaryOp::LogicalOr, "logical_or"}};
  for (const auto& [op, name] : ops)
    for (const Layout& l : kLayouts) {
      expect_predicate_matches<float>(op, name, l);
      expect_predicate_matches<double>(op, name, l);
      expect_predicate_matches<int32_t>(op, name, l);
    }
}

template <typename T>
void expect_where_matches(const Layout& l) {
  const std::string where = std::string("where, ") + l.name + ", " + dtype_name(dtype_of<T>());
  const size_t size = static_cast<size_t>(l.n + l.offset);
  std::vector<T> a = inputs<T>(size, 74), b = inputs<T>(size, 75);
  std::vector<uint8_t> condition(size * sizeof(T), 0);
  for (size_t i = 0; i < size; ++i) condition[i * sizeof(T)] = (i * 11 % 5) < 2 ? 1 : 0;
  std::vector<T> got = poisoned_or_zero<T>(size), want = got;
  const auto params = [&](std::vector<T>& out) {
    char* const data[4] = {bytes(out), reinterpret_cast<char*>(condition.data()), bytes(a), bytes(b)};
    return kernels::WhereParams{loop_of(l, sizeof(T), data), dtype_of<T>()};
  };
  kernels::cuda::where(params(got));
  kernels::cpu::where(params(want));
  expect_same(got, want, l, where);
}

TEST(EmulatedElementwise, WhereMatchesTheCpu) {
  for (const Layout& l : kLayouts) {
    expect_where_matches<float>(l);
    expect_where_matches<double>(l);
    expect_where_matches<int32_t>(l);
  }
}

}  // namespace
}  // namespace striate::emu_test
