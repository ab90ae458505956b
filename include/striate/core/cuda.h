// The CUDA runtime as Striate users see it: devices, streams, events and the
// caching allocator's controls, named as in LibTorch's c10::cuda.
//
// All GPU work is queued on the current stream of its device (per thread,
// the default stream until set_current_stream or a StreamGuard changes it),
// so work is ordered without host synchronisation. In a build without CUDA,
// or on a machine without a GPU, every call here throws a DeviceError that
// says which; `cuda::is_available()` (device.h) asks first without throwing.
#pragma once

#include <cstdint>
#include <memory>

#include "striate/core/device.h"
#include "striate/core/memory_stats.h"

namespace striate {
class Tensor;
}

namespace striate::cuda {

// The device that calls without an explicit one use, for this thread.
int current_device();
void set_device(int index);

// Waits until every stream of the device (-1: the current one) is idle.
void synchronize(int device = -1);

// An ordered queue of GPU work on one device. Cheap to copy: streams live as
// long as the process, like PyTorch's pooled streams.
class Stream {
 public:
  // The next of a pool of 32 streams per device (round-robin), which do not
  // synchronise with the legacy default stream.
  static Stream create(int device = -1);

  int device_index() const { return device_; }
  Device device() const { return Device::cuda(device_); }
  void* native_handle() const { return handle_; }  // a cudaStream_t
  uintptr_t id() const { return reinterpret_cast<uintptr_t>(handle_); }
  bool query() const;  // true when all queued work is done
  void synchronize() const;

  bool operator==(const Stream& o) const { return device_ == o.device_ && handle_ == o.handle_; }
  bool operator!=(const Stream& o) const { return !(*this == o); }

 private:
  friend Stream default_stream(int);
  friend Stream current_stream(int);
  Stream(int device, void* handle) : device_(device), handle_(handle) {}
  int device_;
  void* handle_;
};

Stream default_stream(int device = -1);
Stream current_stream(int device = -1);
void set_current_stream(const Stream& stream);  // for the stream's device, this thread

// Makes `stream` current (and its device the current device) for a scope.
class StreamGuard {
 public:
  explicit StreamGuard(const Stream& stream);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  Stream previous_stream_;
  int previous_device_;
};

// Makes a device current for a scope; a CPU device leaves everything as is.
class DeviceGuard {
 public:
  explicit DeviceGuard(const Device& device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

// A point in a stream's work: wait on it from the host or from another
// stream, or time the work between two of them.
class Event {
 public:
  explicit Event(bool enable_timing = false);
  void record(const Stream& stream);
  void record() { record(current_stream()); }
  bool query() const;        // true once the device has passed the point (or nothing was recorded)
  void synchronize() const;  // host waits
  void block(const Stream& stream) const;  // `stream` waits, the host does not
  float elapsed_time(const Event& end) const;  // milliseconds from this event to `end`

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// The caching allocator of a device (-1: the current one). See
// docs/cuda.md and STRIATE_CUDA_ALLOC_CONF.
MemoryStats memory_stats(int device = -1);
void reset_peak_memory_stats(int device = -1);
// Gives cached memory that no tensor uses back to the driver, on every device.
void empty_cache();
// The tensor's memory is also used on `stream` (not its allocation stream):
// when the tensor is freed, the cache does not reuse the memory until the
// work queued on `stream` so far is done.
void record_stream(const Tensor& tensor, const Stream& stream);
// Pinned (page-locked) host memory, for asynchronous copies, has a cache too.
MemoryStats host_memory_stats();

}  // namespace striate::cuda
