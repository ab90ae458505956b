// Division by a divisor fixed for a whole launch, as a multiply-high, an add
// and a shift instead of the ~20-instruction sequence a GPU runs for an int
// division by a runtime value. The implicit-GEMM convolutions decode every
// operand element's k (channel, tap, pixel) by such divisions, so in their
// staging loops these few instructions are the difference between index
// arithmetic and the multiply dominating the kernel.
//
// The method is Granlund and Montgomery's (division by invariant integers):
// with l = ceil(log2 d) and m = floor(2^32 (2^l - d) / d) + 1,
// n / d = (mulhi(m, n) + n) >> l, exact for 0 <= n < 2^31, where the sum
// cannot overflow 32 bits. Built on the host, passed by value to kernels.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "striate/core/error.h"

namespace striate::kernels::cuda {

class FastDivisor {
 public:
  struct QuotientRemainder {
    int quotient, remainder;
  };

  FastDivisor() = default;
  explicit FastDivisor(int divisor) : divisor_(divisor) {
    STRIATE_CHECK(divisor >= 1, ValueError, "FastDivisor: the divisor must be positive, got ", divisor);
    while ((int64_t{1} << shift_) < divisor) ++shift_;
    multiplier_ = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << shift_) - divisor)) / divisor + 1);
  }

  __host__ __device__ int divisor() const { return divisor_; }

  // n / divisor and n % divisor, for 0 <= n < 2^31.
  __host__ __device__ int div(int n) const {
    const uint32_t u = static_cast<uint32_t>(n);
    return static_cast<int>((mulhi(multiplier_, u) + u) >> shift_);
  }
  __host__ __device__ QuotientRemainder divmod(int n) const {
    const int q = div(n);
    return {q, n - q * divisor_};
  }

 private:
  __host__ __device__ static uint32_t mulhi(uint32_t a, uint32_t b) {
#ifdef __CUDA_ARCH__
    return __umulhi(a, b);
#else
    return static_cast<uint32_t>((uint64_t{a} * b) >> 32);
#endif
  }

  int divisor_ = 1;
  uint32_t multiplier_ = 1;
  int shift_ = 0;
};

}  // namespace striate::kernels::cuda
