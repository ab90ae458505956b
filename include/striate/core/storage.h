// The memory behind one or more tensors. Views share a Storage.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "striate/core/device.h"

namespace striate {

// One allocation and how to give it back. Allocators hand these out; the
// caching CUDA allocator's deleter returns the block to its pool.
struct DataPtr {
  void* ptr = nullptr;
  std::function<void(void*)> deleter;  // empty: memory the tensor does not own
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual DataPtr allocate(size_t nbytes) = 0;
};

// The allocator for a device; the CPU one returns 64-byte-aligned memory.
// `pinned`: page-locked host memory from the CUDA backend's host cache.
Allocator& allocator_for(const Device& device, bool pinned = false);

class Storage {
 public:
  Storage(DataPtr data, size_t nbytes, Device device, bool pinned = false)
      : data_(std::move(data)), nbytes_(nbytes), device_(device), pinned_(pinned) {}
  ~Storage() {
    if (data_.deleter && data_.ptr) data_.deleter(data_.ptr);
  }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  static std::shared_ptr<Storage> allocate(size_t nbytes, Device device, bool pinned = false) {
    return std::make_shared<Storage>(allocator_for(device, pinned).allocate(nbytes), nbytes, device, pinned);
  }

  void* data() const { return data_.ptr; }
  size_t nbytes() const { return nbytes_; }
  const Device& device() const { return device_; }
  bool is_pinned() const { return pinned_; }

  // Bumped by every in-place write, so autograd can tell when a tensor it
  // saved for backward has been overwritten since (shared by all views).
  uint32_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  DataPtr data_;
  size_t nbytes_;
  Device device_;
  bool pinned_;
  std::atomic<uint32_t> version_{0};
};

}  // namespace striate
