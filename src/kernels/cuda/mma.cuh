// TF32 tensor cores through PTX's warp-wide mma.sync (sm_80 and later): one
// warp computes D (16x8, f32) += A (16x8, tf32) * B (8x8, tf32).
//
// Each lane holds a fixed part of each matrix, as the PTX ISA's "Matrix
// Fragments for mma.m16n8k8" lays out for .tf32. With g = lane / 4 and
// t = lane % 4:
//   a[0] = A[g][t]    a[1] = A[g+8][t]    a[2] = A[g][t+4]    a[3] = A[g+8][t+4]
//   b[0] = B[t][g]    b[1] = B[t+4][g]
//   d[0] = D[g][2t]   d[1] = D[g][2t+1]   d[2] = D[g+8][2t]   d[3] = D[g+8][2t+1]
// A TF32 value travels in a 32-bit register as an f32 whose 13 low mantissa
// bits are zero; to_tf32 rounds an f32 to it (to nearest, ties away from
// zero, as cvt.rna does). In an emulation build (tests/emu) both come from
// cuda_emu.h, which computes the product from the same layout.
#pragma once

#include <cuda_runtime.h>

#include <array>
#include <atomic>
#include <cstdint>

#include "core/cuda/cuda_check.h"
#include "striate/core/cuda.h"

namespace striate::kernels::cuda {

__device__ __forceinline__ float to_tf32(float x) {
#ifdef STRIATE_CUDA_EMULATION
  return striate_emu::to_tf32(x);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  uint32_t bits;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(bits) : "f"(x));
  return __uint_as_float(bits);
#else
  __trap();  // never launched: runs_tf32_mma is false for code built for an older GPU
  return x;
#endif
}

// d += a * b over one 16x8x8 step; every lane of the warp must call it.
__device__ __forceinline__ void mma_tf32_m16n8k8(float (&d)[4], const float (&a)[4], const float (&b)[2]) {
#ifdef STRIATE_CUDA_EMULATION
  striate_emu::mma_tf32_m16n8k8(d, a, b);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(__float_as_uint(a[0])), "r"(__float_as_uint(a[1])), "r"(__float_as_uint(a[2])),
        "r"(__float_as_uint(a[3])), "r"(__float_as_uint(b[0])), "r"(__float_as_uint(b[1])));
#else
  __trap();
#endif
}

// Whether `kernel`, which calls the two above, runs their tensor-core code
// on the current GPU: the binary the driver picked for it (binaryVersion,
// 10 * major + minor) is for sm_80 or later. For an older GPU, or a build
// for older architectures only, the caller stays with its f32 kernel.
template <typename... Params>
bool runs_tf32_mma(void (*kernel)(Params...)) {
#ifdef STRIATE_CUDA_EMULATION
  (void)kernel;
  return true;
#else
  static std::array<std::atomic<int8_t>, 64> known{};  // per device: 0 not asked yet, 1 yes, -1 no
  const int device = striate::cuda::current_device();
  std::atomic<int8_t>* slot = device < static_cast<int>(known.size()) ? &known[device] : nullptr;
  if (slot != nullptr && slot->load() != 0) return slot->load() > 0;
  cudaFuncAttributes attributes{};
  STRIATE_CUDA_CHECK(cudaFuncGetAttributes(&attributes, kernel));
  const bool runs = attributes.binaryVersion >= 80;
  if (slot != nullptr) slot->store(runs ? 1 : -1);
  return runs;
#endif
}

}  // namespace striate::kernels::cuda
