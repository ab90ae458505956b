// Reductions: argument checks, the [outer, reduce, inner] layout the kernels
// expect, and the backward formulas (written with other ops).
#include "striate/core/ops/reduce.h"

#include <algorithm>
#include <limits>

#include "core/ops/internal.h"
#include "kernels/reduce.h"
#include "striate/core/ops/elementwise.h"
#include "striate/core/ops/factory.h"

namespace striate {
namespace {

using DimMask = std::vector<bool>;

// Which dims of `a` are reduced: all of them for an empty list. A 0-dim
// tensor accepts dim 0 / -1 (as in PyTorch) and has nothing to reduce.
DimMask reduced_dims(const Tensor& a, const Shape& dims, const char* op) {
  const int64_t n = a.dim();
  DimMask mask(n, dims.empty());
  std::vector<bool> seen(std::max<int64_t>(n, 1), false);
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, n, op);
    STRIATE_CHECK(!seen[w], ValueError, op, ": dim ", w, " appears multiple times in the list of dims ", dims);
    seen[w] = true;
    if (n > 0) mask[w] = true;
  }
  return mask;
}

// The shape of `sizes` with reduced dims as 1 (keepdim) or removed.
Shape reduced_sizes(const Shape& sizes, const DimMask& mask, bool keepdim) {
  Shape out;
  for (size_t d = 0; d < sizes.size(); ++d)
    if (!mask[d]) out.push_back(sizes[d]);
    else if (keepdim) out.push_back(1);
  return out;
}

int64_t reduced_numel(const Shape& sizes, const DimMask& mask) {
  int64_t n = 1;
  for (size_t d = 0; d < sizes.size(); ++d)
    if (mask[d]) n *= sizes[d];
  return n;
}

// An input laid out as [outer, reduce, inner] and contiguous, with the
// output (kept dims in order) matching [outer, inner] row-major.
struct Layout {
  Tensor input;
  kernels::ReduceShape shape;
};

// A contiguous input whose reduced dims form one run (ignoring size-1 dims)
// is used as it is; otherwise the reduced dims are permuted to the end and
// the result made contiguous (a no-op when that permutation is contiguous).
Layout layout_for(const Tensor& a, const DimMask& mask) {
  const Shape& sizes = a.sizes();
  if (a.is_contiguous()) {
    // Dims of size > 1 must read kept*, reduced*, kept*.
    int phase = 0;  // 0: leading kept, 1: reduced, 2: trailing kept
    bool ok = true;
    kernels::ReduceShape s;
    for (size_t d = 0; d < sizes.size(); ++d) {
      if (sizes[d] == 1) continue;
      if (mask[d]) {
        if (phase == 2) ok = false;
        phase = 1;
        s.reduce *= sizes[d];
      } else {
        if (phase == 1) phase = 2;
        (phase == 0 ? s.outer : s.inner) *= sizes[d];
      }
    }
    if (ok) return {a, s};
  }
  Shape perm;
  kernels::ReduceShape s;
  for (size_t d = 0; d < sizes.size(); ++d)
    if (!mask[d]) {
      perm.push_back(static_cast<int64_t>(d));
      s.outer *= sizes[d];
    }
  for (size_t d = 0; d < sizes.size(); ++d)
    if (mask[d]) {
      perm.push_back(static_cast<int64_t>(d));
      s.reduce *= sizes[d];
    }
  return {a.permute(perm).contiguous(), s};
}

// The sum or variance of `a` (already in the dtype to reduce in) into a new
// tensor; floating results keep a's dtype, integer sums give int64.
Tensor run_reduce(const Tensor& a, const DimMask& mask, bool keepdim, kernels::ReduceOp op, double scale,
                  int64_t correction) {
  Layout layout = layout_for(a.detach(), mask);
  const DType out_dtype = is_floating_point(a.dtype()) ? a.dtype() : kLong;
  Tensor out = empty(reduced_sizes(a.sizes(), mask, keepdim), TensorOptions(out_dtype).device(a.device()));
  kernels::ReduceParams p;
  p.in = layout.input.data_ptr();
  p.out = out.data_ptr();
  p.shape = layout.shape;
  p.dtype = a.dtype();
  p.op = op;
  p.scale = scale;
  p.correction = correction;
  kernels::reduce_kernel.get(a.device())(p);
  return out;
}

