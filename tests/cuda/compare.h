// Comparing a GPU result with the CPU backend's: per-dtype tolerances, NaN
// in the same places, integers and bools exact; or bit for bit.
#pragma once

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "striate/striate.h"

namespace striate::testing {

struct Tolerance {
  double rtol, atol;
};

// One or two roundings apart (a fused multiply-add, a library exp), in units
// of each type's precision.
inline Tolerance tolerance_for(DType dtype) {
  switch (dtype) {
    case kDouble: return {1e-13, 1e-300};
    case kFloat: return {4e-6, 1e-37};
    case kHalf: return {2e-3, 1e-7};
    case kBFloat16: return {1.6e-2, 1e-30};
    default: return {0, 0};
  }
}

// Expects `gpu` (any device) to equal the CPU result `cpu` within tolerance.
inline void expect_matches_cpu(const Tensor& gpu, const Tensor& cpu, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(gpu.sizes(), cpu.sizes());
  ASSERT_EQ(gpu.dtype(), cpu.dtype());
  const Tensor g = gpu.cpu().to(kDouble).contiguous().flatten();
  const Tensor c = cpu.to(kDouble).contiguous().flatten();
  const auto gv = g.to_vector<double>(), cv = c.to_vector<double>();
  const Tolerance tol = tolerance_for(cpu.dtype());
  int64_t bad = 0;
  for (size_t i = 0; i < cv.size(); ++i) {
    const bool ok = std::isnan(cv[i]) ? std::isnan(gv[i])
                    : std::isinf(cv[i]) ? gv[i] == cv[i]
                                        : std::abs(gv[i] - cv[i]) <= tol.atol + tol.rtol * std::abs(cv[i]);
    if (!ok && bad++ < 5) ADD_FAILURE() << "element " << i << ": gpu " << gv[i] << ", cpu " << cv[i];
  }
  EXPECT_EQ(bad, 0) << bad << " of " << cv.size() << " elements differ";
}

// Expects the same values bit for bit, the sign of zero included; NaNs need
// only be NaN in the same places, as the GPU does not keep NaN payloads.
inline void expect_same_bits(const Tensor& gpu, const Tensor& cpu, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(gpu.sizes(), cpu.sizes());
  ASSERT_EQ(gpu.dtype(), cpu.dtype());
  const Tensor g = gpu.cpu().contiguous(), c = cpu.contiguous();
  if (std::memcmp(g.data_ptr(), c.data_ptr(), c.nbytes()) == 0) return;
  // Exact in double for every dtype here (the integers are small).
  const auto gv = g.to(kDouble).flatten().to_vector<double>(), cv = c.to(kDouble).flatten().to_vector<double>();
  int64_t bad = 0;
  for (size_t i = 0; i < cv.size(); ++i) {
    const bool ok = std::isnan(cv[i]) ? std::isnan(gv[i])
                                      : std::bit_cast<uint64_t>(gv[i]) == std::bit_cast<uint64_t>(cv[i]);
    if (!ok && bad++ < 5) ADD_FAILURE() << "element " << i << ": gpu " << gv[i] << ", cpu " << cv[i];
  }
  EXPECT_EQ(bad, 0) << bad << " of " << cv.size() << " elements differ";
}

}  // namespace striate::testing
