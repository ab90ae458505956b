// Devices, streams and events (include/striate/core/cuda.h).
#include "striate/core/cuda.h"

#include "striate/core/error.h"
#include "core/cuda/no_cuda.h"

#ifdef STRIATE_WITH_CUDA

#include <array>
#include <atomic>
#include <mutex>
#include <vector>

#include "core/cuda/cuda_check.h"

namespace striate::cuda {
namespace detail {

void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line) {
  cudaGetLastError();  // clear a non-sticky error so later calls are not blamed
  throw DeviceError(::striate::detail::concat("CUDA error ", cudaGetErrorName(err), " (", cudaGetErrorString(err),
                                              ") from ", call, " at ", file, ":", line));
}

bool query_done(cudaError_t err, const char* call) {
  if (err == cudaErrorNotReady) {
    cudaGetLastError();
    return false;
  }
  if (err != cudaSuccess) throw_cuda_error(err, call, __FILE__, __LINE__);
  return true;
}

int check_device(int index, const char* what) {
  const int count = device_count();
  STRIATE_CHECK(count > 0, DeviceError, what, ": ", unavailable_reason(),
                "; use a CPU tensor or a machine with a GPU");
  STRIATE_CHECK(index >= -1, DeviceError, what, ": invalid CUDA device index ", index, " (-1 means the current one)");
  if (index == -1) index = current_device();
  STRIATE_CHECK(index < count, DeviceError, what, ": cuda:", index, " does not exist; this machine has ", count,
                count == 1 ? " GPU" : " GPUs");
  return index;
}

}  // namespace detail

namespace {

constexpr int kStreamsPerPool = 32;

struct StreamPool {
  std::once_flag created;
  std::array<cudaStream_t, kStreamsPerPool> streams{};
  std::atomic<unsigned> next{0};
};

StreamPool& pool_of(int device) {
  static std::vector<StreamPool> pools(static_cast<size_t>(device_count()));
  return pools[static_cast<size_t>(device)];
}

// This thread's current stream per device; nullptr is the default stream.
std::vector<cudaStream_t>& current_streams() {
  thread_local std::vector<cudaStream_t> streams(static_cast<size_t>(device_count()), nullptr);
  return streams;
}

}  // namespace

int current_device() {
  detail::check_device(0, "cuda::current_device");
  int index = 0;
  STRIATE_CUDA_CHECK(cudaGetDevice(&index));
  return index;
}

void set_device(int index) {
  STRIATE_CHECK(index >= 0, DeviceError, "cuda::set_device: expected a device index >= 0, got ", index);
  detail::check_device(index, "cuda::set_device");
  STRIATE_CUDA_CHECK(cudaSetDevice(index));
}

void synchronize(int device) {
  DeviceGuard guard(Device::cuda(detail::check_device(device, "cuda::synchronize")));
  STRIATE_CUDA_CHECK(cudaDeviceSynchronize());
}

Stream Stream::create(int device) {
  device = detail::check_device(device, "cuda::Stream::create");
  StreamPool& pool = pool_of(device);
  std::call_once(pool.created, [&] {
    DeviceGuard guard(Device::cuda(device));
    for (cudaStream_t& s : pool.streams) STRIATE_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  });
  return Stream(device, pool.streams[pool.next++ % kStreamsPerPool]);
}

// The default stream's handle (nullptr) names the current device's default
// stream, so both calls run with this stream's device current.
bool Stream::query() const {
  DeviceGuard guard(device());
  return detail::query_done(cudaStreamQuery(static_cast<cudaStream_t>(handle_)), "cudaStreamQuery");
}

void Stream::synchronize() const {
  DeviceGuard guard(device());
  STRIATE_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(handle_)));
}

Stream default_stream(int device) { return Stream(detail::check_device(device, "cuda::default_stream"), nullptr); }

Stream current_stream(int device) {
  device = detail::check_device(device, "cuda::current_stream");
  return Stream(device, current_streams()[static_cast<size_t>(device)]);
}

void set_current_stream(const Stream& stream) {
  current_streams()[static_cast<size_t>(stream.device_index())] = static_cast<cudaStream_t>(stream.native_handle());
}

StreamGuard::StreamGuard(const Stream& stream)
    : previous_stream_(current_stream(stream.device_index())), previous_device_(current_device()) {
  set_device(stream.device_index());
  set_current_stream(stream);
}

StreamGuard::~StreamGuard() {
  set_current_stream(previous_stream_);
  cudaSetDevice(previous_device_);  // no throw from a destructor
}

