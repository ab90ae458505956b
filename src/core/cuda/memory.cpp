// CUDA device memory and pinned host memory: the caching policy
// (core/memory/caching_allocator.h) over cudaMalloc / cudaHostAlloc, one
// cache per device, created on first use and kept for the life of the
// process (tensors freed during exit must still find their cache).
#include "core/memory/device_allocators.h"
#include "striate/core/cuda.h"
#include "striate/core/tensor.h"

#ifdef STRIATE_WITH_CUDA

#include <cstdio>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "core/cuda/cuda_check.h"
#include "core/memory/caching_allocator.h"

namespace striate {
namespace memory {
namespace {

// cudaMalloc-like results: the pointer, or nullptr when the device is full
// (the cache then frees and retries); other errors throw.
void* pointer_or_null(cudaError_t err, void* ptr, const char* call) {
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    return nullptr;
  }
  if (err != cudaSuccess) cuda::detail::throw_cuda_error(err, call, __FILE__, __LINE__);
  return ptr;
}

// Events recorded by the caches on user streams.
class EventCalls {
 protected:
  static EventId record_on(StreamId stream) {
    cudaEvent_t event = nullptr;
    STRIATE_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    STRIATE_CUDA_CHECK(cudaEventRecord(event, reinterpret_cast<cudaStream_t>(stream)));
    return reinterpret_cast<EventId>(event);
  }
  static bool done(EventId event) {
    return cuda::detail::query_done(cudaEventQuery(reinterpret_cast<cudaEvent_t>(event)), "cudaEventQuery");
  }
  static void destroy(EventId event) { cudaEventDestroy(reinterpret_cast<cudaEvent_t>(event)); }
};

class CudaDeviceMemory final : public RawMemory, EventCalls {
 public:
  explicit CudaDeviceMemory(int device) : device_(device) {}
  void* allocate(size_t nbytes) override {
    cuda::DeviceGuard guard(Device::cuda(device_));
    void* ptr = nullptr;
    const cudaError_t err = cudaMalloc(&ptr, nbytes);
    return pointer_or_null(err, ptr, "cudaMalloc");
  }
  void deallocate(void* ptr) override {
    cuda::DeviceGuard guard(Device::cuda(device_));
    const cudaError_t err = cudaFree(ptr);
    if (err == cudaErrorCudartUnloading) return;  // at exit: the driver frees it with the context
    STRIATE_CUDA_CHECK(err);
  }
  EventId record_event(StreamId stream) override {
    cuda::DeviceGuard guard(Device::cuda(device_));
    return record_on(stream);
  }
  bool event_done(EventId event) override { return done(event); }
  void destroy_event(EventId event) override { destroy(event); }
  void synchronize() override { cuda::synchronize(device_); }
  std::string name() const override { return "cuda:" + std::to_string(device_); }

 private:
  int device_;
};

// The pinned cache serves every GPU, so its stream ids must tell devices
// apart. A created stream's handle does; the default stream's (nullptr) is
// every device's, so its id there carries the device instead, in a range no
// real handle reaches.
constexpr StreamId kDefaultStreamOfDevice0 = ~StreamId{0} - 1;
constexpr int kMaxDevices = 1024;

StreamId pinned_stream_id(const cuda::Stream& stream) {
  return stream.id() != 0 ? stream.id() : kDefaultStreamOfDevice0 - static_cast<StreamId>(stream.device_index());
}

class PinnedHostMemory final : public RawMemory, EventCalls {
 public:
  void* allocate(size_t nbytes) override {
    void* ptr = nullptr;
    const cudaError_t err = cudaHostAlloc(&ptr, nbytes, cudaHostAllocDefault);
    return pointer_or_null(err, ptr, "cudaHostAlloc");
  }
  void deallocate(void* ptr) override {
    const cudaError_t err = cudaFreeHost(ptr);
    if (err == cudaErrorCudartUnloading) return;  // at exit, as above
    STRIATE_CUDA_CHECK(err);
  }
  EventId record_event(StreamId stream) override {
    // An event must be made on its stream's device.
    int device = 0;
    if (stream <= kDefaultStreamOfDevice0 && stream > kDefaultStreamOfDevice0 - kMaxDevices) {
      device = static_cast<int>(kDefaultStreamOfDevice0 - stream);
      stream = 0;  // that device's default stream
    } else {
      STRIATE_CUDA_CHECK(cudaStreamGetDevice(reinterpret_cast<cudaStream_t>(stream), &device));
    }
    cuda::DeviceGuard guard(Device::cuda(device));
    return record_on(stream);
  }
  bool event_done(EventId event) override { return done(event); }
  void destroy_event(EventId event) override { destroy(event); }
  void synchronize() override {
    for (int d = 0; d < cuda::device_count(); ++d) cuda::synchronize(d);
  }
  std::string name() const override { return "pinned host"; }
};

// Storage's deleter runs in a destructor, which must not throw. A block
// that cannot be freed (a broken context after a kernel fault) is said on
// stderr and stays out of the cache (CachingAllocator::free). Once the CUDA
// runtime is unloading at exit, every call fails and the driver reclaims
// everything anyway: nothing is said then.
void free_from_destructor(CachingAllocator& cache, void* ptr) noexcept {
  try {
    cache.free(ptr);
  } catch (const std::exception& e) {
    if (cudaFree(nullptr) == cudaErrorCudartUnloading) return;  // a no-op call, to ask the runtime's state
    std::fprintf(stderr, "striate: could not free %p: %s\n", ptr, e.what());
  }
}

// Hands CachingAllocator blocks to Storage, on the current stream.
class CachedAllocator final : public Allocator {
 public:
  // Pinned blocks belong to no real stream, so that every GPU stream that
  // uses one, the default stream included, counts as another stream.
  static constexpr StreamId kHostStream = ~StreamId{0};

