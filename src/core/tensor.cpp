// Tensor metadata, host access and autograd accessors.
#include "striate/core/tensor.h"

#include "core/ops/internal.h"
#include "striate/core/autograd.h"
#include "striate/core/ops/factory.h"

namespace striate {

TensorImpl::TensorImpl() = default;
TensorImpl::~TensorImpl() = default;

const TensorImpl& Tensor::impl() const {
  STRIATE_CHECK(impl_ != nullptr, ValueError, "Tensor: the tensor is undefined (default-constructed)");
  return *impl_;
}

int64_t Tensor::dim() const { return static_cast<int64_t>(impl().sizes.size()); }
const Shape& Tensor::sizes() const { return impl().sizes; }
const Shape& Tensor::strides() const { return impl().strides; }
int64_t Tensor::size(int64_t d) const {
  // wrap_dim accepts dim 0 of a 0-dim tensor (for reductions); a size does not exist there.
  STRIATE_CHECK(dim() > 0, IndexError, "size: dimension specified as ", d, " but tensor has no dimensions");
  return sizes()[wrap_dim(d, dim(), "size")];
}
int64_t Tensor::stride(int64_t d) const {
  STRIATE_CHECK(dim() > 0, IndexError, "stride: dimension specified as ", d, " but tensor has no dimensions");
  return strides()[wrap_dim(d, dim(), "stride")];
}
int64_t Tensor::numel() const { return shape_numel(sizes()); }
DType Tensor::dtype() const { return impl().dtype; }
Device Tensor::device() const { return impl().storage->device(); }
int64_t Tensor::storage_offset() const { return impl().storage_offset; }
const std::shared_ptr<Storage>& Tensor::storage() const { return impl().storage; }

TensorOptions Tensor::options() const { return TensorOptions().dtype(dtype()).device(device()); }

void* Tensor::data_ptr() const {
  const auto& i = impl();
  // An empty tensor may have no memory at all, yet a nonzero offset (a slice of it).
  if (i.storage->data() == nullptr) return nullptr;
  return static_cast<char*>(i.storage->data()) + i.storage_offset * static_cast<int64_t>(element_size());
}

template <typename T>
T* Tensor::data_ptr() const {
  STRIATE_CHECK(dtype() == dtype_of_v<T>, DTypeError, "data_ptr: the tensor's dtype is ", dtype(),
                ", not the requested ", dtype_of_v<T>);
  return static_cast<T*>(data_ptr());
}

static bool strides_match(const Shape& sizes, const Shape& strides, const Shape& expected) {
  for (size_t d = 0; d < sizes.size(); ++d)
    if (sizes[d] != 1 && strides[d] != expected[d]) return false;
  return true;
}

bool Tensor::is_contiguous(MemoryFormat fmt) const {
  if (numel() == 0) return true;
  switch (fmt) {
    case MemoryFormat::ChannelsLast:
      return dim() == 4 && strides_match(sizes(), strides(), channels_last_strides(sizes()));
    default:
      return strides_match(sizes(), strides(), contiguous_strides(sizes()));
  }
}

// PyTorch's rule: the strides, read in NHWC order (C, W, H, N), must not
// decrease, each at least the extent of the one before; a dimension of size
// 1 extends nothing. So a tensor that is contiguous both ways (one channel,
// a 1x1 plane) is channels last exactly when its strides were laid out so,
// e.g. by contiguous(ChannelsLast), and keeps that layout through the ops
// that follow it.
MemoryFormat Tensor::suggest_memory_format() const {
  if (dim() != 4) return MemoryFormat::Contiguous;
  const Shape& size = sizes();
  const std::vector<int64_t>& stride = strides();
  if (stride[1] == 0) return MemoryFormat::Contiguous;  // channels broadcast: no layout of their own
  int64_t extent = 0;
  for (int d : {1, 3, 2, 0}) {
    if (size[d] == 0 || stride[d] < extent) return MemoryFormat::Contiguous;
    if (d == 0 && extent == stride[1]) return MemoryFormat::Contiguous;  // N and C tied: NCHW's order
    extent = stride[d] * (size[d] > 1 ? size[d] : 1);
  }
  return MemoryFormat::ChannelsLast;
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  Tensor host = to(Device::cpu()).to(dtype_of_v<T>).contiguous();
  const T* p = host.data_ptr<T>();
  return std::vector<T>(p, p + host.numel());
}

template <typename T>
T Tensor::item() const {
  STRIATE_CHECK(numel() == 1, ValueError, "item: a tensor with ", numel(),
                " elements cannot be converted to a scalar (shape ", sizes(), ")");
  return to_vector<T>()[0];
}

Scalar Tensor::item() const {
  if (is_floating_point()) return Scalar(item<double>());
  if (dtype() == DType::Bool) return Scalar(item<bool>());
  return Scalar(item<int64_t>());
}

#define STRIATE_INSTANTIATE(T)                          \
  template T* Tensor::data_ptr<T>() const;              \
  template std::vector<T> Tensor::to_vector<T>() const; \
  template T Tensor::item<T>() const;
STRIATE_INSTANTIATE(bool)
STRIATE_INSTANTIATE(uint8_t)
STRIATE_INSTANTIATE(int32_t)
STRIATE_INSTANTIATE(int64_t)
STRIATE_INSTANTIATE(Half)
STRIATE_INSTANTIATE(BFloat16)
STRIATE_INSTANTIATE(float)
STRIATE_INSTANTIATE(double)
#undef STRIATE_INSTANTIATE

// ---- autograd accessors --------------------------------------------------

static autograd::AutogradMeta& meta_of(TensorImpl& impl) {
  if (!impl.autograd) impl.autograd = std::make_unique<autograd::AutogradMeta>();
  return *impl.autograd;
}

bool Tensor::requires_grad() const {
  const auto& i = impl();
  return i.autograd && (i.autograd->requires_grad || i.autograd->grad_fn);
}

Tensor& Tensor::requires_grad_(bool on) {
  STRIATE_CHECK(is_leaf() || on, AutogradError,
                "requires_grad_: you can only change requires_grad flags of leaf tensors; use detach() "
                "to get a tensor that does not require grad");
  STRIATE_CHECK(!on || is_floating_point(), DTypeError,
                "requires_grad_: only floating-point tensors can require gradients, got ", dtype());
  meta_of(*impl_).requires_grad = on;
  return *this;
}

const Tensor& Tensor::grad() const {
  static const Tensor undefined;
  const auto& i = impl();
  return i.autograd ? i.autograd->grad : undefined;
}

Tensor& Tensor::mutable_grad() {
  impl();
  return meta_of(*impl_).grad;
}

bool Tensor::is_leaf() const {
  const auto& i = impl();
  return !i.autograd || !i.autograd->grad_fn;
}

const std::shared_ptr<autograd::Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<autograd::Node> none;
  const auto& i = impl();
  return i.autograd ? i.autograd->grad_fn : none;
}

