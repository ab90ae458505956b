// The CUDA random fill (random.cu) run by the emulator against the CPU's:
// the same (seed, offset) gives the same tensor, bit for bit, for uniform,
// bernoulli and randint in every dtype they take, and normal values within
// the last bits of double log/sin/cos — the contract of kernels/random.h.
// Sizes leave a partial last counter, and the offset is not zero.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/random.h"
#include "striate/core/half.h"

namespace striate::emu_test {
namespace {

constexpr int64_t kCount = 4099;  // not a multiple of 2 or 4: a counter serves fewer lanes

std::vector<char> fill(void (*fn)(const kernels::RandomParams&), kernels::RandomParams p) {
  std::vector<char> out(static_cast<size_t>(p.numel) * element_size(p.dtype), static_cast<char>(0xA5));
  p.out = out.data();
  fn(p);
  return out;
}

kernels::RandomParams params(kernels::Distribution dist, DType dtype) {
  kernels::RandomParams p;
  p.numel = kCount;
  p.dtype = dtype;
  p.dist = dist;
  p.seed = 0x1234'5678'9abc'def0ull;
  p.offset = 77;
  return p;
}

TEST(EmulatedRandom, UniformBernoulliAndRandintMatchTheCpuBitForBit) {
  struct Case {
    kernels::Distribution dist;
    std::vector<DType> dtypes;
    double a, b;
    int64_t low;
    uint64_t range;
  };
  const std::vector<DType> floats = {DType::F32, DType::F64, DType::F16, DType::BF16};
  const std::vector<DType> all = {DType::F32, DType::F64, DType::F16, DType::BF16,
                                  DType::I32, DType::I64, DType::U8,  DType::Bool};
  const Case cases[] = {
      {kernels::Distribution::Uniform, floats, -2.5, 3.0, 0, 1},
      {kernels::Distribution::Bernoulli, all, 0.3, 0, 0, 1},
      {kernels::Distribution::RandomInt, {DType::I32, DType::I64, DType::U8, DType::F32, DType::F64}, 0, 0, 3, 200},
      // A range above 2^32 takes two words per value.
      {kernels::Distribution::RandomInt, {DType::I64, DType::F64}, 0, 0, -(int64_t{1} << 40), uint64_t{1} << 41},
  };
  for (const Case& c : cases)
    for (DType dtype : c.dtypes) {
      kernels::RandomParams p = params(c.dist, dtype);
      p.a = c.a;
      p.b = c.b;
      p.low = c.low;
      p.range = c.range;
      const std::vector<char> want = fill(&kernels::cpu::random, p);
      EXPECT_EQ(fill(&kernels::cuda::random, p), want)
          << "distribution " << static_cast<int>(c.dist) << ", " << dtype_name(dtype);
      p.offset += 1;  // other counters, other numbers
      EXPECT_NE(fill(&kernels::cpu::random, p), want) << "distribution " << static_cast<int>(c.dist);
    }
}

// Element i as a double, whatever the float dtype.
double value_at(const std::vector<char>& v, DType dtype, int64_t i) {
  const char* at = v.data() + i * element_size(dtype);
  if (dtype == DType::F64) { double d; std::memcpy(&d, at, 8); return d; }
  if (dtype == DType::F32) { float f; std::memcpy(&f, at, 4); return f; }
  uint16_t bits;
  std::memcpy(&bits, at, 2);
  return dtype == DType::F16 ? static_cast<float>(Half::from_bits(bits)) : static_cast<float>(BFloat16::from_bits(bits));
}

TEST(EmulatedRandom, NormalMatchesTheCpuToTheLastBits) {
  for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    kernels::RandomParams p = params(kernels::Distribution::Normal, dtype);
    p.a = 1.5;  // mean
    p.b = 2.0;  // std
    const std::vector<char> got = fill(&kernels::cuda::random, p), want = fill(&kernels::cpu::random, p);
    // One rounding of the type, at the value's magnitude (the host's libm on both sides here).
    const double ulp = dtype == DType::F64 ? 0x1p-52 : dtype == DType::F32 ? 0x1p-23 : dtype == DType::F16 ? 0x1p-10 : 0x1p-7;
    int bad = 0;
    for (int64_t i = 0; i < kCount; ++i) {
      const double g = value_at(got, dtype, i), w = value_at(want, dtype, i);
      if (!(std::abs(g - w) <= ulp * std::max(1.0, std::abs(w))) && bad++ < 5)
        ADD_FAILURE() << dtype_name(dtype) << " element " << i << ": " << g << " vs " << w;
    }
    EXPECT_EQ(bad, 0) << dtype_name(dtype);
  }
}

}  // namespace
}  // namespace striate::emu_test
