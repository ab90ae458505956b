// Tensor's operator methods: each forwards to the free function of the same
// name in ops/, so that the op has one implementation.
#include "striate/core/ops/elementwise.h"
#include "striate/core/ops/linalg.h"
#include "striate/core/ops/reduce.h"
#include "striate/core/tensor.h"

namespace striate {

Tensor Tensor::add(const Tensor& o, const Scalar& alpha) const { return striate::add(*this, o, alpha); }
Tensor Tensor::add(const Scalar& o, const Scalar& alpha) const { return striate::add(*this, o, alpha); }
Tensor Tensor::sub(const Tensor& o, const Scalar& alpha) const { return striate::sub(*this, o, alpha); }
Tensor Tensor::sub(const Scalar& o, const Scalar& alpha) const { return striate::sub(*this, o, alpha); }
Tensor Tensor::mul(const Tensor& o) const { return striate::mul(*this, o); }
Tensor Tensor::mul(const Scalar& o) const { return striate::mul(*this, o); }
Tensor Tensor::div(const Tensor& o) const { return striate::div(*this, o); }
Tensor Tensor::div(const Scalar& o) const { return striate::div(*this, o); }
Tensor Tensor::pow(const Tensor& e) const { return striate::pow(*this, e); }
Tensor Tensor::pow(const Scalar& e) const { return striate::pow(*this, e); }
Tensor Tensor::neg() const { return striate::neg(*this); }
Tensor Tensor::abs() const { return striate::abs(*this); }
Tensor Tensor::exp() const { return striate::exp(*this); }
Tensor Tensor::log() const { return striate::log(*this); }
Tensor Tensor::sqrt() const { return striate::sqrt(*this); }
Tensor Tensor::clamp(std::optional<Scalar> lo, std::optional<Scalar> hi) const {
  return striate::clamp(*this, lo, hi);
}
Tensor Tensor::eq(const Tensor& o) const { return striate::eq(*this, o); }
Tensor Tensor::ne(const Tensor& o) const { return striate::ne(*this, o); }
Tensor Tensor::lt(const Tensor& o) const { return striate::lt(*this, o); }
Tensor Tensor::le(const Tensor& o) const { return striate::le(*this, o); }
Tensor Tensor::gt(const Tensor& o) const { return striate::gt(*this, o); }
Tensor Tensor::ge(const Tensor& o) const { return striate::ge(*this, o); }
Tensor Tensor::eq(const Scalar& o) const { return striate::eq(*this, o); }
Tensor Tensor::ne(const Scalar& o) const { return striate::ne(*this, o); }
Tensor Tensor::lt(const Scalar& o) const { return striate::lt(*this, o); }
Tensor Tensor::le(const Scalar& o) const { return striate::le(*this, o); }
Tensor Tensor::gt(const Scalar& o) const { return striate::gt(*this, o); }
Tensor Tensor::ge(const Scalar& o) const { return striate::ge(*this, o); }

Tensor Tensor::sum(std::optional<DType> t) const { return striate::sum(*this, t); }
Tensor Tensor::sum(const Shape& dims, bool keepdim, std::optional<DType> t) const {
  return striate::sum(*this, dims, keepdim, t);
}
Tensor Tensor::mean() const { return striate::mean(*this); }
Tensor Tensor::mean(const Shape& dims, bool keepdim) const { return striate::mean(*this, dims, keepdim); }
Tensor Tensor::max() const { return striate::max(*this); }
Tensor Tensor::min() const { return striate::min(*this); }
std::tuple<Tensor, Tensor> Tensor::max(int64_t d, bool keepdim) const { return striate::max(*this, d, keepdim); }
std::tuple<Tensor, Tensor> Tensor::min(int64_t d, bool keepdim) const { return striate::min(*this, d, keepdim); }
Tensor Tensor::argmax(std::optional<int64_t> d, bool keepdim) const { return striate::argmax(*this, d, keepdim); }
Tensor Tensor::argmin(std::optional<int64_t> d, bool keepdim) const { return striate::argmin(*this, d, keepdim); }
Tensor Tensor::var(int64_t correction) const { return striate::var(*this, correction); }
Tensor Tensor::var(const Shape& dims, int64_t correction, bool keepdim) const {
  return striate::var(*this, dims, correction, keepdim);
}

void Tensor::set_data(const Tensor& data) {
  STRIATE_CHECK(data.defined(), ValueError, "set_data: the new data is undefined");
  TensorImpl& self = *unsafe_impl();
  const TensorImpl& src = *data.unsafe_impl();
  self.storage = src.storage;
  self.storage_offset = src.storage_offset;
  self.sizes = src.sizes;
  self.strides = src.strides;
  self.dtype = src.dtype;
}

Tensor Tensor::matmul(const Tensor& o) const { return striate::matmul(*this, o); }
Tensor Tensor::mm(const Tensor& o) const { return striate::mm(*this, o); }
Tensor Tensor::bmm(const Tensor& o) const { return striate::bmm(*this, o); }

}  // namespace striate
