// What every CUDA kernel file shares: the current stream, the launch seam,
// grid sizes, the device type of each DType, and strided offsets.
//
// Every kernel starts through launch() (or launch_on() for another stream),
// never through <<<>>> at the call site: in an emulation build
// (STRIATE_CUDA_EMULATION, tests/emu/) that one seam runs the kernel on the
// CPU instead, with cuda_emu.h force-included before this file.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "core/cuda/cuda_check.h"
#include "kernels/cpu/loop.h"
#include "striate/core/cuda.h"
#include "striate/core/dtype.h"
#include "striate/core/storage.h"

namespace striate::kernels::cuda {

inline cudaStream_t current_stream() {
#ifdef STRIATE_CUDA_EMULATION
  return nullptr;  // the emulator finishes each launch before returning
#else
  return static_cast<cudaStream_t>(striate::cuda::current_stream().native_handle());
#endif
}

// After every launch: a bad configuration surfaces here, with the kernel's name.
inline void check_launch(const char* kernel) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) striate::cuda::detail::throw_cuda_error(err, kernel, __FILE__, __LINE__);
}

// kernel<<<grid, block, shared_bytes, stream>>>(args...), then check_launch(name).
template <typename... Params, typename... Args>
void launch_on(cudaStream_t stream, const char* name, void (*kernel)(Params...), dim3 grid, dim3 block,
               size_t shared_bytes, Args&&... args) {
#ifdef STRIATE_CUDA_EMULATION
  ::striate_emu::launch(kernel, grid, block, shared_bytes, stream, std::forward<Args>(args)...);
#else
  kernel<<<grid, block, shared_bytes, stream>>>(std::forward<Args>(args)...);
#endif
  check_launch(name);
}

// The usual launch: on the current stream.
template <typename... Params, typename... Args>
void launch(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
            Args&&... args) {
  launch_on(current_stream(), name, kernel, grid, block, shared_bytes, std::forward<Args>(args)...);
}

constexpr int kThreads = 256;

// Memory for one call's intermediate values: device memory from the caching
// allocator (host memory in the emulator). Dropping it once the kernels that
// use it are queued is safe: the allocator gives the block out again only to
// work queued after them on the same stream.
inline std::shared_ptr<Storage> scratch(size_t nbytes) {
#ifdef STRIATE_CUDA_EMULATION
  return Storage::allocate(nbytes, Device::cpu());
#else
  return Storage::allocate(nbytes, Device::cuda(striate::cuda::current_device()));
#endif
}

// Enough blocks to fill the GPU several times over; grid-stride loops cover the rest.
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 65536 ? (blocks > 0 ? blocks : 1) : 65536);
}

// Calls f.template operator()<T>() with T the device type stored for `dtype`.
template <typename F>
void visit_device_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::Bool: return f.template operator()<bool>();
    case DType::U8: return f.template operator()<uint8_t>();
    case DType::I32: return f.template operator()<int32_t>();
    case DType::I64: return f.template operator()<int64_t>();
    case DType::F16: return f.template operator()<__half>();
    case DType::BF16: return f.template operator()<__nv_bfloat16>();
    case DType::F32: return f.template operator()<float>();
    case DType::F64: return f.template operator()<double>();
  }
}

// Calls f.template operator()<T>() with T = float or double: the kernels
// whose op layer computes 16-bit floats in float32 take only these.
template <typename F>
void visit_f32_f64(DType dtype, const char* op, F&& f) {
  if (dtype == DType::F32) return f.template operator()<float>();
  if (dtype == DType::F64) return f.template operator()<double>();
  throw DTypeError(::striate::detail::concat(op, ": the CUDA kernel takes float32 or float64, got ", dtype_name(dtype)));
}

// The type arithmetic on T happens in (float for the 16-bit floats), as on the CPU.
template <typename T> struct device_acc { using type = T; };
template <> struct device_acc<__half> { using type = float; };
template <> struct device_acc<__nv_bfloat16> { using type = float; };
template <typename T> using device_acc_t = typename device_acc<T>::type;

template <typename T>
__device__ __forceinline__ device_acc_t<T> load_acc(T v) {
  if constexpr (std::is_same_v<T, __half>) return __half2float(v);
  else if constexpr (std::is_same_v<T, __nv_bfloat16>) return __bfloat162float(v);
  else return v;
}

// Rounds to nearest even, as the CPU's Half and BFloat16 do.
template <typename T, typename A>
__device__ __forceinline__ T store_acc(A v) {
  if constexpr (std::is_same_v<T, __half>) return __float2half_rn(static_cast<float>(v));
  else if constexpr (std::is_same_v<T, __nv_bfloat16>) return __float2bfloat16_rn(static_cast<float>(v));
  else return static_cast<T>(v);
}

// The byte offsets of linear element `i` (row-major over loop.sizes) in each operand.
template <int N>
__device__ __forceinline__ void loop_offsets(const Loop<N>& loop, int64_t i, int64_t (&offsets)[N]) {
  if (loop.ndim == 1) {  // the common case: coalesced into one run
    for (int k = 0; k < N; ++k) offsets[k] = i * loop.strides[k][0];
    return;
  }
  for (int k = 0; k < N; ++k) offsets[k] = 0;
  for (int d = loop.ndim - 1; d >= 0; --d) {
    const int64_t size = loop.sizes[d];
    const int64_t coord = i % size;
    i /= size;
    for (int k = 0; k < N; ++k) offsets[k] += coord * loop.strides[k][d];
  }
}

// Calls f(pointers to element i of each operand) for every element.
template <int N, typename F>
__global__ void for_each_element_kernel(Loop<N> loop, int64_t n, F f) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    int64_t off[N];
    loop_offsets(loop, i, off);
    char* ptr[N];
    for (int k = 0; k < N; ++k) ptr[k] = loop.data[k] + off[k];
    f(ptr);
  }
}

// The elementwise engine (the GPU's kernels::cpu::for_each_element): f is a
// functor with `__device__ void operator()(char* const* ptrs) const`.
template <int N, typename F>
void for_each_element(const Loop<N>& loop, F f, const char* name) {
  const int64_t n = loop.numel();
  if (n == 0) return;
  launch(name, for_each_element_kernel<N, F>, grid_for(n), kThreads, 0, loop, n, f);
}

}  // namespace striate::kernels::cuda