// Extremes (values and/or indices) over the masked dims, each reduced dim
// non-empty. Indices count in the row-major order of the reduced dims.
std::tuple<Tensor, Tensor> run_arg_reduce(const Tensor& a, const DimMask& mask, bool keepdim, bool is_max,
                                          bool want_values, bool want_indices) {
  Layout layout = layout_for(a.detach(), mask);
  const Shape out_sizes = reduced_sizes(a.sizes(), mask, keepdim);
  Tensor values, indices;
  kernels::ArgReduceParams p;
  p.in = layout.input.data_ptr();
  if (want_values) {
    values = empty(out_sizes, a.options().requires_grad(false));
    p.values = values.data_ptr();
  }
  if (want_indices) {
    indices = empty(out_sizes, TensorOptions(kLong).device(a.device()));
    p.indices = indices.data_ptr<int64_t>();
  }
  p.shape = layout.shape;
  p.dtype = a.dtype();
  p.is_max = is_max;
  if (layout.shape.outer * layout.shape.inner > 0) kernels::arg_reduce_kernel.get(a.device())(p);
  return {values, indices};
}

// The gradient of a reduction's output, broadcast back over the input.
Tensor unreduce(const Tensor& grad, const Shape& in_sizes, const DimMask& mask) {
  return grad.reshape(reduced_sizes(in_sizes, mask, /*keepdim=*/true)).expand(in_sizes);
}

void check_nonempty_dims(const Tensor& a, const DimMask& mask, const char* op) {
  for (int64_t d = 0; d < a.dim(); ++d)
    STRIATE_CHECK(!mask[d] || a.size(d) > 0, IndexError, op, ": expected reduction dim ", d,
                  " to have non-zero size, got input of shape ", a.sizes());
}

void check_floating(const Tensor& a, const char* op) {
  STRIATE_CHECK(a.is_floating_point(), DTypeError, op, ": expected a floating-point input, got ", a.dtype(),
                " (convert it with to(kFloat) first)");
}

Tensor extreme_along(const Tensor& a, const Shape& dims, bool keepdim, bool is_max, const char* op) {
  ops::check_defined(a, op, "input");
  const DimMask mask = reduced_dims(a, dims, op);
  STRIATE_CHECK(a.numel() > 0 || !std::all_of(mask.begin(), mask.end(), [](bool m) { return m; }), ShapeError,
                op, ": expected a non-empty input when reducing over all dims, got shape ", a.sizes());
  check_nonempty_dims(a, mask, op);
  Tensor out = std::get<0>(run_arg_reduce(a, mask, keepdim, is_max, true, false));
  if (autograd::any_requires_grad({a})) {
    autograd::SavedTensor saved_in(a), saved_out(out);
    const Shape in_sizes = a.sizes();
    autograd::record(is_max ? "AmaxBackward" : "AminBackward", {a}, {out},
                     [saved_in, saved_out, in_sizes, mask, op](const TensorList& g) {
                       // Ties share the gradient evenly.
                       const Tensor x = saved_in.unpack(op);
                       const Tensor hit = eq(x, unreduce(saved_out.unpack(op), in_sizes, mask)).to(g[0].dtype());
                       Shape dims;
                       for (size_t d = 0; d < mask.size(); ++d)
                         if (mask[d]) dims.push_back(static_cast<int64_t>(d));
                       const Tensor count = dims.empty() ? hit : sum(hit, dims, /*keepdim=*/true);
                       return TensorList{hit * (unreduce(g[0], in_sizes, mask) / count)};
                     });
  }
  return out;
}

