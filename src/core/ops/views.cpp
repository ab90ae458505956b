// View ops: new sizes/strides/offset over the same storage, each recorded
// with the backward that maps the view's gradient back to its base.
#include <algorithm>
#include <numeric>

#include "core/ops/internal.h"
#include "striate/core/ops/factory.h"
#include "striate/core/ops/reduce.h"
#include "striate/core/ops/shape_ops.h"

namespace striate {
namespace ops {

Tensor make_alias(const Tensor& base, const Shape& sizes, const Shape& strides, int64_t offset,
                  bool is_view) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->storage_offset = offset;
  impl->sizes = sizes;
  impl->strides = strides;
  impl->dtype = base.dtype();
  impl->is_view = is_view;
  return Tensor(std::move(impl));
}

Tensor make_view(const Tensor& base, const Shape& sizes, const Shape& strides, int64_t offset,
                 const char* name, std::function<Tensor(const Tensor& grad)> backward) {
  Tensor out = make_alias(base, sizes, strides, offset, /*is_view=*/true);
  if (autograd::any_requires_grad({base}))
    autograd::record(name, {base}, {out}, [backward = std::move(backward)](const TensorList& g) {
      return TensorList{backward(g[0])};
    });
  return out;
}

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  STRIATE_CHECK(a.device() == b.device(), DeviceError, op,
                ": expected all tensors on the same device, got ", a.device(), " and ", b.device());
}

void check_defined(const Tensor& t, const char* op, const char* arg) {
  STRIATE_CHECK(t.defined(), ValueError, op, ": argument '", arg, "' is an undefined tensor");
}

// The strides a tensor of `sizes` would have when viewing `t` as `new_sizes`
// without copying, or nothing when its strides do not allow it. The idea
// (as PyTorch's computeStride): split both shapes into chunks of equal
// element count; within a chunk of `t` the dims must be contiguous with one
// another, and the new dims of the chunk get strides inside that chunk.
static std::optional<Shape> view_strides(const Shape& old_sizes, const Shape& old_strides,
                                         const Shape& new_sizes) {
  Shape new_strides(new_sizes.size());
  if (old_sizes.empty()) {
    std::fill(new_strides.begin(), new_strides.end(), 1);
    return new_strides;
  }
  if (shape_numel(old_sizes) == 0) return contiguous_strides(new_sizes);
  int64_t view_d = static_cast<int64_t>(new_sizes.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(old_sizes.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_sizes[d];
    const bool chunk_ends = d == 0 || (old_sizes[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base_stride);
    if (chunk_ends) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_sizes[view_d] == 1)) {
        new_strides[view_d] = view_numel * chunk_base_stride;
        view_numel *= new_sizes[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = old_strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return new_strides;
}

// Resolves one -1 in `shape` against `numel`, checking the product.
static Shape infer_size(const Shape& shape, int64_t numel, const char* op) {
  Shape out = shape;
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      STRIATE_CHECK(infer < 0, ShapeError, op, ": only one dimension can be inferred, got ", shape);
      infer = static_cast<int>(i);
    } else {
      STRIATE_CHECK(out[i] >= 0, ShapeError, op, ": invalid shape dimension ", out[i], " in ", shape);
      known *= out[i];
    }
  }
  if (infer >= 0) {
    STRIATE_CHECK(known != 0 && numel % known == 0, ShapeError, op, ": shape ", shape,
                  " is invalid for input of size ", numel);
    out[infer] = numel / known;
  }
  STRIATE_CHECK(shape_numel(out) == numel, ShapeError, op, ": shape ", shape, " is invalid for input of size ",
                numel);
  return out;
}

}  // namespace ops

using ops::make_view;

Tensor Tensor::view(const Shape& shape) const {
  Shape sizes = ops::infer_size(shape, numel(), "view");
  auto strides = ops::view_strides(this->sizes(), this->strides(), sizes);
  STRIATE_CHECK(strides.has_value(), ShapeError, "view: size ", shape, " is not compatible with input of size ",
                this->sizes(), " and strides ", this->strides(),
                " (at least one dimension spans across two contiguous subspaces); use reshape() instead");
  Shape in = this->sizes();
  return make_view(*this, sizes, *strides, storage_offset(), "ViewBackward",
                   [in](const Tensor& g) { return g.reshape(in); });
}

