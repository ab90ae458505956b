// The CUDA activations (activation.cu over launch.cuh's elementwise engines)
// run by the emulator against the CPU, forward and backward, f32 and f64,
// over the loops that take each path: contiguous and aligned (the vector
// path, with a tail shorter than a vector), contiguous but misaligned by one
// element (the scalar fallback), and a strided two-dimensional view.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "compare.h"
#include "loops.h"
#include "kernels/activation.h"

namespace striate::emu_test {
namespace {

struct OpCase {
  const char* name;
  kernels::ActivationArgs args;
};

const std::vector<OpCase> kOps = {
    {"relu", {kernels::Activation::Relu}},
    {"leaky_relu", {kernels::Activation::LeakyRelu, 0.1}},
    {"elu", {kernels::Activation::Elu, 1.0, 1.0507, 1.0}},
    {"gelu", {kernels::Activation::Gelu}},
    {"gelu_tanh", {kernels::Activation::GeluTanh}},
    {"silu", {kernels::Activation::Silu}},
    {"tanh", {kernels::Activation::Tanh}},
    {"sigmoid", {kernels::Activation::Sigmoid}},
    {"softplus", {kernels::Activation::Softplus, 2.0, 1.5}},
    {"softsign", {kernels::Activation::Softsign}},
    {"hardtanh", {kernels::Activation::Hardtanh, -0.5, 0.6}},
};

template <typename T>
void expect_activation_matches(const OpCase& op, const Layout& l) {
  const DType dtype = std::is_same_v<T, float> ? DType::F32 : DType::F64;
  const std::string where = std::string(op.name) + ", " + l.name + ", " + dtype_name(dtype);
  const size_t size = static_cast<size_t>(l.n + l.offset);
  std::vector<T> x = random_values<T>(size, 61), g = random_values<T>(size, 62);
  for (T& v : x) v *= T(3);  // past the kinks of hardtanh and softplus's threshold

  std::vector<T> y = poisoned<T>(size), want_y = poisoned<T>(size);
  char* const io[2] = {reinterpret_cast<char*>(y.data()), reinterpret_cast<char*>(x.data())};
  char* const want_io[2] = {reinterpret_cast<char*>(want_y.data()), reinterpret_cast<char*>(x.data())};
  kernels::cuda::activation({loop_of(l, sizeof(T), io), op.args, dtype});
  kernels::cpu::activation({loop_of(l, sizeof(T), want_io), op.args, dtype});
  // Element `offset - 1` and below lie outside the loop: both stay NaN.
  const auto tail = [&](const std::vector<T>& v) { return std::vector<T>(v.begin() + l.offset, v.end()); };
  const std::vector<double> unit(static_cast<size_t>(l.n), 4.0);
  EXPECT_TRUE(l.offset == 0 || std::isnan(y[0])) << where << ": wrote before the loop";
  expect_close(tail(y), to_f64(tail(want_y)), unit, 8, where + ": forward");

  const std::vector<T>& saved = kernels::backward_uses_output(op.args.op) ? want_y : x;
  std::vector<T> gx = poisoned<T>(size), want_gx = poisoned<T>(size);
  char* const bio[3] = {reinterpret_cast<char*>(gx.data()), reinterpret_cast<char*>(g.data()),
                        const_cast<char*>(reinterpret_cast<const char*>(saved.data()))};
  char* const want_bio[3] = {reinterpret_cast<char*>(want_gx.data()), bio[1], bio[2]};
  kernels::ActivationBackwardParams bp{loop_of(l, sizeof(T), bio), op.args, dtype};
  kernels::cuda::activation_backward(bp);
  bp.loop = loop_of(l, sizeof(T), want_bio);
  kernels::cpu::activation_backward(bp);
  EXPECT_TRUE(l.offset == 0 || std::isnan(gx[0])) << where << ": wrote before the loop";
  expect_close(tail(gx), to_f64(tail(want_gx)), unit, 8, where + ": backward");
}

TEST(EmulatedActivation, EveryOpOnEveryLayoutMatchesTheCpu) {
  for (const OpCase& op : kOps)
    for (const Layout& l : kLayouts) {
      expect_activation_matches<float>(op, l);
      expect_activation_matches<double>(op, l);
    }
}

}  // namespace
}  // namespace striate::emu_test
