// What SGD and Adam share around their fused update kernels (kernels/optim.h):
// which parameters the kernels can take, and how their tensors are handed over.
#pragma once

#include <optional>
#include <vector>

#include "striate/core/tensor.h"

namespace striate::optim::fused {

// The memory order in which `t` is dense, if it is: the fused kernels walk a
// parameter, its gradient and its buffers together in that order.
inline std::optional<MemoryFormat> dense_format(const Tensor& t) {
  if (t.is_contiguous()) return MemoryFormat::Contiguous;
  if (t.is_contiguous(MemoryFormat::ChannelsLast)) return MemoryFormat::ChannelsLast;
  return std::nullopt;
}

// Whether `t` can be read beside `param` (dense in `fmt`) by a fused kernel.
inline bool matches(const Tensor& param, MemoryFormat fmt, const Tensor& t) {
  return t.dtype() == param.dtype() && t.device() == param.device() && t.is_contiguous(fmt);
}

// The parameter's gradient, copied into the parameter's layout when only the
// layout keeps it from the fused kernel (a dtype or device mismatch is left
// for the caller's op chain).
inline Tensor gradient_in_layout(const Tensor& param, std::optional<MemoryFormat> fmt) {
  const Tensor& grad = param.grad();
  if (fmt && grad.dtype() == param.dtype() && grad.device() == param.device() && !grad.is_contiguous(*fmt))
    return grad.contiguous(*fmt);
  return grad;
}

// After a kernel wrote `written` through raw pointers: their versions move on,
// as every in-place op's do, so autograd sees the change.
inline void bump_versions(const std::vector<Tensor>& written) {
  for (const Tensor& t : written) t.storage()->bump_version();
}

}  // namespace striate::optim::fused
