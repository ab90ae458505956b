// Run-time GPU detection. Asking the driver is cheap and never fails hard: a
// machine without a GPU (or without a driver) simply has zero devices.
#include "striate/core/device.h"

#ifdef STRIATE_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace striate::cuda {

bool is_compiled() {
#ifdef STRIATE_WITH_CUDA
  return true;
#else
  return false;
#endif
}

int device_count() {
#ifdef STRIATE_WITH_CUDA
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // clear the sticky "no device" error
      return 0;
    }
    return n;
  }();
  return count;
#else
  return 0;
#endif
}

bool is_available() { return device_count() > 0; }

}  // namespace striate::cuda