DeviceGuard::DeviceGuard(const Device& device) {
  if (!device.is_cuda()) return;
  const int target = detail::check_device(device.index(), "cuda::DeviceGuard");
  previous_ = current_device();
  if (previous_ != target) STRIATE_CUDA_CHECK(cudaSetDevice(target));
}

DeviceGuard::~DeviceGuard() {
  if (previous_ >= 0) cudaSetDevice(previous_);
}

struct Event::Impl {
  bool timing;
  int device = -1;
  cudaEvent_t event = nullptr;
  ~Impl() {
    if (event != nullptr) cudaEventDestroy(event);
  }
};

Event::Event(bool enable_timing) : impl_(std::make_shared<Impl>()) { impl_->timing = enable_timing; }

void Event::record(const Stream& stream) {
  DeviceGuard guard(stream.device());
  if (impl_->event == nullptr) {
    STRIATE_CUDA_CHECK(cudaEventCreateWithFlags(&impl_->event, impl_->timing ? cudaEventDefault
                                                                             : cudaEventDisableTiming));
    impl_->device = stream.device_index();
  }
  STRIATE_CHECK(impl_->device == stream.device_index(), DeviceError, "cuda::Event::record: the event belongs to cuda:",
                impl_->device, ", the stream to cuda:", stream.device_index());
  STRIATE_CUDA_CHECK(cudaEventRecord(impl_->event, static_cast<cudaStream_t>(stream.native_handle())));
}

bool Event::query() const {
  return impl_->event == nullptr || detail::query_done(cudaEventQuery(impl_->event), "cudaEventQuery");
}

void Event::synchronize() const {
  if (impl_->event != nullptr) STRIATE_CUDA_CHECK(cudaEventSynchronize(impl_->event));
}

void Event::block(const Stream& stream) const {
  if (impl_->event == nullptr) return;
  DeviceGuard guard(stream.device());
  STRIATE_CUDA_CHECK(cudaStreamWaitEvent(static_cast<cudaStream_t>(stream.native_handle()), impl_->event, 0));
}

float Event::elapsed_time(const Event& end) const {
  STRIATE_CHECK(impl_->timing && end.impl_->timing, ValueError,
                "cuda::Event::elapsed_time: both events need enable_timing=true");
  STRIATE_CHECK(impl_->event != nullptr && end.impl_->event != nullptr, ValueError,
                "cuda::Event::elapsed_time: both events must be recorded first");
  float ms = 0;
  STRIATE_CUDA_CHECK(cudaEventElapsedTime(&ms, impl_->event, end.impl_->event));
  return ms;
}

}  // namespace striate::cuda

#else  // a build without the CUDA backend: every call says so

namespace striate::cuda {
namespace detail {
void throw_no_cuda(const char* what) {
  throw DeviceError(::striate::detail::concat(
      what, ": this build of Striate has no CUDA backend (configure with -DSTRIATE_CUDA=ON and the CUDA toolkit)"));
}
}  // namespace detail
using detail::throw_no_cuda;

int current_device() { throw_no_cuda("cuda::current_device"); }
void set_device(int) { throw_no_cuda("cuda::set_device"); }
void synchronize(int) { throw_no_cuda("cuda::synchronize"); }
Stream Stream::create(int) { throw_no_cuda("cuda::Stream::create"); }
bool Stream::query() const { throw_no_cuda("cuda::Stream::query"); }
void Stream::synchronize() const { throw_no_cuda("cuda::Stream::synchronize"); }
Stream default_stream(int) { throw_no_cuda("cuda::default_stream"); }
Stream current_stream(int) { throw_no_cuda("cuda::current_stream"); }
void set_current_stream(const Stream&) { throw_no_cuda("cuda::set_current_stream"); }
StreamGuard::StreamGuard(const Stream& s) : previous_stream_(s), previous_device_(-1) { throw_no_cuda("cuda::StreamGuard"); }
StreamGuard::~StreamGuard() = default;
DeviceGuard::DeviceGuard(const Device& device) {
  if (device.is_cuda()) throw_no_cuda("cuda::DeviceGuard");
}
DeviceGuard::~DeviceGuard() = default;
struct Event::Impl {};
Event::Event(bool) { throw_no_cuda("cuda::Event"); }
void Event::record(const Stream&) { throw_no_cuda("cuda::Event::record"); }
bool Event::query() const { throw_no_cuda("cuda::Event::query"); }
void Event::synchronize() const { throw_no_cuda("cuda::Event::synchronize"); }
void Event::block(const Stream&) const { throw_no_cuda("cuda::Event::block"); }
float Event::elapsed_time(const Event&) const { throw_no_cuda("cuda::Event::elapsed_time"); }

}  // namespace striate::cuda

#endif