Tensor extreme_all(const Tensor& a, bool is_max, const char* op) {
  ops::check_defined(a, op, "input");
  STRIATE_CHECK(a.numel() > 0, ShapeError, op,
                ": expected a non-empty input when no dim is given, got shape ", a.sizes(),
                "; pass a dim to reduce an empty tensor along a non-empty dim");
  const DimMask all(a.dim(), true);
  Tensor out = std::get<0>(run_arg_reduce(a, all, false, is_max, true, false));
  if (autograd::any_requires_grad({a})) {
    autograd::SavedTensor saved_in(a), saved_out(out);
    autograd::record(is_max ? "MaxBackward" : "MinBackward", {a}, {out},
                     [saved_in, saved_out, op](const TensorList& g) {
                       // Evenly among the elements equal to the result, NaN matching NaN.
                       const Tensor x = saved_in.unpack(op), v = saved_out.unpack(op);
                       const Tensor hit =
                           logical_or(eq(x, v), logical_and(ne(x, x), ne(v, v))).to(g[0].dtype());
                       return TensorList{hit * (g[0] / sum(hit))};
                     });
  }
  return out;
}

std::tuple<Tensor, Tensor> extreme_dim(const Tensor& a, int64_t dim, bool keepdim, bool is_max, const char* op) {
  ops::check_defined(a, op, "input");
  const DimMask mask = reduced_dims(a, {dim}, op);
  check_nonempty_dims(a, mask, op);
  auto [values, indices] = run_arg_reduce(a, mask, keepdim, is_max, true, true);
  if (autograd::any_requires_grad({a})) {
    const Shape in_sizes = a.sizes();
    const int64_t d = wrap_dim(dim, a.dim(), op);
    autograd::SavedTensor saved_indices(indices);
    autograd::record(is_max ? "MaxBackward" : "MinBackward", {a}, {values},
                     [saved_indices, in_sizes, mask, d, op](const TensorList& g) {
                       if (in_sizes.empty()) return TensorList{g[0].reshape({})};
                       // A one-hot mask along d: positions equal to the selected index.
                       Shape along(in_sizes.size(), 1);
                       along[d] = in_sizes[d];
                       const Tensor positions =
                           arange(in_sizes[d], TensorOptions(kLong).device(g[0].device())).reshape(along);
                       const Tensor chosen = eq(positions, unreduce(saved_indices.unpack(op), in_sizes, mask));
                       return TensorList{where(chosen, unreduce(g[0], in_sizes, mask), Scalar(0))};
                     });
  }
  return {values, indices};
}

Tensor arg_extreme(const Tensor& a, std::optional<int64_t> dim, bool keepdim, bool is_max, const char* op) {
  ops::check_defined(a, op, "input");
  if (!dim) {
    STRIATE_CHECK(a.numel() > 0, ShapeError, op,
                  ": expected a non-empty input when no dim is given, got shape ", a.sizes());
    return std::get<1>(run_arg_reduce(a, DimMask(a.dim(), true), keepdim, is_max, false, true));
  }
  const DimMask mask = reduced_dims(a, {*dim}, op);
  check_nonempty_dims(a, mask, op);
  return std::get<1>(run_arg_reduce(a, mask, keepdim, is_max, false, true));
}

}  // namespace

Tensor sum(const Tensor& a, const Shape& dims, bool keepdim, std::optional<DType> dtype) {
  ops::check_defined(a, "sum", "input");
  const DimMask mask = reduced_dims(a, dims, "sum");
  const Tensor src = dtype ? a.detach().to(*dtype) : a;
  Tensor out = run_reduce(src, mask, keepdim, kernels::ReduceOp::Sum, 1.0, 0);
  if (dtype && out.dtype() != *dtype) out = out.to(*dtype);  // integer sums come back as int64
  if (autograd::any_requires_grad({a})) {
    const Shape in_sizes = a.sizes();
    const DType in_dtype = a.dtype();
    autograd::record("SumBackward", {a}, {out}, [in_sizes, in_dtype, mask](const TensorList& g) {
      return TensorList{unreduce(g[0], in_sizes, mask).to(in_dtype)};
    });
  }
  return out;
}

Tensor sum(const Tensor& a, std::optional<DType> dtype) { return sum(a, Shape{}, false, dtype); }

Tensor mean(const Tensor& a, const Shape& dims, bool keepdim) {
  ops::check_defined(a, "mean", "input");
  check_floating(a, "mean");
  const DimMask mask = reduced_dims(a, dims, "mean");
  const int64_t n = reduced_numel(a.sizes(), mask);
  // 1/0 = inf makes the mean of nothing 0 * inf = NaN, as in PyTorch.
  const double scale = n > 0 ? 1.0 / static_cast<double>(n) : std::numeric_limits<double>::infinity();
  Tensor out = run_reduce(a, mask, keepdim, kernels::ReduceOp::Sum, scale, 0);
  if (autograd::any_requires_grad({a})) {
    const Shape in_sizes = a.sizes();
    autograd::record("MeanBackward", {a}, {out}, [in_sizes, mask, n](const TensorList& g) {
      return TensorList{unreduce(g[0], in_sizes, mask) / static_cast<double>(n)};
    });
  }
  return out;
}

