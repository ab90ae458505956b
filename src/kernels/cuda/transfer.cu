// Bytes between devices, on the GPU side's current stream.
#include "kernels/copy.h"
#include "kernels/cuda/launch.cuh"

namespace striate::kernels {
namespace {

// A copy between two GPUs is ordered against both devices' current streams:
// it runs on the source's stream once the destination's stream has reached
// this point, and the destination's stream waits for it. Each buffer is then
// used only in its own stream's order, so the caching allocator reuses
// neither too early.
void transfer_between_gpus(const TransferParams& p) {
  const striate::cuda::Stream src_stream = striate::cuda::current_stream(p.src_device.index());
  const striate::cuda::Stream dst_stream = striate::cuda::current_stream(p.dst_device.index());
  striate::cuda::Event dst_ready, copied;
  dst_ready.record(dst_stream);
  dst_ready.block(src_stream);
  {
    striate::cuda::DeviceGuard guard(p.src_device);
    STRIATE_CUDA_CHECK(cudaMemcpyPeerAsync(p.dst, p.dst_device.index(), p.src, p.src_device.index(), p.nbytes,
                                           static_cast<cudaStream_t>(src_stream.native_handle())));
  }
  copied.record(src_stream);
  copied.block(dst_stream);
  if (!p.non_blocking) copied.synchronize();
}

}  // namespace

void transfer(const TransferParams& p) {
  if (p.nbytes == 0) return;
  if (p.dst_device.is_cuda() && p.src_device.is_cuda() && p.dst_device != p.src_device)
    return transfer_between_gpus(p);
  const Device gpu = p.dst_device.is_cuda() ? p.dst_device : p.src_device;
  striate::cuda::DeviceGuard guard(gpu);
  const cudaStream_t stream = cuda::current_stream();
  // Unified addressing: the runtime knows which side each pointer is on.
  STRIATE_CUDA_CHECK(cudaMemcpyAsync(p.dst, p.src, p.nbytes, cudaMemcpyDefault, stream));
  if (!p.non_blocking) STRIATE_CUDA_CHECK(cudaStreamSynchronize(stream));
}

}  // namespace striate::kernels
