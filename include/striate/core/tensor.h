// Tensor: a strided view of a Storage, with an optional autograd history.
//
// Tensor is a cheap handle (a shared_ptr); copying it aliases the same data,
// as in LibTorch. The free functions in ops/ are the operators; the methods
// here forward to them so that both `x.exp()` and `exp(x)` read naturally.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "striate/core/device.h"
#include "striate/core/dtype.h"
#include "striate/core/scalar.h"
#include "striate/core/shape.h"
#include "striate/core/storage.h"
#include "striate/core/tensor_options.h"

namespace striate {

namespace autograd {
class Node;
struct AutogradMeta;
}  // namespace autograd

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t storage_offset = 0;  // in elements
  Shape sizes;
  Shape strides;  // in elements
  DType dtype = kFloat;
  // Set for tensors created by a view op: in-place writes through a view must
  // not silently bypass the base's autograd history.
  bool is_view = false;
  std::unique_ptr<autograd::AutogradMeta> autograd;  // null until needed

  TensorImpl();
  ~TensorImpl();
};

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() is false
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- metadata --------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  int64_t dim() const;
  int64_t ndimension() const { return dim(); }
  const Shape& sizes() const;
  const Shape& shape() const { return sizes(); }
  int64_t size(int64_t dim) const;  // negative dims count from the end
  const Shape& strides() const;
  int64_t stride(int64_t dim) const;
  int64_t numel() const;
  DType dtype() const;
  DType scalar_type() const { return dtype(); }
  Device device() const;
  TensorOptions options() const;
  int64_t storage_offset() const;
  size_t element_size() const { return striate::element_size(dtype()); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * element_size(); }
  bool is_cuda() const { return device().is_cuda(); }
  bool is_cpu() const { return device().is_cpu(); }
  bool is_floating_point() const { return striate::is_floating_point(dtype()); }
  bool is_contiguous(MemoryFormat fmt = MemoryFormat::Contiguous) const;
  // ChannelsLast for 4-D tensors whose strides are NHWC-like (as PyTorch
  // decides it, also where both layouts are contiguous), Contiguous otherwise.
  MemoryFormat suggest_memory_format() const;
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
  const std::shared_ptr<Storage>& storage() const;
  TensorImpl* unsafe_impl() const { return impl_.get(); }

  // Pointer to the first element; T must match dtype().
  template <typename T> T* data_ptr() const;
  void* data_ptr() const;

  // ---- host values (synchronize with the device) -------------------------
  template <typename T> T item() const;          // one-element tensors, converted to T
  Scalar item() const;
  template <typename T> std::vector<T> to_vector() const;  // every element, converted to T

  // ---- conversion and copies -------------------------------------------
  Tensor to(DType t, bool copy = false) const;
  Tensor to(Device d, bool non_blocking = false, bool copy = false) const;
  Tensor to(const TensorOptions& opts, bool non_blocking = false, bool copy = false) const;
  Tensor cpu() const { return to(Device::cpu()); }
  Tensor cuda(int index = 0) const { return to(Device::cuda(index)); }
  // A copy in page-locked host memory (itself when already pinned), which
  // to(cuda, /*non_blocking=*/true) copies without blocking the host. Needs a GPU.
  Tensor pin_memory() const;
  bool is_pinned() const;
  Tensor contiguous(MemoryFormat fmt = MemoryFormat::Contiguous) const;
  Tensor clone(MemoryFormat fmt = MemoryFormat::Preserve) const;
  Tensor& copy_(const Tensor& src);   // broadcasting, converting copy
  Tensor& fill_(const Scalar& value);
  Tensor& zero_();

  // ---- views (share storage) -------------------------------------------
  Tensor view(const Shape& shape) const;       // one dim may be -1
  Tensor reshape(const Shape& shape) const;    // a view when strides allow, else a copy
  Tensor view_as(const Tensor& other) const { return view(other.sizes()); }
  Tensor reshape_as(const Tensor& other) const { return reshape(other.sizes()); }
  Tensor permute(const Shape& dims) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;  // transpose of a tensor of at most 2 dims
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  // Python's x[start:end:step] along dim; end is clamped, negatives wrap.
  Tensor slice(int64_t dim, int64_t start = 0, int64_t end = INT64_MAX, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor operator[](int64_t index) const { return select(0, index); }
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor expand(const Shape& sizes) const;  // -1 keeps a size
  Tensor expand_as(const Tensor& other) const { return expand(other.sizes()); }
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor as_strided(const Shape& sizes, const Shape& strides, std::optional<int64_t> offset = {}) const;
  std::vector<Tensor> split(int64_t split_size, int64_t dim = 0) const;
  std::vector<Tensor> chunk(int64_t chunks, int64_t dim = 0) const;

  // ---- elementwise (see ops/elementwise.h) ------------------------------
  Tensor add(const Tensor& other, const Scalar& alpha = 1) const;
  Tensor add(const Scalar& other, const Scalar& alpha = 1) const;
  Tensor sub(const Tensor& other, const Scalar& alpha = 1) const;
  Tensor sub(const Scalar& other, const Scalar& alpha = 1) const;
  Tensor mul(const Tensor& other) const;
  Tensor mul(const Scalar& other) const;
  Tensor div(const Tensor& other) const;
  Tensor div(const Scalar& other) const;
  Tensor pow(const Tensor& exponent) const;
  Tensor pow(const Scalar& exponent) const;
  Tensor neg() const;
  Tensor abs() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor clamp(std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt) const;
  Tensor eq(const Tensor& o) const;
  Tensor ne(const Tensor& o) const;
  Tensor lt(const Tensor& o) const;
  Tensor le(const Tensor& o) const;
  Tensor gt(const Tensor& o) const;
  Tensor ge(const Tensor& o) const;
  Tensor eq(const Scalar& o) const;
  Tensor ne(const Scalar& o) const;
  Tensor lt(const Scalar& o) const;
  Tensor le(const Scalar& o) const;
  Tensor gt(const Scalar& o) const;
  Tensor ge(const Scalar& o) const;

  Tensor& add_(const Tensor& other, const Scalar& alpha = 1);
  Tensor& add_(const Scalar& other, const Scalar& alpha = 1);
  Tensor& sub_(const Tensor& other, const Scalar& alpha = 1);
  Tensor& sub_(const Scalar& other, const Scalar& alpha = 1);
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(const Scalar& other);
  Tensor& div_(const Tensor& other);
  Tensor& div_(const Scalar& other);
  Tensor& pow_(const Scalar& exponent);
  Tensor& neg_();
  Tensor& abs_();
  Tensor& exp_();
  Tensor& log_();
  Tensor& sqrt_();
  Tensor& clamp_(std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt);

  // ---- reductions (see ops/reduce.h) -------------------------------------
  Tensor sum(std::optional<DType> dtype = std::nullopt) const;
  Tensor sum(const Shape& dims, bool keepdim = false, std::optional<DType> dtype = std::nullopt) const;
  Tensor mean() const;
  Tensor mean(const Shape& dims, bool keepdim = false) const;
  Tensor max() const;
  Tensor min() const;
  std::tuple<Tensor, Tensor> max(int64_t dim, bool keepdim = false) const;
  std::tuple<Tensor, Tensor> min(int64_t dim, bool keepdim = false) const;
  Tensor argmax(std::optional<int64_t> dim = std::nullopt, bool keepdim = false) const;
  Tensor argmin(std::optional<int64_t> dim = std::nullopt, bool keepdim = false) const;
  Tensor var(int64_t correction = 1) const;
  Tensor var(const Shape& dims, int64_t correction = 1, bool keepdim = false) const;

  // ---- linear algebra (see ops/linalg.h) --------------------------------
  Tensor matmul(const Tensor& other) const;
  Tensor mm(const Tensor& other) const;
  Tensor bmm(const Tensor& other) const;

  // ---- autograd --------------------------------------------------------
  bool requires_grad() const;
  Tensor& requires_grad_(bool on = true);  // leaves only
  Tensor& set_requires_grad(bool on) { return requires_grad_(on); }
  // The accumulated gradient of a leaf (or of a tensor after retain_grad()).
  const Tensor& grad() const;
  Tensor& mutable_grad();
  bool is_leaf() const;
  const std::shared_ptr<autograd::Node>& grad_fn() const;
  void retain_grad();
  bool retains_grad() const;
  // Runs backprop from this tensor. `gradient` may be omitted only for a
  // one-element tensor; the graph is freed unless retain_graph.
  void backward(const Tensor& gradient = {}, bool retain_graph = false) const;
  Tensor detach() const;  // shares storage, no history
  Tensor& detach_();
  uint32_t _version() const { return storage()->version(); }
  // Makes this tensor use `data`'s storage, geometry and dtype, keeping its
  // identity and autograd flags: how Module::to() converts parameters that
  // layers and optimizers already hold.
  void set_data(const Tensor& data);

  std::string toString() const;  // as PyTorch prints it

 private:
  std::shared_ptr<TensorImpl> impl_;
  const TensorImpl& impl() const;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// Operators on tensors and scalars, as in LibTorch.
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, const Scalar& b);
Tensor operator-(const Tensor& a, const Scalar& b);
Tensor operator*(const Tensor& a, const Scalar& b);
Tensor operator/(const Tensor& a, const Scalar& b);
Tensor operator+(const Scalar& a, const Tensor& b);
Tensor operator-(const Scalar& a, const Tensor& b);
Tensor operator*(const Scalar& a, const Tensor& b);
Tensor operator/(const Scalar& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, const Scalar& b);
Tensor operator!=(const Tensor& a, const Scalar& b);
Tensor operator<(const Tensor& a, const Scalar& b);
Tensor operator<=(const Tensor& a, const Scalar& b);
Tensor operator>(const Tensor& a, const Scalar& b);
Tensor operator>=(const Tensor& a, const Scalar& b);
Tensor& operator+=(Tensor& a, const Tensor& b);
Tensor& operator-=(Tensor& a, const Tensor& b);
Tensor& operator*=(Tensor& a, const Tensor& b);
Tensor& operator/=(Tensor& a, const Tensor& b);
Tensor& operator+=(Tensor& a, const Scalar& b);
Tensor& operator-=(Tensor& a, const Scalar& b);
Tensor& operator*=(Tensor& a, const Scalar& b);
Tensor& operator/=(Tensor& a, const Scalar& b);

}  // namespace striate
