// cat and stack: each input is copied into its slice of a new tensor (a
// narrow() or select() view of it); backward hands each input that slice of
// the gradient.
#include "core/ops/internal.h"
#include "striate/core/ops/factory.h"
#include "striate/core/ops/shape_ops.h"

namespace striate {
namespace {

// The dtype every input converts to, and the device they must share.
TensorOptions joined_options(const std::vector<Tensor>& tensors, const char* op) {
  DType dtype = tensors[0].dtype();
  for (size_t i = 0; i < tensors.size(); ++i) {
    ops::check_same_device(tensors[0], tensors[i], op);
    dtype = promote_types(dtype, tensors[i].dtype());
  }
  return TensorOptions(dtype).device(tensors[0].device());
}

void check_all_defined(const std::vector<Tensor>& tensors, const char* op) {
  STRIATE_CHECK(!tensors.empty(), ValueError, op, ": expected a non-empty list of tensors");
  for (size_t i = 0; i < tensors.size(); ++i)
    STRIATE_CHECK(tensors[i].defined(), ValueError, op, ": tensor ", i, " of the list is undefined");
}

// A 1-D tensor of size 0: cat skips it whatever the other shapes, as
// PyTorch still does for code that starts from torch.tensor([]).
bool is_legacy_empty(const Tensor& t) { return t.dim() == 1 && t.size(0) == 0; }

struct InputInfo {
  Shape sizes;
  DType dtype;
};

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  check_all_defined(tensors, "cat");
  for (size_t i = 0; i < tensors.size(); ++i)
    STRIATE_CHECK(tensors[i].dim() > 0, ShapeError, "cat: zero-dimensional tensor (tensor ", i,
                  " of the list) cannot be concatenated");
  const TensorOptions options = joined_options(tensors, "cat");

  // The first tensor that is not skipped fixes the rank and the other dims.
  int64_t ref = -1;
  for (size_t i = 0; i < tensors.size() && ref < 0; ++i)
    if (!is_legacy_empty(tensors[i])) ref = static_cast<int64_t>(i);
  Shape out_sizes{0};
  if (ref >= 0) {
    const Tensor& first = tensors[ref];
    dim = wrap_dim(dim, first.dim(), "cat");
    out_sizes = first.sizes();
    out_sizes[dim] = 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
      const Tensor& t = tensors[i];
      if (is_legacy_empty(t)) continue;
      STRIATE_CHECK(t.dim() == first.dim(), ShapeError, "cat: tensors must have the same number of dims, but tensor ",
                    ref, " has shape ", first.sizes(), " and tensor ", i, " has shape ", t.sizes());
      for (int64_t d = 0; d < t.dim(); ++d)
        STRIATE_CHECK(d == dim || t.size(d) == first.size(d), ShapeError,
                      "cat: sizes of tensors must match except in dim ", dim, ", but tensor ", ref, " has shape ",
                      first.sizes(), " and tensor ", i, " has shape ", t.sizes(), " (they differ in dim ", d, ")");
      out_sizes[dim] += t.size(dim);
    }
  } else {
    dim = 0;  // every input is a skipped [0]: the result is one too
  }

  Tensor out = empty(out_sizes, options);
  std::vector<InputInfo> inputs;
  std::vector<int64_t> starts;
  int64_t start = 0;
  for (const Tensor& t : tensors) {
    inputs.push_back({t.sizes(), t.dtype()});
    starts.push_back(start);
    if (ref < 0 || is_legacy_empty(t)) continue;
    ops::copy_raw(out.narrow(dim, start, t.size(dim)), t);
    start += t.size(dim);
  }

  if (autograd::any_requires_grad(tensors)) {
    autograd::record("CatBackward", tensors, {out}, [inputs, starts, dim, skip_all = ref < 0](const TensorList& g) {
      TensorList grads;
      for (size_t i = 0; i < inputs.size(); ++i) {
        const InputInfo& in = inputs[i];
        const bool skipped = skip_all || (in.sizes.size() == 1 && in.sizes[0] == 0);
        if (skipped) grads.push_back(zeros(in.sizes, TensorOptions(in.dtype).device(g[0].device())));
        else grads.push_back(g[0].narrow(dim, starts[i], in.sizes[dim]).to(in.dtype));
      }
      return grads;
    });
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  check_all_defined(tensors, "stack");
  const Shape& sizes = tensors[0].sizes();
  for (size_t i = 1; i < tensors.size(); ++i)
    STRIATE_CHECK(tensors[i].sizes() == sizes, ShapeError, "stack: expects each tensor to be equal size, but got ",
                  sizes, " at entry 0 and ", tensors[i].sizes(), " at entry ", i);
  const TensorOptions options = joined_options(tensors, "stack");
  dim = wrap_dim(dim, static_cast<int64_t>(sizes.size()) + 1, "stack");

  Shape out_sizes = sizes;
  out_sizes.insert(out_sizes.begin() + dim, static_cast<int64_t>(tensors.size()));
  Tensor out = empty(out_sizes, options);
  for (size_t i = 0; i < tensors.size(); ++i) ops::copy_raw(out.select(dim, static_cast<int64_t>(i)), tensors[i]);

  if (autograd::any_requires_grad(tensors)) {
    std::vector<DType> dtypes;
    for (const Tensor& t : tensors) dtypes.push_back(t.dtype());
    autograd::record("StackBackward", tensors, {out}, [dtypes, dim](const TensorList& g) {
      TensorList grads;
      for (size_t i = 0; i < dtypes.size(); ++i)
        grads.push_back(g[0].select(dim, static_cast<int64_t>(i)).to(dtypes[i]));
      return grads;
    });
  }
  return out;
}

}  // namespace striate
