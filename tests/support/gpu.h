// GPU tests skip, with the reason, on a machine without a GPU.
//
// Dry run: built with STRIATE_GPU_TESTS_ON_CPU (the cuda_dryrun_tests
// executable), the same tests run with the CPU standing in for the GPU, so
// that their own logic (shapes, sweeps, reference computations, tolerances,
// the calls they make) runs in every CI build, long before a GPU is lent.
// Each then compares the CPU with itself, so it verifies the test, not the
// kernels. Tests about the device itself (streams, the allocator, copies
// between devices, TF32 rounding) say STRIATE_REQUIRE_REAL_GPU() and skip.
#pragma once

#include <gtest/gtest.h>

#include "striate/core/device.h"

namespace striate::testing {

// The device the GPU tests run on.
inline Device test_gpu() {
#ifdef STRIATE_GPU_TESTS_ON_CPU
  return Device::cpu();
#else
  return Device::cuda(0);
#endif
}

}  // namespace striate::testing

#define STRIATE_SKIP_WITHOUT_GPU()                                                               \
  do {                                                                                           \
    if (!::striate::cuda::is_available()) GTEST_SKIP() << ::striate::cuda::unavailable_reason(); \
  } while (0)

#ifdef STRIATE_GPU_TESTS_ON_CPU
#define STRIATE_REQUIRE_GPU() \
  do {                        \
  } while (0)
#define STRIATE_REQUIRE_REAL_GPU() GTEST_SKIP() << "needs a real GPU: not part of the dry run on the CPU"
#else
#define STRIATE_REQUIRE_GPU() STRIATE_SKIP_WITHOUT_GPU()
#define STRIATE_REQUIRE_REAL_GPU() STRIATE_SKIP_WITHOUT_GPU()
#endif
