// GPU tests skip, with the reason, on a machine without a GPU.
#pragma once

#include <gtest/gtest.h>

#include "striate/core/device.h"

#define STRIATE_REQUIRE_GPU()                                                                    \
  do {                                                                                           \
    if (!::striate::cuda::is_available())                                                        \
      GTEST_SKIP() << (::striate::cuda::is_compiled() ? "no CUDA GPU on this machine"            \
                                                      : "this build has no CUDA backend");       \
  } while (0)