Tensor Tensor::reshape(const Shape& shape) const {
  Shape sizes = ops::infer_size(shape, numel(), "reshape");
  if (ops::view_strides(this->sizes(), this->strides(), sizes)) return view(sizes);
  return contiguous().view(sizes);
}

Tensor Tensor::permute(const Shape& dims) const {
  const int64_t n = dim();
  STRIATE_CHECK(static_cast<int64_t>(dims.size()) == n, ShapeError, "permute: expected ", n,
                " dims for a tensor of shape ", sizes(), ", got ", dims);
  Shape sizes(n), strides(n), inverse(n);
  std::vector<bool> seen(n, false);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t d = wrap_dim(dims[i], n, "permute");
    STRIATE_CHECK(!seen[d], ShapeError, "permute: repeated dim ", d, " in ", dims);
    seen[d] = true;
    sizes[i] = this->sizes()[d];
    strides[i] = this->strides()[d];
    inverse[d] = i;
  }
  return make_view(*this, sizes, strides, storage_offset(), "PermuteBackward",
                   [inverse](const Tensor& g) { return g.permute(inverse); });
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  const int64_t n = dim();
  const int64_t a = wrap_dim(dim0, n, "transpose"), b = wrap_dim(dim1, n, "transpose");
  if (n == 0) return view({});
  Shape dims(n);
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[a], dims[b]);
  return permute(dims);
}

Tensor Tensor::t() const {
  STRIATE_CHECK(dim() <= 2, ShapeError, "t: expects a tensor with <= 2 dimensions, but self is ", dim(), "-D");
  return dim() < 2 ? view(sizes()) : transpose(0, 1);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  STRIATE_CHECK(dim() > 0, ShapeError, "slice: cannot slice a 0-dim tensor");
  d = wrap_dim(d, dim(), "slice");
  STRIATE_CHECK(step > 0, ValueError, "slice: step must be positive, got ", step);
  const int64_t len = sizes()[d];
  if (start < 0) start += len;
  if (end < 0) end += len;
  start = std::clamp<int64_t>(start, 0, len);
  end = std::clamp<int64_t>(end, start, len);
  Shape sizes = this->sizes(), strides = this->strides();
  sizes[d] = (end - start + step - 1) / step;
  strides[d] *= step;
  const int64_t offset = storage_offset() + start * this->strides()[d];
  Shape in = this->sizes();
  return make_view(*this, sizes, strides, offset, "SliceBackward", [in, d, start, end, step](const Tensor& g) {
    Tensor full = zeros(in, g.options());
    ops::copy_raw(full.slice(d, start, end, step), g);
    return full;
  });
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  STRIATE_CHECK(dim() > 0, ShapeError, "narrow: cannot narrow a 0-dim tensor");
  d = wrap_dim(d, dim(), "narrow");
  const int64_t len = sizes()[d];
  if (start < 0 && start >= -len) start += len;
  STRIATE_CHECK(start >= 0 && start <= len, IndexError, "narrow: start (", start, ") is out of range for dim ", d,
                " of size ", len);
  STRIATE_CHECK(length >= 0 && start + length <= len, IndexError, "narrow: start (", start, ") + length (",
                length, ") exceeds dimension size (", len, ")");
  return slice(d, start, start + length);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  STRIATE_CHECK(dim() > 0, IndexError, "select: cannot select from a 0-dim tensor");
  d = wrap_dim(d, dim(), "select");
  const int64_t len = sizes()[d];
  STRIATE_CHECK(index >= -len && index < len, IndexError, "select: index ", index,
                " is out of bounds for dimension ", d, " with size ", len);
  if (index < 0) index += len;
  Shape sizes = this->sizes(), strides = this->strides();
  sizes.erase(sizes.begin() + d);
  strides.erase(strides.begin() + d);
  const int64_t offset = storage_offset() + index * this->strides()[d];
  Shape in = this->sizes();
  return make_view(*this, sizes, strides, offset, "SelectBackward", [in, d, index](const Tensor& g) {
    Tensor full = zeros(in, g.options());
    ops::copy_raw(full.select(d, index), g);
    return full;
  });
}

Tensor Tensor::squeeze() const {
  Shape sizes, strides;
  for (int64_t i = 0; i < dim(); ++i)
    if (this->sizes()[i] != 1) {
      sizes.push_back(this->sizes()[i]);
      strides.push_back(this->strides()[i]);
    }
  Shape in = this->sizes();
  return make_view(*this, sizes, strides, storage_offset(), "SqueezeBackward",
                   [in](const Tensor& g) { return g.reshape(in); });
}

