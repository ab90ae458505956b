// Copies and conversions: contiguous, clone, to, copy_, fill_, and the
// in-place machinery every op_ shares.
#include "core/memory/device_allocators.h"
#include "core/ops/internal.h"
#include "kernels/copy.h"
#include "striate/core/ops/factory.h"
#include "striate/core/ops/reduce.h"

namespace striate {
namespace ops {

Shape broadcast_strides(const Tensor& t, const Shape& shape, const char* op) {
  const size_t n = shape.size(), k = t.sizes().size();
  STRIATE_CHECK(k <= n, ShapeError, op, ": cannot broadcast shape ", t.sizes(), " to ", shape);
  Shape strides(n, 0);
  for (size_t i = 0; i < k; ++i) {
    const int64_t size = t.sizes()[i], want = shape[n - k + i];
    STRIATE_CHECK(size == want || size == 1, ShapeError, op, ": cannot broadcast shape ", t.sizes(), " to ", shape);
    strides[n - k + i] = size == 1 ? 0 : t.strides()[i];
  }
  return strides;
}

// The storage elements [first, last] a tensor can touch; empty when numel is 0.
static std::pair<int64_t, int64_t> element_span(const Tensor& t) {
  int64_t first = t.storage_offset(), last = t.storage_offset();
  for (int64_t d = 0; d < t.dim(); ++d) {
    const int64_t reach = (t.sizes()[d] - 1) * t.strides()[d];
    (reach < 0 ? first : last) += reach;
  }
  return {first, last};
}

// True when writing dst element by element could overwrite a src element
// that is read later: the two overlap in memory without being the same view.
static bool partially_overlaps(const Tensor& dst, const Tensor& src) {
  if (dst.storage() != src.storage() || dst.numel() == 0 || src.numel() == 0) return false;
  if (dst.storage_offset() == src.storage_offset() && dst.sizes() == src.sizes() && dst.strides() == src.strides() &&
      dst.dtype() == src.dtype())
    return false;
  const size_t de = dst.element_size(), se = src.element_size();
  auto [d0, d1] = element_span(dst);
  auto [s0, s1] = element_span(src);
  // Compare byte ranges: a bit-cast view may have a different element size.
  return static_cast<size_t>(d0) * de < static_cast<size_t>(s1 + 1) * se &&
         static_cast<size_t>(s0) * se < static_cast<size_t>(d1 + 1) * de;
}

// Bytes cross between devices only as one dense buffer of one dtype, laid
// out as the destination wants it; any other striding, broadcasting or
// conversion happens on one side, with that device's copy kernel.
void copy_across_devices(const Tensor& dst, const Tensor& src, bool non_blocking) {
  auto transfer = [](const Tensor& to, const Tensor& from, bool async) {
    kernels::transfer({to.data_ptr(), to.device(), from.data_ptr(), from.device(), from.nbytes(), async});
    // A pinned buffer freed while an asynchronous copy still uses it must
    // not be handed out again before the copy is done.
    if (!async) return;
    const Device gpu = to.is_cuda() ? to.device() : from.device();
    for (const Tensor* host : {&to, &from})
      if (host->is_pinned()) memory::record_pinned_use(host->storage()->data(), gpu.index());
  };
  Tensor from = src.expand(dst.sizes());
  const bool dense = dst.is_contiguous() || dst.is_contiguous(MemoryFormat::ChannelsLast);
  if (!(dense && from.strides() == dst.strides()) && !from.is_contiguous()) {
    Tensor packed = empty(dst.sizes(), TensorOptions().dtype(from.dtype()).device(from.device()));
    copy_raw(packed, from);
    from = packed;
  }
  if (dst.dtype() == from.dtype() && dense && from.strides() == dst.strides()) {
    transfer(dst, from, non_blocking);
    return;
  }
  Tensor staged = empty(dst.sizes(), TensorOptions().dtype(from.dtype()).device(dst.device()));
  transfer(staged, from, /*async=*/false);
  copy_raw(dst, staged);
}

void copy_raw(const Tensor& dst, const Tensor& src) {
  if (dst.device() != src.device()) {
    copy_across_devices(dst, src, /*non_blocking=*/false);
    return;
  }
  if (partially_overlaps(dst, src)) {
    // x[1:].copy_(x[:-1]) must read every source element before it is overwritten.
    Tensor staged = empty(src.sizes(), src.options());
    copy_raw(staged, src);
    copy_raw(dst, staged);
    return;
  }
  kernels::CopyParams p{make_loop<2>({&dst, &src}, dst.sizes(), "copy_"), dst.dtype(), src.dtype()};
  kernels::copy_kernel.get(dst.device())(p);
}

void fill_raw(const Tensor& dst, const Scalar& value) {
  kernels::FillParams p{make_loop<1>({&dst}, dst.sizes(), "fill_"), dst.dtype(), value.to_double(),
                        value.to_long()};
  // 0.5 is true, not truncated to 0.
  if (dst.dtype() == DType::Bool) p.int_value = value.to<bool>();
  kernels::fill_kernel.get(dst.device())(p);
}

Tensor& inplace(Tensor& self, const char* op, const std::function<Tensor(const Tensor&)>& out_of_place,
                const std::function<void()>& direct, const TensorList& others) {
  // Several elements of an expanded tensor share one memory location, so an
  // in-place result there would depend on the order of the writes.
  for (int64_t d = 0; d < self.dim(); ++d)
    STRIATE_CHECK(self.sizes()[d] <= 1 || self.strides()[d] != 0, ValueError, op,
                  ": unsupported operation: more than one element of the written-to tensor (shape ", self.sizes(),
                  ", strides ", self.strides(), ") refers to a single memory location; clone() it first");
  TensorList inputs = others;
  inputs.push_back(self);
  if (!autograd::any_requires_grad(inputs)) {
    direct();
    self.storage()->bump_version();
    return self;
  }
  STRIATE_CHECK(!(self.is_leaf() && self.requires_grad()), AutogradError, op,
                ": a leaf tensor that requires grad is being used in an in-place operation; "
                "wrap the update in NoGradGuard or work on a clone");
  STRIATE_CHECK(!self.unsafe_impl()->is_view, NotImplementedError, op,
                ": in-place operations that autograd must record are not supported on views; "
                "apply the op out of place (e.g. x = x.", op, "(...) without the underscore)");
  Tensor result = out_of_place(self.clone());
  STRIATE_CHECK(result.sizes() == self.sizes(), ShapeError, op, ": output with shape ", self.sizes(),
                " doesn't match the broadcast shape ", result.sizes());
  copy_raw(self, result);
  self.storage()->bump_version();
  auto& meta = self.unsafe_impl()->autograd;
  if (!meta) meta = std::make_unique<autograd::AutogradMeta>();
  const auto& rmeta = result.unsafe_impl()->autograd;
  meta->grad_fn = rmeta ? rmeta->grad_fn : nullptr;  // overwritten by a constant: no history left
  meta->output_nr = rmeta ? rmeta->output_nr : 0;
  meta->requires_grad = false;  // a non-leaf's requires_grad comes from grad_fn
  return self;
}

}  // namespace ops

static Tensor copy_to(const Tensor& src, DType dtype, Device device, MemoryFormat fmt) {
  if (fmt == MemoryFormat::Preserve) fmt = src.suggest_memory_format();
  Tensor out = empty(src.sizes(), TensorOptions().dtype(dtype).device(device), fmt);
  ops::copy_raw(out, src);
  if (autograd::any_requires_grad({src})) {
    const DType in_dtype = src.dtype();
    autograd::record(in_dtype == dtype ? "CloneBackward" : "ToCopyBackward", {src}, {out},
                     [in_dtype](const TensorList& g) { return TensorList{g[0].to(in_dtype)}; });
  }
  return out;
}

Tensor Tensor::contiguous(MemoryFormat fmt) const {
  if (fmt == MemoryFormat::Preserve) fmt = suggest_memory_format();
  if (is_contiguous(fmt)) return *this;
  return copy_to(*this, dtype(), device(), fmt);
}

Tensor Tensor::clone(MemoryFormat fmt) const { return copy_to(*this, dtype(), device(), fmt); }

Tensor Tensor::to(DType t, bool copy) const {
  if (t == dtype() && !copy) return *this;
  return copy_to(*this, t, device(), MemoryFormat::Preserve);
}

Tensor Tensor::to(Device d, bool non_blocking, bool copy) const {
  if (d == device() && !copy) return *this;
  if (d == device()) return copy_to(*this, dtype(), d, MemoryFormat::Preserve);
  // Across devices: the memory format is kept, and non_blocking lets a copy
  // run behind the host, as in PyTorch. A GPU-to-CPU copy can only do that
  // into page-locked memory (into pageable memory CUDA finishes it before
  // returning), so, as in PyTorch, its result is pinned.
  const MemoryFormat fmt = suggest_memory_format();
  const bool pinned = non_blocking && is_cuda() && d.is_cpu();
  Tensor out = empty(sizes(), TensorOptions().dtype(dtype()).device(d).pinned_memory(pinned), fmt);
  ops::copy_across_devices(out, *this, non_blocking);
  if (autograd::any_requires_grad({*this})) {
    const Device from = device();
    autograd::record("ToCopyBackward", {*this}, {out}, [from](const TensorList& g) { return TensorList{g[0].to(from)}; });
  }
  return out;
}

bool Tensor::is_pinned() const { return defined() && storage()->is_pinned(); }

Tensor Tensor::pin_memory() const {
  ops::check_defined(*this, "pin_memory", "self");
  STRIATE_CHECK(is_cpu(), DeviceError, "pin_memory: only CPU tensors can be pinned, got a ", device(), " tensor");
  if (is_pinned()) return *this;
  Tensor out = empty(sizes(), TensorOptions().dtype(dtype()).pinned_memory(true), suggest_memory_format());
  ops::copy_raw(out, *this);
  if (autograd::any_requires_grad({*this}))
    autograd::record("PinMemoryBackward", {*this}, {out}, [](const TensorList& g) { return TensorList{g[0]}; });
  return out;
}

Tensor Tensor::to(const TensorOptions& opts, bool non_blocking, bool copy) const {
  return to(opts.device(), non_blocking, copy).to(opts.dtype(), copy && opts.device() == device());
}

Tensor& Tensor::copy_(const Tensor& src) {
  ops::check_defined(src, "copy_", "src");
  broadcast_shapes(sizes(), src.sizes(), "copy_");
  Tensor source = src;
  return ops::inplace(
      *this, "copy_",
      [&](const Tensor& self_copy) { return source.to(dtype()).expand(self_copy.sizes()).clone(); },
      [&] { ops::copy_raw(*this, source); }, {src});
}

Tensor& Tensor::fill_(const Scalar& value) {
  return ops::inplace(
      *this, "fill_", [&](const Tensor& self_copy) { return full(self_copy.sizes(), value, self_copy.options()); },
      [&] { ops::fill_raw(*this, value); });
}

Tensor& Tensor::zero_() { return fill_(0); }

}  // namespace striate