Tensor mean(const Tensor& a) { return mean(a, Shape{}, false); }

Tensor var(const Tensor& a, const Shape& dims, int64_t correction, bool keepdim) {
  ops::check_defined(a, "var", "input");
  check_floating(a, "var");
  const DimMask mask = reduced_dims(a, dims, "var");
  Tensor out = run_reduce(a, mask, keepdim, kernels::ReduceOp::Var, 1.0, correction);
  if (autograd::any_requires_grad({a})) {
    const Shape in_sizes = a.sizes();
    const int64_t n = reduced_numel(in_sizes, mask);
    const double divisor = static_cast<double>(std::max<int64_t>(0, n - correction));
    autograd::SavedTensor saved(a);
    autograd::record("VarBackward", {a}, {out}, [saved, in_sizes, mask, divisor](const TensorList& g) {
      // d var / dx_i = 2 (x_i - mean) / (n - correction)
      const Tensor x = saved.unpack("var");
      Shape dims;
      for (size_t d = 0; d < mask.size(); ++d)
        if (mask[d]) dims.push_back(static_cast<int64_t>(d));
      const Tensor centered = dims.empty() ? x - x : x - mean(x, dims, /*keepdim=*/true);
      return TensorList{unreduce(g[0], in_sizes, mask) * (centered * (2.0 / divisor))};
    });
  }
  return out;
}

Tensor var(const Tensor& a, int64_t correction) { return var(a, Shape{}, correction, false); }

Tensor max(const Tensor& a) { return extreme_all(a, true, "max"); }
Tensor min(const Tensor& a) { return extreme_all(a, false, "min"); }
std::tuple<Tensor, Tensor> max(const Tensor& a, int64_t dim, bool keepdim) {
  return extreme_dim(a, dim, keepdim, true, "max");
}
std::tuple<Tensor, Tensor> min(const Tensor& a, int64_t dim, bool keepdim) {
  return extreme_dim(a, dim, keepdim, false, "min");
}
Tensor amax(const Tensor& a, const Shape& dims, bool keepdim) { return extreme_along(a, dims, keepdim, true, "amax"); }
Tensor amin(const Tensor& a, const Shape& dims, bool keepdim) {
  return extreme_along(a, dims, keepdim, false, "amin");
}
Tensor argmax(const Tensor& a, std::optional<int64_t> dim, bool keepdim) {
  return arg_extreme(a, dim, keepdim, true, "argmax");
}
Tensor argmin(const Tensor& a, std::optional<int64_t> dim, bool keepdim) {
  return arg_extreme(a, dim, keepdim, false, "argmin");
}

Tensor sum_to(const Tensor& grad, const Shape& sizes) {
  ops::check_defined(grad, "sum_to", "grad");
  if (grad.sizes() == sizes) return grad;
  const int64_t lead = grad.dim() - static_cast<int64_t>(sizes.size());
  STRIATE_CHECK(lead >= 0, ShapeError, "sum_to: cannot sum a tensor of shape ", grad.sizes(), " to the larger shape ",
                sizes);
  Shape dims;
  for (int64_t d = 0; d < lead; ++d) dims.push_back(d);
  for (size_t i = 0; i < sizes.size(); ++i) {
    const int64_t have = grad.size(lead + static_cast<int64_t>(i));
    STRIATE_CHECK(sizes[i] == have || sizes[i] == 1, ShapeError, "sum_to: shape ", grad.sizes(),
                  " is not a broadcast of ", sizes);
    if (sizes[i] == 1 && have != 1) dims.push_back(lead + static_cast<int64_t>(i));
  }
  if (dims.empty()) return grad.reshape(sizes);
  return sum(grad, dims, /*keepdim=*/true, grad.dtype()).reshape(sizes);
}

}  // namespace striate