Tensor Tensor::squeeze(int64_t d) const {
  d = wrap_dim(d, dim(), "squeeze");
  if (dim() == 0) return view({});
  if (sizes()[d] != 1) return view(sizes());
  Shape sizes = this->sizes(), strides = this->strides();
  sizes.erase(sizes.begin() + d);
  strides.erase(strides.begin() + d);
  Shape in = this->sizes();
  return make_view(*this, sizes, strides, storage_offset(), "SqueezeBackward",
                   [in](const Tensor& g) { return g.reshape(in); });
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = wrap_dim(d, dim() + 1, "unsqueeze");
  Shape sizes = this->sizes(), strides = this->strides();
  const int64_t stride = d < dim() ? this->sizes()[d] * this->strides()[d] : 1;
  sizes.insert(sizes.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  Shape in = this->sizes();
  return make_view(*this, sizes, strides, storage_offset(), "UnsqueezeBackward",
                   [in](const Tensor& g) { return g.reshape(in); });
}

Tensor Tensor::expand(const Shape& target) const {
  const int64_t n = static_cast<int64_t>(target.size());
  STRIATE_CHECK(n >= dim(), ShapeError, "expand: the number of sizes provided (", n,
                ") must be greater or equal to the number of dimensions in the tensor (", dim(), ")");
  Shape sizes(n), strides(n);
  for (int64_t i = n - 1; i >= 0; --i) {
    const int64_t j = i - (n - dim());  // matching dim of self, or < 0 for new leading dims
    if (j >= 0) {
      const int64_t have = this->sizes()[j];
      const int64_t want = target[i] == -1 ? have : target[i];
      STRIATE_CHECK(want >= 0, ShapeError, "expand: invalid size ", target[i], " at dimension ", i, " of ", target);
      STRIATE_CHECK(have == want || have == 1, ShapeError, "expand: the expanded size of the tensor (", want,
                    ") must match the existing size (", have, ") at non-singleton dimension ", i,
                    ". Target sizes: ", target, ". Tensor sizes: ", this->sizes());
      sizes[i] = want;
      strides[i] = have == want ? this->strides()[j] : 0;
    } else {
      STRIATE_CHECK(target[i] >= 0, ShapeError, "expand: -1 is not allowed in a leading, non-existing dimension (",
                    i, ") of ", target);
      sizes[i] = target[i];
      strides[i] = 0;
    }
  }
  Shape in = this->sizes();
  return make_view(*this, sizes, strides, storage_offset(), "ExpandBackward",
                   [in](const Tensor& g) { return sum_to(g, in); });
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  const int64_t s = wrap_dim(start_dim, dim(), "flatten"), e = wrap_dim(end_dim, dim(), "flatten");
  if (dim() == 0) return reshape({1});
  STRIATE_CHECK(s <= e, ValueError, "flatten: start_dim (", start_dim, ") cannot come after end_dim (", end_dim, ")");
  Shape sizes(this->sizes().begin(), this->sizes().begin() + s);
  int64_t merged = 1;
  for (int64_t i = s; i <= e; ++i) merged *= this->sizes()[i];
  sizes.push_back(merged);
  sizes.insert(sizes.end(), this->sizes().begin() + e + 1, this->sizes().end());
  return reshape(sizes);
}

Tensor Tensor::as_strided(const Shape& sizes, const Shape& strides, std::optional<int64_t> offset) const {
  STRIATE_CHECK(sizes.size() == strides.size(), ShapeError, "as_strided: sizes ", sizes, " and strides ", strides,
                " differ in length");
  const int64_t off = offset.value_or(storage_offset());
  int64_t last = off;
  for (size_t i = 0; i < sizes.size(); ++i) {
    STRIATE_CHECK(sizes[i] >= 0 && strides[i] >= 0, ShapeError, "as_strided: negative size or stride in ", sizes,
                  " / ", strides);
    if (sizes[i] == 0) last = -1;
    if (last >= 0) last += (sizes[i] - 1) * strides[i];
  }
  const int64_t capacity = static_cast<int64_t>(storage()->nbytes() / element_size());
  STRIATE_CHECK(off >= 0 && last < capacity, IndexError, "as_strided: the view (sizes ", sizes, ", strides ",
                strides, ", offset ", off, ") reaches element ", last, " of a storage holding ", capacity);
  if (requires_grad()) {
    // The backward maps storage positions to elements of self, which needs
    // self to be contiguous and the view to stay inside self's elements.
    STRIATE_CHECK(is_contiguous(), NotImplementedError,
                  "as_strided: backward is implemented for contiguous inputs only, got strides ", this->strides());
    STRIATE_CHECK(last < 0 || (off >= storage_offset() && last < storage_offset() + numel()), NotImplementedError,
                  "as_strided: backward needs the view (offset ", off, ", last element ", last,
                  ") to stay within the input's elements [", storage_offset(), ", ", storage_offset() + numel(), ")");
  }
  const Shape self_sizes = this->sizes();
  const int64_t self_offset = storage_offset(), self_numel = numel();
  return make_view(*this, sizes, strides, off, "AsStridedBackward",
                   [self_sizes, self_offset, self_numel, sizes, strides, off](const Tensor& g) {
    // Scatter-add the view's gradient onto the (contiguous) input's elements;
    // overlapping views add up.
    Tensor gc = g.contiguous().to(kDouble);
    Tensor acc = zeros({self_numel}, TensorOptions(kDouble));
    const double* src = gc.data_ptr<double>();
    double* dst = acc.data_ptr<double>();
    Shape idx(sizes.size(), 0);
    for (int64_t i = 0; i < g.numel(); ++i) {
      int64_t pos = off - self_offset;
      for (size_t d = 0; d < sizes.size(); ++d) pos += idx[d] * strides[d];
      dst[pos] += src[i];
      for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
        if (++idx[d] < sizes[d]) break;
        idx[d] = 0;
      }
    }
    return acc.to(g.dtype()).view(self_sizes);
  });
}

