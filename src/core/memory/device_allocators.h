// The allocators behind device memory, for Storage (storage.cpp) and the
// copy code; the public controls are in striate/core/cuda.h.
#pragma once

#include "striate/core/storage.h"

namespace striate::memory {

// Memory on cuda:`device` from its caching allocator, ordered on the
// current stream. Throws DeviceError when there is no such GPU.
Allocator& cuda_allocator(int device);

// Page-locked host memory (for asynchronous copies) from its own cache.
Allocator& pinned_host_allocator();
// The pinned block starting at `block` is used by work queued on the current
// stream of cuda:`device`: the cache keeps it until that work is done.
void record_pinned_use(const void* block, int device);

}  // namespace striate::memory
