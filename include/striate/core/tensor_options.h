// The dtype, device, requires_grad and pinned_memory of a tensor being created, with chained
// setters as in LibTorch: TensorOptions().dtype(kF64).requires_grad(true).
#pragma once

#include "striate/core/device.h"
#include "striate/core/dtype.h"

namespace striate {

class TensorOptions {
 public:
  TensorOptions() = default;
  TensorOptions(DType t) : dtype_(t) {}    // NOLINT: zeros({2}, kF64)
  TensorOptions(Device d) : device_(d) {}  // NOLINT
  TensorOptions(DeviceType d) : device_(d) {}  // NOLINT

  TensorOptions dtype(DType t) const { auto o = *this; o.dtype_ = t; return o; }
  TensorOptions device(Device d) const { auto o = *this; o.device_ = d; return o; }
  TensorOptions requires_grad(bool r) const { auto o = *this; o.requires_grad_ = r; return o; }
  // CPU tensors in page-locked memory, which GPU copies read and write
  // asynchronously (needs a GPU; see Tensor::pin_memory).
  TensorOptions pinned_memory(bool p) const { auto o = *this; o.pinned_memory_ = p; return o; }

  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  bool requires_grad() const { return requires_grad_; }
  bool pinned_memory() const { return pinned_memory_; }

 private:
  DType dtype_ = kFloat;
  Device device_ = Device::cpu();
  bool requires_grad_ = false;
  bool pinned_memory_ = false;
};

// Free functions so that `dtype(kF64).requires_grad(true)` reads as in LibTorch.
inline TensorOptions dtype(DType t) { return TensorOptions().dtype(t); }
inline TensorOptions device(Device d) { return TensorOptions().device(d); }
inline TensorOptions requires_grad(bool r = true) { return TensorOptions().requires_grad(r); }

}  // namespace striate