std::vector<Tensor> Tensor::split(int64_t split_size, int64_t d) const {
  STRIATE_CHECK(dim() > 0, ShapeError, "split: cannot split a 0-dim tensor");
  d = wrap_dim(d, dim(), "split");
  STRIATE_CHECK(split_size > 0 || sizes()[d] == 0, ValueError, "split: split_size must be positive, got ",
                split_size);
  std::vector<Tensor> parts;
  for (int64_t start = 0; start < sizes()[d]; start += split_size)
    parts.push_back(narrow(d, start, std::min(split_size, sizes()[d] - start)));
  if (parts.empty()) parts.push_back(*this);
  return parts;
}

std::vector<Tensor> Tensor::chunk(int64_t chunks, int64_t d) const {
  STRIATE_CHECK(chunks > 0, ValueError, "chunk: number of chunks must be positive, got ", chunks);
  STRIATE_CHECK(dim() > 0, ShapeError, "chunk: cannot chunk a 0-dim tensor");
  const int64_t len = sizes()[wrap_dim(d, dim(), "chunk")];
  return split(std::max<int64_t>((len + chunks - 1) / chunks, 1), d);
}

// ---- free-function forms ---------------------------------------------------

Tensor reshape(const Tensor& a, const Shape& shape) { return a.reshape(shape); }
Tensor permute(const Tensor& a, const Shape& dims) { return a.permute(dims); }
Tensor transpose(const Tensor& a, int64_t d0, int64_t d1) { return a.transpose(d0, d1); }
Tensor narrow(const Tensor& a, int64_t d, int64_t start, int64_t length) { return a.narrow(d, start, length); }
Tensor squeeze(const Tensor& a) { return a.squeeze(); }
Tensor squeeze(const Tensor& a, int64_t d) { return a.squeeze(d); }
Tensor unsqueeze(const Tensor& a, int64_t d) { return a.unsqueeze(d); }
Tensor flatten(const Tensor& a, int64_t s, int64_t e) { return a.flatten(s, e); }
Tensor expand(const Tensor& a, const Shape& sizes) { return a.expand(sizes); }
Tensor contiguous(const Tensor& a, MemoryFormat fmt) { return a.contiguous(fmt); }

std::vector<Tensor> broadcast_tensors(const std::vector<Tensor>& tensors) {
  Shape shape;
  for (const auto& t : tensors) shape = broadcast_shapes(shape, t.sizes(), "broadcast_tensors");
  std::vector<Tensor> out;
  out.reserve(tensors.size());
  for (const auto& t : tensors) out.push_back(t.expand(shape));
  return out;
}

}  // namespace striate
