#include "striate/core/storage.h"

#include <cstdlib>

#include "core/memory/device_allocators.h"
#include "striate/core/error.h"

namespace striate {
namespace {

class CpuAllocator final : public Allocator {
 public:
  DataPtr allocate(size_t nbytes) override {
    if (nbytes == 0) return {};
    // 64-byte alignment suits AVX-512 loads and whole cache lines.
    const size_t rounded = (nbytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded);
    STRIATE_CHECK(p != nullptr, OutOfMemoryError, "CPU allocator: failed to allocate ", nbytes, " bytes");
    return {p, [](void* q) { std::free(q); }};
  }
};

}  // namespace

Allocator& allocator_for(const Device& device, bool pinned) {
  static CpuAllocator cpu;
  if (device.is_cuda()) return memory::cuda_allocator(device.index());
  if (pinned) return memory::pinned_host_allocator();
  return cpu;
}

}  // namespace striate
