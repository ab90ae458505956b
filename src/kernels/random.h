// Filling a contiguous buffer with Philox random numbers, and randperm.
//
// The mapping from (seed, offset, element) to a value is fixed here, in
// host/device code that the CPU and the CUDA backends share, so that both
// produce the same tensor from the same generator state:
//
//   * An op drawing n values reserves ceil(n / V) counters from its Generator
//     (Generator::reserve); the first one is `p.offset`. The key is the
//     generator's 64-bit seed.
//   * Each counter yields one Philox4x32-10 block of four 32-bit words
//     w[0..3] and serves V consecutive elements (V = values_per_counter):
//     element i (its row-major index in the output, whatever the output's
//     strides) uses the block of the 128-bit counter (lo = offset + i / V,
//     hi = 0) and its lane i % V.
//   * V = 4 (one word per element) for:
//       uniform f32/f16/bf16: u = (w >> (32 - D)) 2^-D, D the type's
//         significand width (24, 11, 8), so that u < 1 even after rounding to
//         the type; then fmaf(u, to - from, from) in float (an explicit fma,
//         so no compiler contracts it differently);
//       normal f32/f16/bf16: lanes {0,1} and {2,3} are Box–Muller pairs: with
//         u1 = (w[2j] + 1) 2^-32 in (0, 1] and u2 = w[2j+1] 2^-32, lane 2j gets
//         r cos(2 pi u2) and lane 2j+1 gets r sin(2 pi u2), r = sqrt(-2 ln u1),
//         in double, then fma(z, std, mean), rounded to the type;
//       bernoulli (any dtype): 1 when w 2^-32 < p, else 0;
//       randint with high - low <= 2^32: low + w mod (high - low).
//   * V = 2 (lane j uses the words w[2j] (high) and w[2j+1] (low)) for:
//       uniform f64: u = philox::uniform_double(w[2j], w[2j+1]) (53 bits), then
//         fma(u, to - from, from);
//       normal f64: one Box–Muller pair per block, u1 = 1 - uniform_double(w0, w1)
//         and u2 = uniform_double(w2, w3); lane 0 gets cos, lane 1 sin;
//       randint with high - low > 2^32: low + (w[2j] 2^32 + w[2j+1]) mod range.
//   * A uniform value that rounds up to `to` in the output type becomes
//     `from`, keeping the interval half-open.
//   * randperm(n) is a Fisher–Yates shuffle of 0..n-1 from the back: step k
//     (k = 0 .. n-2) swaps position n-1-k with j = r mod (n-k), r being the
//     64-bit value of lane k % 2 of counter offset + k / 2 (as randint's wide
//     case); it reserves ceil((n-1) / 2) counters.
//
// Uniform, bernoulli, randint and randperm values are bit-identical on every
// backend; normal values may differ in the last bits of each device's double
// log/sin/cos, which rounding to float almost always hides.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/kernel.h"
#include "striate/core/dtype.h"
#include "striate/core/philox.h"

