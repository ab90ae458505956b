// Run-time GPU detection. Asking the driver is cheap and never fails hard: a
// machine without a GPU (or without a driver) simply has zero devices, and
// unavailable_reason() keeps the driver's answer.
#include <string>

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

namespace {

// The device count, and why it is zero: the driver's error when asking failed.
struct Detection {
  int count = 0;
  std::string reason;
};

const Detection& detection() {
  static const Detection detected = [] {
    Detection d;
#ifdef STRIATE_WITH_CUDA
    const cudaError_t status = cudaGetDeviceCount(&d.count);
    if (status != cudaSuccess) {
      cudaGetLastError();  // clear the sticky error so later calls are not blamed for it
      d.count = 0;
      // A missing device and a broken driver look alike to a caller: the name says which.
      d.reason = std::string("no CUDA GPU on this machine (cudaGetDeviceCount: ") + cudaGetErrorName(status) + ": " +
                 cudaGetErrorString(status) + ")";
    } else if (d.count == 0) {
      d.reason = "no CUDA GPU on this machine";
    }
#else
    d.reason = "this build has no CUDA backend";
#endif
    return d;
  }();
  return detected;
}

}  // namespace

int device_count() { return detection().count; }

bool is_available() { return device_count() > 0; }

std::string unavailable_reason() { return detection().reason; }

}  // namespace striate::cuda
