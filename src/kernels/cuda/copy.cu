// Strided copy with dtype conversion, and fill: one thread per element of
// the (coalesced) loop, so a contiguous tensor is one linear sweep.
#include "kernels/copy.h"
#include "kernels/cuda/launch.cuh"

namespace striate::kernels::cuda {
namespace {

// The CPU's rule (kernels/cpu/copy.cpp): through the source's arithmetic
// type, then the destination's; to bool means "not zero".
template <typename D, typename S>
__device__ __forceinline__ D convert(S v) {
  const auto a = load_acc(v);
  if constexpr (std::is_same_v<D, bool>) return a != decltype(a)(0);
  else return store_acc<D>(static_cast<device_acc_t<D>>(a));
}

template <typename D, typename S>
__global__ void copy_kernel(Loop<2> loop, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    int64_t off[2];
    loop_offsets(loop, i, off);
    *reinterpret_cast<D*>(loop.data[0] + off[0]) = convert<D>(*reinterpret_cast<const S*>(loop.data[1] + off[1]));
  }
}

template <typename T>
__global__ void fill_kernel(Loop<1> loop, int64_t n, T value) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    int64_t off[1];
    loop_offsets(loop, i, off);
    *reinterpret_cast<T*>(loop.data[0] + off[0]) = value;
  }
}

// A contiguous run of one dtype needs no kernel.
bool is_dense_run(const Loop<2>& loop, size_t element) {
  return loop.ndim == 0 || (loop.ndim == 1 && loop.strides[0][0] == static_cast<int64_t>(element) &&
                            loop.strides[1][0] == static_cast<int64_t>(element));
}

}  // namespace

void copy(const CopyParams& p) {
  const int64_t n = p.loop.numel();
  if (n == 0) return;
  if (p.dst_dtype == p.src_dtype && is_dense_run(p.loop, element_size(p.dst_dtype))) {
    STRIATE_CUDA_CHECK(cudaMemcpyAsync(p.loop.data[0], p.loop.data[1], n * element_size(p.dst_dtype),
                                       cudaMemcpyDeviceToDevice, current_stream()));
    return;
  }
  visit_device_dtype(p.dst_dtype, [&]<typename D>() {
    visit_device_dtype(p.src_dtype, [&]<typename S>() {
      launch("copy_kernel", copy_kernel<D, S>, grid_for(n), kThreads, 0, p.loop, n);
    });
  });
}

void fill(const FillParams& p) {
  const int64_t n = p.loop.numel();
  if (n == 0) return;
  visit_device_dtype(p.dtype, [&]<typename T>() {
    T value;
    if constexpr (std::is_floating_point_v<device_acc_t<T>>) value = store_acc<T>(static_cast<device_acc_t<T>>(p.value));
    else value = static_cast<T>(p.int_value);
    launch("fill_kernel", fill_kernel<T>, grid_for(n), kThreads, 0, p.loop, n, value);
  });
}

}  // namespace striate::kernels::cuda
