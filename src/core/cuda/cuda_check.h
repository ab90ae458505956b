// CUDA runtime errors as striate::Error, naming the call, file and line.
#pragma once

#include <cuda_runtime_api.h>

#include "striate/core/error.h"

namespace striate::cuda::detail {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line);

// The answer of cudaStreamQuery / cudaEventQuery: false for "not ready yet"
// (clearing that error), true when done; any other error throws.
bool query_done(cudaError_t err, const char* call);

// Throws DeviceError unless `index` names a GPU of this machine; -1 means
// the current device. Returns the resolved index.
int check_device(int index, const char* what);

}  // namespace striate::cuda::detail

#define STRIATE_CUDA_CHECK(call)                                                              \
  do {                                                                                        \
    const cudaError_t striate_err_ = (call);                                                  \
    if (striate_err_ != cudaSuccess)                                                          \
      ::striate::cuda::detail::throw_cuda_error(striate_err_, #call, __FILE__, __LINE__);     \
  } while (0)
