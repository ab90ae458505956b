// The device calls a caching allocator needs, and nothing else.
//
// The caching policy (caching_allocator.h) is written against this interface
// so that its logic runs and is tested on the CPU with a fake device
// (tests/core/caching_allocator_test.cpp); the CUDA implementation
// (src/core/cuda/cuda_memory.cpp) maps it onto cudaMalloc, cudaFree and events.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace striate::memory {

// A stream, opaque to the policy: a cudaStream_t's bits, 0 for the default stream.
using StreamId = uintptr_t;
// A marker recorded on a stream; the device says when it has passed it.
using EventId = uintptr_t;

class RawMemory {
 public:
  virtual ~RawMemory() = default;
  // nullptr when the device has no room; other failures throw.
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* ptr) = 0;
  virtual EventId record_event(StreamId stream) = 0;
  virtual bool event_done(EventId event) = 0;
  virtual void destroy_event(EventId event) = 0;
  // Waits until all work queued on the device is done.
  virtual void synchronize() = 0;
  // How messages name the device: "cuda:0", "pinned host".
  virtual std::string name() const = 0;
};

}  // namespace striate::memory
