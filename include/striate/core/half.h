// 16-bit floating types stored as raw bits; arithmetic happens in float.
//
// Conversions round to nearest even, so CPU results in f16/bf16 match what a
// GPU computes when it rounds a float result to the same type.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define STRIATE_HOST_DEVICE __host__ __device__
#else
#define STRIATE_HOST_DEVICE
#endif

namespace striate {

namespace detail {
STRIATE_HOST_DEVICE inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
STRIATE_HOST_DEVICE inline float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
uint16_t float_to_half_bits(float f);
float half_bits_to_float(uint16_t h);
}  // namespace detail

struct Half {
  uint16_t bits = 0;
  Half() = default;
  Half(float f) : bits(detail::float_to_half_bits(f)) {}  // NOLINT: implicit like a float
  operator float() const { return detail::half_bits_to_float(bits); }
  static Half from_bits(uint16_t b) { Half h; h.bits = b; return h; }
};

struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  BFloat16(float f) {  // NOLINT
    uint32_t u = detail::float_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) { bits = 0x7fc0; return; }  // NaN stays NaN
    u += 0x7fffu + ((u >> 16) & 1u);                                   // round to nearest even
    bits = static_cast<uint16_t>(u >> 16);
  }
  operator float() const { return detail::bits_float(uint32_t(bits) << 16); }
  static BFloat16 from_bits(uint16_t b) { BFloat16 h; h.bits = b; return h; }
};

}  // namespace striate
