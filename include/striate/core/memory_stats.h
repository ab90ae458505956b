// What a caching allocator holds and has done: `cuda::memory_stats()`.
//
// "Allocated" is memory handed to tensors (sizes rounded up as the cache
// rounds them); "reserved" is memory the cache holds from the device,
// allocated or not; "active" is allocated plus blocks that tensors have
// released but that another stream may still be using (see record_stream).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace striate {

struct MemoryStats {
  int64_t allocated_bytes = 0;
  int64_t allocated_bytes_peak = 0;
  int64_t requested_bytes = 0;  // what callers asked for, before rounding
  int64_t reserved_bytes = 0;
  int64_t reserved_bytes_peak = 0;
  int64_t active_bytes = 0;
  int64_t active_bytes_peak = 0;
  int64_t allocations = 0;       // blocks held by tensors now
  int64_t segments = 0;          // device allocations held now
  int64_t num_allocs = 0;        // allocate() calls served
  int64_t num_frees = 0;         // blocks given back
  int64_t num_device_allocs = 0; // calls to the device's allocator (cudaMalloc)
  int64_t num_device_frees = 0;  // calls to the device's free (cudaFree)
  int64_t num_alloc_retries = 0; // device allocations retried after emptying the cache
  int64_t num_ooms = 0;          // requests that failed even after the retry
};

// One line, sizes in human units: "allocated 1.50 MiB (peak 2.00 MiB), ...".
std::ostream& operator<<(std::ostream& os, const MemoryStats& s);

// "512 B", "1.50 KiB", "20.00 MiB", "1.25 GiB".
std::string format_bytes(int64_t bytes);

}  // namespace striate