  CachedAllocator(std::unique_ptr<RawMemory> raw, int device)
      : cache(std::move(raw), AllocatorConfig::from_env()), device_(device) {}
  DataPtr allocate(size_t nbytes) override {
    // Host memory has no stream of its own: it is ordered by the copies that
    // use it, which record_stream on their streams.
    const StreamId stream = device_ >= 0 ? cuda::current_stream(device_).id() : kHostStream;
    void* ptr = cache.allocate(nbytes, stream);
    if (device_ >= 0 && cache.config().poison && ptr != nullptr)
      STRIATE_CUDA_CHECK(cudaMemsetAsync(ptr, 0xFF, nbytes, static_cast<cudaStream_t>(
                                                                cuda::current_stream(device_).native_handle())));
    CachingAllocator* owner = &cache;
    return {ptr, [owner](void* p) noexcept { free_from_destructor(*owner, p); }};
  }
  CachingAllocator cache;

 private:
  int device_;  // -1: pinned host memory
};

std::mutex registry_mutex;

std::vector<CachedAllocator*>& device_caches() {
  static auto* caches = new std::vector<CachedAllocator*>(static_cast<size_t>(cuda::device_count()), nullptr);
  return *caches;
}

CachedAllocator& device_cache(int device) {
  device = cuda::detail::check_device(device, "CUDA allocator");
  std::lock_guard<std::mutex> lock(registry_mutex);
  CachedAllocator*& slot = device_caches()[static_cast<size_t>(device)];
  if (slot == nullptr) slot = new CachedAllocator(std::make_unique<CudaDeviceMemory>(device), device);
  return *slot;
}

CachedAllocator& host_cache() {
  cuda::detail::check_device(0, "pinned host allocator");
  static auto* cache = new CachedAllocator(std::make_unique<PinnedHostMemory>(), -1);
  return *cache;
}

}  // namespace

Allocator& cuda_allocator(int device) { return device_cache(device); }
Allocator& pinned_host_allocator() { return host_cache(); }
void record_pinned_use(const void* block, int device) {
  host_cache().cache.record_stream(const_cast<void*>(block), pinned_stream_id(cuda::current_stream(device)));
}

}  // namespace memory

namespace cuda {

MemoryStats memory_stats(int device) { return memory::device_cache(device).cache.stats(); }
void reset_peak_memory_stats(int device) { memory::device_cache(device).cache.reset_peak_stats(); }
MemoryStats host_memory_stats() { return memory::host_cache().cache.stats(); }

void empty_cache() {
  detail::check_device(0, "cuda::empty_cache");
  for (int d = 0; d < device_count(); ++d) memory::device_cache(d).cache.empty_cache();
  memory::host_cache().cache.empty_cache();
}

void record_stream(const Tensor& tensor, const Stream& stream) {
  STRIATE_CHECK(tensor.defined() && tensor.is_cuda(), DeviceError, "record_stream: expected a CUDA tensor, got ",
                tensor.defined() ? tensor.device().str() : std::string("an undefined tensor"));
  STRIATE_CHECK(tensor.device().index() == stream.device_index(), DeviceError, "record_stream: the tensor is on ",
                tensor.device(), ", the stream on cuda:", stream.device_index());
  memory::device_cache(stream.device_index()).cache.record_stream(tensor.storage()->data(), stream.id());
}

}  // namespace cuda
}  // namespace striate

#else  // no CUDA backend

#include "core/cuda/no_cuda.h"

namespace striate {
using cuda::detail::throw_no_cuda;
namespace memory {
Allocator& cuda_allocator(int) { throw_no_cuda("CUDA allocator"); }
Allocator& pinned_host_allocator() { throw_no_cuda("pinned host allocator"); }
void record_pinned_use(const void*, int) { throw_no_cuda("pinned host allocator"); }
}  // namespace memory
namespace cuda {
MemoryStats memory_stats(int) { throw_no_cuda("cuda::memory_stats"); }
void reset_peak_memory_stats(int) { throw_no_cuda("cuda::reset_peak_memory_stats"); }
MemoryStats host_memory_stats() { throw_no_cuda("cuda::host_memory_stats"); }
void empty_cache() { throw_no_cuda("cuda::empty_cache"); }
void record_stream(const Tensor&, const Stream&) { throw_no_cuda("record_stream"); }
}  // namespace cuda
}  // namespace striate

#endif