void Tensor::retain_grad() {
  STRIATE_CHECK(requires_grad(), AutogradError,
                "retain_grad: can't retain_grad on a tensor that does not require grad");
  if (is_leaf()) return;  // leaves keep their gradient anyway
  auto& m = meta_of(*impl_);
  m.retains_grad = true;
  auto& retained = m.grad_fn->retained;
  if (retained.size() <= m.output_nr) retained.resize(m.output_nr + 1);
  retained[m.output_nr] = impl_;
}

bool Tensor::retains_grad() const {
  const auto& i = impl();
  return i.autograd && i.autograd->retains_grad;
}

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  STRIATE_CHECK(requires_grad(), AutogradError,
                "backward: the tensor does not require grad and has no grad_fn");
  Tensor seed = gradient;
  if (!seed.defined()) {
    STRIATE_CHECK(numel() == 1, AutogradError,
                  "backward: grad can be implicitly created only for one-element outputs; this one has shape ",
                  sizes(), ", so pass a gradient of that shape");
    seed = ones_like(*this);
  }
  autograd::run_backward({*this}, {seed}, retain_graph);
}

Tensor Tensor::detach() const {
  return ops::make_alias(*this, sizes(), strides(), storage_offset(), /*is_view=*/false);
}

Tensor& Tensor::detach_() {
  STRIATE_CHECK(!impl().is_view || !requires_grad(), AutogradError,
                "detach_: can't detach a view in place; use detach()");
  impl_->autograd.reset();
  return *this;
}

}  // namespace striate
