// What the cuDNN- and cuBLAS-backed kernels share: one handle per (thread,
// device), bound to the current stream at every use; library errors as
// striate::DeviceError naming the call; scratch memory from the caching
// allocator. Only compiled into builds with the library (STRIATE_WITH_CUDNN /
// STRIATE_WITH_CUBLAS).
#pragma once

#include <cstddef>

#include "striate/core/dtype.h"
#include "striate/core/storage.h"

#ifdef STRIATE_WITH_CUDNN
#include <cudnn.h>
#endif
#ifdef STRIATE_WITH_CUBLAS
#include <cublas_v2.h>
#endif

namespace striate::kernels::cudnn {

#ifdef STRIATE_WITH_CUDNN
// This thread's cuDNN handle for the current device, on the current stream.
cudnnHandle_t cudnn_handle();
[[noreturn]] void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line);
#define STRIATE_CUDNN_CHECK(call)                                                                        \
  do {                                                                                                   \
    const cudnnStatus_t striate_status_ = (call);                                                        \
    if (striate_status_ != CUDNN_STATUS_SUCCESS)                                                         \
      ::striate::kernels::cudnn::throw_cudnn_error(striate_status_, #call, __FILE__, __LINE__);          \
  } while (0)

// Whether `status` is one of cuDNN 9's "not supported" codes (3000 and its
// sub-codes 3001-3014): a case cuDNN does not take, where the native kernel
// runs instead, as opposed to a real failure.
inline bool not_supported(cudnnStatus_t status) {
  return CUDNN_STATUS_CATEGORY(status) == CUDNN_STATUS_NOT_SUPPORTED;
}

// cuDNN's data type for f32 and f64, the dtypes its float paths take; any
// other is a DTypeError naming `op`.
cudnnDataType_t float_data_type(DType dtype, const char* op);
// cuDNN's alpha = 1 and beta = 0 scaling factors: double for double data,
// float for the rest.
const void* scaling_one(DType dtype);
const void* scaling_zero(DType dtype);
#endif

#ifdef STRIATE_WITH_CUBLAS
// This thread's cuBLAS handle for the current device, on the current stream.
cublasHandle_t cublas_handle();
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line);
#define STRIATE_CUBLAS_CHECK(call)                                                                       \
  do {                                                                                                   \
    const cublasStatus_t striate_status_ = (call);                                                       \
    if (striate_status_ != CUBLAS_STATUS_SUCCESS)                                                        \
      ::striate::kernels::cudnn::throw_cublas_error(striate_status_, #call, __FILE__, __LINE__);         \
  } while (0)
#endif

// Device scratch memory on the current device, from the caching allocator
// (so a workspace per call costs no cudaMalloc in steady state), ordered on
// the current stream and returned to the cache when this goes out of scope.
class Workspace {
 public:
  explicit Workspace(size_t nbytes);
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  void* data() const { return data_.ptr; }
  size_t size() const { return nbytes_; }

 private:
  DataPtr data_;
  size_t nbytes_;
};

}  // namespace striate::kernels::cudnn
