// The registry that maps an op family and a device to its implementation.
//
// Each kernel family declares one `Kernel<Fn>` table (see copy.h); the op
// layer calls `table.get(device)(params)`, or `table.run(device, key, ...)`
// where the table has a library (cuDNN/cuBLAS) entry and the shape `key`
// lets Auto remember its measurement. Tables are filled in their .cpp files
// from the backends built into this library, so a new backend is a new
// folder under kernels/ plus entries there, and a missing entry is a clear
// NotImplementedError rather than a crash.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "striate/core/backend.h"
#include "striate/core/cuda.h"
#include "striate/core/device.h"
#include "striate/core/error.h"

namespace striate::kernels {

namespace registry {
// Says `message` on stderr the first time it is given, never again.
void log_once(const std::string& message);
// Auto's memory: whether the library won for (kernel, key); -1 when not yet measured.
int auto_choice(const char* kernel, const std::vector<int64_t>& key);
void remember_auto_choice(const char* kernel, const std::vector<int64_t>& key, bool library, float native_ms,
                          float library_ms);
// Milliseconds `fn` takes on the current CUDA stream (after one warm-up run).
template <typename F>
float time_on_current_stream(F&& fn);
float elapsed_ms_of(void (*enqueue)(void*), void* context);
}  // namespace registry

// A kernel with its device made current for as long as this lives: a
// cuda:1 tensor's kernel runs on cuda:1 (its stream, its cuDNN handle)
// whichever device the caller has current. `table.get(device)(params)`
// holds the guard for the call.
template <typename Fn>
class DeviceKernel {
 public:
  DeviceKernel(Fn fn, const Device& device) : fn_(fn), guard_(device) {}
  // Called like the function itself (braced params included).
  operator Fn() const { return fn_; }  // NOLINT(google-explicit-constructor)

 private:
  Fn fn_;
  striate::cuda::DeviceGuard guard_;
};

template <typename Fn>
struct Kernel {
  const char* name;
  std::array<Fn, 2> impl{};       // Striate's own kernels, indexed by DeviceType
  Fn library = nullptr;           // the cuDNN/cuBLAS implementation for CUDA tensors, in builds that have it
  std::optional<OpFamily> family;  // set on tables with a library implementation: whose setting chooses

  Kernel(const char* name_, std::array<Fn, 2> impl_, Fn library_ = nullptr,
         std::optional<OpFamily> family_ = std::nullopt)
      : name(name_), impl(impl_), library(library_), family(family_) {}

  Fn native(const Device& device) const {
    Fn f = impl[static_cast<size_t>(device.type())];
    STRIATE_CHECK(f != nullptr, NotImplementedError, name, ": not implemented for ", device,
                  " tensors in this build");
    return f;
  }

  // The implementation for `device` under the family's backend setting
  // (Auto is Native here: only run() measures), with the device current.
  DeviceKernel<Fn> get(const Device& device) const { return {select(device), device}; }

  // Whether run() on `device` times native against the library: under Auto,
  // where both exist, unless deterministic algorithms are on (a timed choice
  // may differ between runs, so Auto then runs the native kernel).
  bool measures(const Device& device) const {
    return device.is_cuda() && family && library != nullptr && impl[1] != nullptr &&
           kernel_backend(*family) == KernelBackend::Auto && !are_deterministic_algorithms_enabled();
  }

  // Runs the chosen implementation on args. Under Auto, the first call for a
  // `key` (the problem's shape) runs both, timed, and remembers the faster;
  // both must overwrite their outputs (not accumulate) for that to be sound.
  template <typename... Args>
  void run(const Device& device, const std::vector<int64_t>& key, Args&&... args) const {
    if (!measures(device)) return get(device)(args...);
    const striate::cuda::DeviceGuard guard(device);
    int choice = registry::auto_choice(name, key);
    if (choice < 0) {
      const float native_ms = registry::time_on_current_stream([&] { impl[1](args...); });
      const float library_ms = registry::time_on_current_stream([&] { library(args...); });
      choice = library_ms < native_ms ? 1 : 0;
      registry::remember_auto_choice(name, key, choice == 1, native_ms, library_ms);
    }
    (choice == 1 ? library : impl[1])(args...);
  }

  // The same choice as get(), without making the device current: choosing
  // needs no GPU (the tests check it on machines without one).
  Fn select(const Device& device) const {
    if (!device.is_cuda() || !family) return native(device);
    if (kernel_backend(*family) == KernelBackend::Library) {
      if (library != nullptr) return library;
      registry::log_once(std::string("striate: ") + name + ": this build has no " +
                       backend_name(*family, KernelBackend::Library) + "; running the native CUDA kernel");
    }
    return impl[1] == nullptr && library != nullptr ? library : native(device);
  }
};

template <typename F>
float registry::time_on_current_stream(F&& fn) {
  using Callable = std::remove_reference_t<F>;
  return elapsed_ms_of([](void* f) { (*static_cast<Callable*>(f))(); }, &fn);
}

}  // namespace striate::kernels

// A table's CUDA entry: the kernel in CUDA builds, empty (a clear
// NotImplementedError) in CPU-only ones.
#ifdef STRIATE_WITH_CUDA
#define STRIATE_CUDA_ENTRY(fn) (fn)
#else
#define STRIATE_CUDA_ENTRY(fn) nullptr
#endif
// The cuDNN / cuBLAS entry of a table, empty in builds without the library.
#ifdef STRIATE_WITH_CUDNN
#define STRIATE_CUDNN_ENTRY(fn) (fn)
#else
#define STRIATE_CUDNN_ENTRY(fn) nullptr
#endif
#ifdef STRIATE_WITH_CUBLAS
#define STRIATE_CUBLAS_ENTRY(fn) (fn)
#else
#define STRIATE_CUBLAS_ENTRY(fn) nullptr
#endif
