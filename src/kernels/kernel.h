// The registry that maps an op family and a device to its implementation.
//
// Each kernel family declares one `Kernel<Fn>` table (see copy.h); the op
// layer calls `table.get(device)(params)`. Tables are filled in their .cpp
// files from the backends built into this library, so a new backend is a new
// folder under kernels/ plus entries there, and a missing entry is a clear
// NotImplementedError rather than a crash.
#pragma once

#include <array>

#include "striate/core/device.h"
#include "striate/core/error.h"

namespace striate::kernels {

template <typename Fn>
struct Kernel {
  const char* name;
  std::array<Fn, 2> impl{};  // indexed by DeviceType

  Fn get(const Device& device) const {
    Fn f = impl[static_cast<size_t>(device.type())];
    STRIATE_CHECK(f != nullptr, NotImplementedError, name, ": not implemented for ", device,
                  " tensors in this build");
    return f;
  }
};

}  // namespace striate::kernels

// A table's CUDA entry: the kernel in CUDA builds, empty (a clear
// NotImplementedError) in CPU-only ones.
#ifdef STRIATE_WITH_CUDA
#define STRIATE_CUDA_ENTRY(fn) (fn)
#else
#define STRIATE_CUDA_ENTRY(fn) nullptr
#endif
