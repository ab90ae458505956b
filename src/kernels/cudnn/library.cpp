// Handles, error translation and workspaces for the library-backed kernels.
#if defined(STRIATE_WITH_CUDNN) || defined(STRIATE_WITH_CUBLAS)

#include "kernels/cudnn/library.h"

#include <string>
#include <unordered_map>

#include "striate/core/cuda.h"
#include "striate/core/device.h"
#include "striate/core/error.h"

namespace striate::kernels::cudnn {
namespace {

cudaStream_t current_cuda_stream() { return static_cast<cudaStream_t>(striate::cuda::current_stream().native_handle()); }

// Handles live as long as their thread; creating one costs milliseconds, so
// they are made once per (thread, device) and reused.
template <typename Handle, typename Destroy>
struct HandleCache {
  Destroy destroy;
  std::unordered_map<int, Handle> by_device;
  ~HandleCache() {
    for (auto& [device, handle] : by_device) destroy(handle);  // errors at exit are not actionable
  }
};

std::string location(const char* call, const char* file, int line) {
  return std::string(call) + " (" + file + ":" + std::to_string(line) + ")";
}

}  // namespace

#ifdef STRIATE_WITH_CUDNN
void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line) {
  throw DeviceError("cuDNN error " + std::string(cudnnGetErrorString(status)) + " in " + location(call, file, line));
}

cudnnHandle_t cudnn_handle() {
  auto destroy = [](cudnnHandle_t h) { cudnnDestroy(h); };
  thread_local HandleCache<cudnnHandle_t, decltype(destroy)> cache{destroy, {}};
  const int device = striate::cuda::current_device();
  auto it = cache.by_device.find(device);
  if (it == cache.by_device.end()) {
    cudnnHandle_t handle = nullptr;
    STRIATE_CUDNN_CHECK(cudnnCreate(&handle));
    it = cache.by_device.emplace(device, handle).first;
  }
  STRIATE_CUDNN_CHECK(cudnnSetStream(it->second, current_cuda_stream()));
  return it->second;
}

cudnnDataType_t float_data_type(DType dtype, const char* op) {
  if (dtype == DType::F32) return CUDNN_DATA_FLOAT;
  if (dtype == DType::F64) return CUDNN_DATA_DOUBLE;
  throw DTypeError(std::string(op) + ": expected f32 or f64, got " + dtype_name(dtype));
}

const void* scaling_one(DType dtype) {
  static const float f = 1;
  static const double d = 1;
  return dtype == DType::F64 ? static_cast<const void*>(&d) : &f;
}

const void* scaling_zero(DType dtype) {
  static const float f = 0;
  static const double d = 0;
  return dtype == DType::F64 ? static_cast<const void*>(&d) : &f;
}
#endif

#ifdef STRIATE_WITH_CUBLAS
void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
  throw DeviceError("cuBLAS error " + std::string(cublasGetStatusName(status)) + " (" +
                    cublasGetStatusString(status) + ") in " + location(call, file, line));
}

cublasHandle_t cublas_handle() {
  auto destroy = [](cublasHandle_t h) { cublasDestroy(h); };
  thread_local HandleCache<cublasHandle_t, decltype(destroy)> cache{destroy, {}};
  const int device = striate::cuda::current_device();
  auto it = cache.by_device.find(device);
  if (it == cache.by_device.end()) {
    cublasHandle_t handle = nullptr;
    STRIATE_CUBLAS_CHECK(cublasCreate(&handle));
    // Results must not depend on TF32 rounding unless a user asks for it.
    STRIATE_CUBLAS_CHECK(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH));
    it = cache.by_device.emplace(device, handle).first;
  }
  STRIATE_CUBLAS_CHECK(cublasSetStream(it->second, current_cuda_stream()));
  return it->second;
}
#endif

Workspace::Workspace(size_t nbytes) : nbytes_(nbytes) {
  if (nbytes > 0) data_ = allocator_for(Device::cuda(striate::cuda::current_device())).allocate(nbytes);
}

Workspace::~Workspace() {
  if (data_.deleter && data_.ptr) data_.deleter(data_.ptr);
}

}  // namespace striate::kernels::cudnn

#endif
