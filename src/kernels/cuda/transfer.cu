// Bytes between devices, on the GPU side's current stream.
#include "kernels/copy.h"
#include "kernels/cuda/launch.cuh"

namespace striate::kernels {

void transfer(const TransferParams& p) {
  if (p.nbytes == 0) return;
  const Device gpu = p.dst_device.is_cuda() ? p.dst_device : p.src_device;
  striate::cuda::DeviceGuard guard(gpu);
  const cudaStream_t stream = cuda::current_stream();
  if (p.dst_device.is_cuda() && p.src_device.is_cuda() && p.dst_device != p.src_device) {
    STRIATE_CUDA_CHECK(
        cudaMemcpyPeerAsync(p.dst, p.dst_device.index(), p.src, p.src_device.index(), p.nbytes, stream));
  } else {
    // Unified addressing: the runtime knows which side each pointer is on.
    STRIATE_CUDA_CHECK(cudaMemcpyAsync(p.dst, p.src, p.nbytes, cudaMemcpyDefault, stream));
  }
  if (!p.non_blocking) STRIATE_CUDA_CHECK(cudaStreamSynchronize(stream));
}

}  // namespace striate::kernels