namespace striate::kernels {

enum class Distribution : uint8_t { Uniform, Normal, Bernoulli, RandomInt };

struct RandomParams {
  void* out = nullptr;  // contiguous, `numel` elements of `dtype`
  int64_t numel = 0;
  DType dtype = DType::F32;
  Distribution dist = Distribution::Uniform;
  uint64_t seed = 0;
  uint64_t offset = 0;  // first reserved counter
  double a = 0, b = 1;  // uniform: [from, to); normal: mean, std; bernoulli: p in a
  int64_t low = 0;      // randint: low + r mod range
  uint64_t range = 1;
};
using RandomFn = void (*)(const RandomParams&);
extern const Kernel<RandomFn> random_kernel;

struct RandpermParams {
  int64_t* out = nullptr;  // n elements
  int64_t n = 0;
  uint64_t seed = 0;
  uint64_t offset = 0;
};
using RandpermFn = void (*)(const RandpermParams&);
extern const Kernel<RandpermFn> randperm_kernel;

namespace cpu {
void random(const RandomParams& p);
void randperm(const RandpermParams& p);
}  // namespace cpu
namespace cuda {
void random(const RandomParams& p);
}  // namespace cuda

// ---- the shared mapping (host and device) ---------------------------------

namespace random_detail {

STRIATE_HOST_DEVICE inline int values_per_counter(Distribution dist, DType dtype, uint64_t range) {
  switch (dist) {
    case Distribution::Uniform:
    case Distribution::Normal: return dtype == DType::F64 ? 2 : 4;
    case Distribution::Bernoulli: return 4;
    case Distribution::RandomInt: return range > (uint64_t{1} << 32) ? 2 : 4;
  }
  return 4;
}

// Significand bits (with the implicit one) of the 32-bit-or-narrower floats.
STRIATE_HOST_DEVICE inline int significand_bits(DType dtype) {
  return dtype == DType::F16 ? 11 : dtype == DType::BF16 ? 8 : 24;
}

STRIATE_HOST_DEVICE inline uint64_t wide_word(const philox::Block& b, int lane) {
  return (static_cast<uint64_t>(b.x[2 * lane]) << 32) | b.x[2 * lane + 1];
}

// Math functions are called as ::f: the global ones exist on host and
// device, and unqualified names could find striate's tensor overloads.

// Uniform, normal and bernoulli values before rounding to the output type:
// float for 32-bit-and-narrower floats, double for f64, 0/1 for bernoulli.
STRIATE_HOST_DEVICE inline float uniform_narrow(const RandomParams& p, const philox::Block& b, int lane) {
  const int bits = significand_bits(p.dtype);
  const float u = static_cast<float>(b.x[lane] >> (32 - bits)) * (1.0f / static_cast<float>(1u << bits));
  const float from = static_cast<float>(p.a), span = static_cast<float>(p.b - p.a);
  return ::fmaf(u, span, from);
}

STRIATE_HOST_DEVICE inline double uniform_wide(const RandomParams& p, const philox::Block& b, int lane) {
  const double u = philox::uniform_double(b.x[2 * lane], b.x[2 * lane + 1]);
  return ::fma(u, p.b - p.a, p.a);
}

STRIATE_HOST_DEVICE inline double box_muller(double u1, double u2, bool second) {
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  const double r = ::sqrt(-2.0 * ::log(u1));
  return r * (second ? ::sin(kTwoPi * u2) : ::cos(kTwoPi * u2));
}

STRIATE_HOST_DEVICE inline double normal_narrow(const RandomParams& p, const philox::Block& b, int lane) {
  constexpr double kTwoPow32 = 4294967296.0;
  const int pair = lane & ~1;
  const double u1 = (static_cast<double>(b.x[pair]) + 1.0) / kTwoPow32;
  const double u2 = static_cast<double>(b.x[pair + 1]) / kTwoPow32;
  return ::fma(box_muller(u1, u2, lane & 1), p.b, p.a);
}

STRIATE_HOST_DEVICE inline double normal_wide(const RandomParams& p, const philox::Block& b, int lane) {
  const double u1 = 1.0 - philox::uniform_double(b.x[0], b.x[1]);  // (0, 1]: log stays finite
  const double u2 = philox::uniform_double(b.x[2], b.x[3]);
  return ::fma(box_muller(u1, u2, lane == 1), p.b, p.a);
}

STRIATE_HOST_DEVICE inline bool bernoulli(const RandomParams& p, const philox::Block& b, int lane) {
  return static_cast<double>(b.x[lane]) * (1.0 / 4294967296.0) < p.a;
}

STRIATE_HOST_DEVICE inline int64_t random_int(const RandomParams& p, const philox::Block& b, int lane,
                                              bool wide) {
  const uint64_t r = wide ? wide_word(b, lane) : b.x[lane];
  return static_cast<int64_t>(static_cast<uint64_t>(p.low) + r % p.range);
}

}  // namespace random_detail
}  // namespace striate::kernels
