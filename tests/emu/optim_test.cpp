// The fused SGD and Adam/AdamW kernels (optim.cu) run by the emulator
// against the CPU's (kernels/cpu/optim.cpp): the same parameters, gradients
// and state stepped by both, bit for bit, in every floating dtype, with each
// option, over a list of tensors that spans several launches (more tensors
// than a launch's table holds, tensors of more than one 65536-element chunk,
// empty ones) and with NaN and infinities among the gradients.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/optim.h"
#include "striate/core/half.h"

namespace striate::emu_test {
namespace {

// Element counts: 50 tensors (a launch holds 48 for SGD, 36 for Adam), one
// empty, two across chunk boundaries.
std::vector<int64_t> sizes() {
  std::vector<int64_t> out{0, 65536 + 3, 1};
  for (int64_t i = 0; i < 46; ++i) out.push_back((i * 7919) % 701 + 1);
  out.push_back(2 * 65536 + 17);
  return out;
}

// One tensor's bytes in `dtype`.
struct Buffer {
  std::vector<unsigned char> bytes;
  void* data() { return bytes.data(); }
};

// Values from `gen` stored as `dtype`: normal(0, scale), a few exceptional
// ones when `specials` (NaN, infinities).
Buffer values(DType dtype, int64_t n, std::mt19937& gen, double scale, bool specials) {
  std::normal_distribution<double> normal(0, scale);
  Buffer b{std::vector<unsigned char>(static_cast<size_t>(n) * element_size(dtype))};
  for (int64_t i = 0; i < n; ++i) {
    double v = normal(gen);
    if (specials && i % 97 == 5) v = std::numeric_limits<double>::quiet_NaN();
    if (specials && i % 89 == 7) v = (i % 2 ? 1 : -1) * std::numeric_limits<double>::infinity();
    unsigned char* at = b.bytes.data() + i * element_size(dtype);
    if (dtype == DType::F64) std::memcpy(at, &v, 8);
    else if (dtype == DType::F32) {
      const float f = static_cast<float>(v);
      std::memcpy(at, &f, 4);
    } else {
      const uint16_t bits = dtype == DType::F16 ? Half(static_cast<float>(v)).bits : BFloat16(static_cast<float>(v)).bits;
      std::memcpy(at, &bits, 2);
    }
  }
  return b;
}

// Bitwise equality; NaN need only be NaN on both sides (no payloads kept).
void expect_same_bits(const Buffer& got, const Buffer& want, DType dtype, const std::string& where) {
  ASSERT_EQ(got.bytes.size(), want.bytes.size()) << where;
  const size_t size = element_size(dtype);
  int bad = 0;
  for (size_t i = 0; i < want.bytes.size() / size; ++i) {
    const unsigned char* g = got.bytes.data() + i * size;
    const unsigned char* w = want.bytes.data() + i * size;
    if (std::memcmp(g, w, size) == 0) continue;
    const auto is_nan = [&](const unsigned char* p) {
      if (dtype == DType::F64) { double d; std::memcpy(&d, p, 8); return d != d; }
      if (dtype == DType::F32) { float f; std::memcpy(&f, p, 4); return f != f; }
      uint16_t h;
      std::memcpy(&h, p, 2);
      return dtype == DType::F16 ? (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0 : (h & 0x7f80) == 0x7f80 && (h & 0x7f) != 0;
    };
    if (is_nan(g) && is_nan(w)) continue;
    if (bad++ < 5) ADD_FAILURE() << where << ": element " << i << " differs";
  }
  EXPECT_EQ(bad, 0) << where;
}

// The tensors of one optimizer and their copies for the second backend.
struct State {
  std::vector<Buffer> param, grad, a, b, c;  // a, b, c: momentum, or exp_avg, exp_avg_sq, max_exp_avg_sq
};

State make_state(DType dtype, uint32_t seed) {
  std::mt19937 gen(seed);
  State s;
  for (int64_t n : sizes()) {
    s.param.push_back(values(dtype, n, gen, 1.0, false));
    s.grad.push_back(values(dtype, n, gen, 0.5, true));
    s.a.push_back(values(dtype, n, gen, 0.1, false));
    Buffer v = values(dtype, n, gen, 0.1, false);
    // The second moments are squares: keep them non-negative.
    for (size_t i = 0; i + element_size(dtype) <= v.bytes.size(); i += element_size(dtype))
      v.bytes[i + element_size(dtype) - 1] &= 0x7f;
    s.b.push_back(v);
    s.c.push_back(v);
  }
  return s;
}

kernels::SgdParams sgd_params(State& s, DType dtype, const kernels::SgdHyper& h) {
  kernels::SgdParams p;
  p.dtype = dtype;
  p.hyper = h;
  for (size_t i = 0; i < s.param.size(); ++i)
    p.tensors.push_back({s.param[i].data(), s.grad[i].data(), h.momentum != 0 ? s.a[i].data() : nullptr,
                         static_cast<int64_t>(s.param[i].bytes.size() / element_size(dtype))});
  return p;
}

kernels::AdamParams adam_params(State& s, DType dtype, const kernels::AdamHyper& h, int step) {
  kernels::AdamParams p;
  p.dtype = dtype;
  p.hyper = h;
  for (size_t i = 0; i < s.param.size(); ++i) {
    kernels::AdamTensor t{s.param[i].data(), s.grad[i].data(), s.a[i].data(), s.b[i].data(),
                          h.amsgrad ? s.c[i].data() : nullptr,
                          static_cast<int64_t>(s.param[i].bytes.size() / element_size(dtype))};
    const int t_step = step + static_cast<int>(i % 3);  // parameters at different steps
    t.step_size = h.lr / (1 - std::pow(h.beta1, t_step));
    t.bias_correction2_sqrt = std::sqrt(1 - std::pow(h.beta2, t_step));
    p.tensors.push_back(t);
  }
  return p;
}

void expect_states_match(const State& got, const State& want, DType dtype, bool momentum_or_moments,
                         bool third, const std::string& where) {
  for (size_t i = 0; i < want.param.size(); ++i) {
    const std::string at = where + ", tensor " + std::to_string(i);
    expect_same_bits(got.param[i], want.param[i], dtype, at + ": param");
    if (momentum_or_moments) expect_same_bits(got.a[i], want.a[i], dtype, at + ": first state");
    if (third) {
      expect_same_bits(got.b[i], want.b[i], dtype, at + ": second state");
      expect_same_bits(got.c[i], want.c[i], dtype, at + ": max second moment");
    }
  }
}

const DType kDtypes[] = {DType::F32, DType::F64, DType::F16, DType::BF16};

struct SgdCase {
  const char* name;
  kernels::SgdHyper hyper;
};

TEST(EmulatedOptim, SgdMatchesTheCpuBitForBit) {
  const SgdCase cases[] = {
      {"plain", {0.1, 0, 0, 0, false, false, false}},
      {"momentum, new buffers", {0.05, 0.9, 0, 0, false, false, true}},
      {"momentum, dampening, weight decay", {0.05, 0.9, 0.1, 1e-2, false, false, false}},
      {"nesterov, maximize", {0.01, 0.8, 0, 1e-3, true, true, false}},
  };
  for (DType dtype : kDtypes)
    for (const SgdCase& c : cases) {
      const std::string where = std::string("sgd ") + c.name + ", " + dtype_name(dtype);
      const State initial = make_state(dtype, 11);
      State cpu = initial, emulated = initial;
      for (int step = 0; step < 2; ++step) {
        kernels::SgdHyper h = c.hyper;
        h.new_buffers = h.new_buffers && step == 0;
        kernels::cpu::sgd(sgd_params(cpu, dtype, h));
        kernels::cuda::sgd(sgd_params(emulated, dtype, h));
      }
      EXPECT_NE(cpu.param[1].bytes, initial.param[1].bytes) << where << ": the update changed nothing";
      expect_states_match(emulated, cpu, dtype, c.hyper.momentum != 0, false, where);
    }
}

struct AdamCase {
  const char* name;
  kernels::AdamHyper hyper;
};

TEST(EmulatedOptim, AdamMatchesTheCpuBitForBit) {
  const AdamCase cases[] = {
      {"adam", {1e-3, 0.9, 0.999, 1e-8, 0, false, false, false}},
      {"adam, L2 decay, amsgrad", {1e-3, 0.9, 0.99, 1e-6, 1e-2, true, false, false}},
      {"adamw, maximize", {2e-3, 0.8, 0.999, 1e-8, 1e-2, false, true, true}},
      {"adamw, amsgrad", {1e-3, 0.9, 0.999, 1e-8, 5e-2, true, false, true}},
  };
  for (DType dtype : kDtypes)
    for (const AdamCase& c : cases) {
      const std::string where = std::string(c.name) + ", " + dtype_name(dtype);
      const State initial = make_state(dtype, 12);
      State cpu = initial, emulated = initial;
      for (int step = 1; step <= 2; ++step) {
        kernels::cpu::adam(adam_params(cpu, dtype, c.hyper, step));
        kernels::cuda::adam(adam_params(emulated, dtype, c.hyper, step));
      }
      EXPECT_NE(cpu.param[1].bytes, initial.param[1].bytes) << where << ": the update changed nothing";
      expect_states_match(emulated, cpu, dtype, true, true, where);
    }
}

}  // namespace
}  // namespace striate::emu_test
