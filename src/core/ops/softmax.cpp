// softmax and log_softmax along one dim: argument checks, the kernel call on
// a contiguous [outer, dim, inner] view, and one autograd node each whose
// backward needs only the forward result.
#include "core/ops/internal.h"
#include "kernels/softmax.h"
#include "striate/core/ops/activation.h"
#include "striate/core/ops/factory.h"

namespace striate {

using autograd::SavedTensor;

namespace {

Tensor softmax_impl(const Tensor& input, int64_t dim, std::optional<DType> dtype, bool log, const char* op) {
  ops::check_defined(input, op, "input");
  if (dtype) {
    STRIATE_CHECK(is_floating_point(*dtype), DTypeError, op, ": expected a floating-point dtype, got ", *dtype);
    return softmax_impl(input.to(*dtype), dim, std::nullopt, log, op);
  }
  STRIATE_CHECK(input.is_floating_point(), DTypeError, op, ": expected a floating-point input, got ", input.dtype(),
                " (pass dtype to convert it)");
  // A 0-dim tensor is softmaxed as one element along dim 0 (or -1).
  const int64_t ndim = std::max<int64_t>(input.dim(), 1);
  STRIATE_CHECK(dim >= -ndim && dim < ndim, IndexError, op, ": dimension out of range (expected to be in range of [",
                -ndim, ", ", ndim - 1, "], but got ", dim, ") for input of shape ", input.sizes());
  if (input.dtype() == kHalf || input.dtype() == kBFloat16)
    return softmax_impl(input.to(kFloat), dim, std::nullopt, log, op).to(input.dtype());
  if (dim < 0) dim += ndim;

  kernels::SoftmaxShape shape;
  if (input.dim() > 0) {
    shape.dim = input.size(dim);
    for (int64_t d = 0; d < dim; ++d) shape.outer *= input.size(d);
    for (int64_t d = dim + 1; d < input.dim(); ++d) shape.inner *= input.size(d);
  }
  const Tensor x = input.detach().contiguous();
  Tensor out = empty(input.sizes(), input.options());
  kernels::softmax_kernel.get(input.device())({x.data_ptr(), out.data_ptr(), shape, log, input.dtype()});
  if (autograd::any_requires_grad({input})) {
    autograd::record(log ? "LogSoftmaxBackward" : "SoftmaxBackward", {input}, {out},
                     [so = SavedTensor(out), shape, log, op](const TensorList& g) {
                       const Tensor y = so.unpack(op);
                       const Tensor go = g[0].to(y.dtype()).contiguous();
                       Tensor gi = empty(y.sizes(), y.options());
                       kernels::softmax_backward_kernel.get(y.device())(
                           {go.data_ptr(), y.data_ptr(), gi.data_ptr(), shape, log, y.dtype()});
                       return TensorList{gi};
                     });
  }
  return out;
}

}  // namespace

Tensor softmax(const Tensor& input, int64_t dim, std::optional<DType> dtype) {
  return softmax_impl(input, dim, dtype, false, "softmax");
}

Tensor log_softmax(const Tensor& input, int64_t dim, std::optional<DType> dtype) {
  return softmax_impl(input, dim, dtype, true, "log_softmax");
}

}  // namespace striate
