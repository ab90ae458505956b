// What the CUDA convolution files share: the geometry in 32-bit fields
// (index arithmetic in int is several times cheaper than in int64 on the
// GPU).
#pragma once

#include <climits>
#include <string>

#include "kernels/conv.h"
#include "kernels/cuda/fast_divisor.cuh"
#include "striate/core/error.h"

namespace striate::kernels::cuda {

struct ConvDims {
  int batch, C, H, W, O, kH, kW;
  int sh, sw, dh, dw, pt, pl, oH, oW;
  int Cg, Og, kHW, HW, oHW;  // per group; products of the above
  // The divisors that decode GEMM indices into (channel, tap, pixel).
  struct Divisors {
    FastDivisor W, HW, oW, oHW, kW, kHW, sh, sw, Cg, Og;
  } by;
};

// Whether every index the implicit GEMM forms fits in an int: the sizes of
// each tensor and the batch-wide GEMM dimensions.
inline bool fits_int32(const ConvParams& p) {
  const auto fits = [](int64_t v) { return v >= 0 && v <= INT_MAX; };
  const int64_t kernel = p.kernel_h * p.kernel_w;
  return fits(p.batch * p.channels * p.height * p.width) && fits(p.batch * p.out_channels * p.out_h * p.out_w) &&
         fits(p.out_channels * p.channels / p.groups * kernel) && fits(p.height + p.pad_top + p.dilation_h * p.kernel_h) &&
         fits(p.width + p.pad_left + p.dilation_w * p.kernel_w) && fits(p.out_h * p.stride_h + p.height) &&
         fits(p.out_w * p.stride_w + p.width);
}

inline ConvDims conv_dims(const ConvParams& p, const char* kernel) {
  STRIATE_CHECK(fits_int32(p), NotImplementedError, kernel,
                ": the tensors are too large for 32-bit indexing; use the direct kernel");
  ConvDims d{};
  d.batch = static_cast<int>(p.batch);
  d.C = static_cast<int>(p.channels);
  d.H = static_cast<int>(p.height);
  d.W = static_cast<int>(p.width);
  d.O = static_cast<int>(p.out_channels);
  d.kH = static_cast<int>(p.kernel_h);
  d.kW = static_cast<int>(p.kernel_w);
  d.sh = static_cast<int>(p.stride_h);
  d.sw = static_cast<int>(p.stride_w);
  d.dh = static_cast<int>(p.dilation_h);
  d.dw = static_cast<int>(p.dilation_w);
  d.pt = static_cast<int>(p.pad_top);
  d.pl = static_cast<int>(p.pad_left);
  d.oH = static_cast<int>(p.out_h);
  d.oW = static_cast<int>(p.out_w);
  d.Cg = static_cast<int>(p.channels / p.groups);
  d.Og = static_cast<int>(p.out_channels / p.groups);
  d.kHW = d.kH * d.kW;
  d.HW = d.H * d.W;
  d.oHW = d.oH * d.oW;
  const auto divisor = [](int v) { return FastDivisor(v > 0 ? v : 1); };  // empty sizes divide nothing
  d.by = {divisor(d.W),  divisor(d.HW), divisor(d.oW), divisor(d.oHW), divisor(d.kW),
          divisor(d.kHW), divisor(d.sh), divisor(d.sw), divisor(d.Cg), divisor(d.Og)};
  return d;
}

}  // namespace striate::kernels::cuda
