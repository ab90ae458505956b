// STUB: replaced by the elementwise implementation.
#include "striate/core/ops/elementwise.h"
#include "core/ops/internal.h"
namespace striate {
#define TODO throw NotImplementedError("elementwise: not implemented yet")
DType result_type(const Tensor&, const Tensor&) { TODO; }
DType result_type(const Tensor&, const Scalar&) { TODO; }
Tensor add(const Tensor&, const Tensor&, const Scalar&) { TODO; }
Tensor add(const Tensor&, const Scalar&, const Scalar&) { TODO; }
Tensor sub(const Tensor&, const Tensor&, const Scalar&) { TODO; }
Tensor sub(const Tensor&, const Scalar&, const Scalar&) { TODO; }
Tensor rsub(const Tensor&, const Scalar&) { TODO; }
Tensor mul(const Tensor&, const Tensor&) { TODO; }
Tensor mul(const Tensor&, const Scalar&) { TODO; }
Tensor div(const Tensor&, const Tensor&) { TODO; }
Tensor div(const Tensor&, const Scalar&) { TODO; }
Tensor div(const Scalar&, const Tensor&) { TODO; }
Tensor pow(const Tensor&, const Tensor&) { TODO; }
Tensor pow(const Tensor&, const Scalar&) { TODO; }
Tensor pow(const Scalar&, const Tensor&) { TODO; }
Tensor maximum(const Tensor&, const Tensor&) { TODO; }
Tensor minimum(const Tensor&, const Tensor&) { TODO; }
Tensor neg(const Tensor&) { TODO; }
Tensor abs(const Tensor&) { TODO; }
Tensor exp(const Tensor&) { TODO; }
Tensor log(const Tensor&) { TODO; }
Tensor sqrt(const Tensor&) { TODO; }
Tensor sign(const Tensor&) { TODO; }
Tensor clamp(const Tensor&, std::optional<Scalar>, std::optional<Scalar>) { TODO; }
Tensor clamp_min(const Tensor&, const Scalar&) { TODO; }
Tensor clamp_max(const Tensor&, const Scalar&) { TODO; }
Tensor where(const Tensor&, const Tensor&, const Tensor&) { TODO; }
Tensor where(const Tensor&, const Tensor&, const Scalar&) { TODO; }
Tensor where(const Tensor&, const Scalar&, const Tensor&) { TODO; }
#define CMP(n) Tensor n(const Tensor&, const Tensor&) { TODO; } Tensor n(const Tensor&, const Scalar&) { TODO; }
CMP(eq) CMP(ne) CMP(lt) CMP(le) CMP(gt) CMP(ge)
Tensor logical_not(const Tensor&) { TODO; }
Tensor logical_and(const Tensor&, const Tensor&) { TODO; }
Tensor logical_or(const Tensor&, const Tensor&) { TODO; }
bool allclose(const Tensor&, const Tensor&, double, double, bool) { TODO; }
bool equal(const Tensor&, const Tensor&) { TODO; }
Tensor& Tensor::add_(const Tensor&, const Scalar&) { TODO; }
Tensor& Tensor::add_(const Scalar&, const Scalar&) { TODO; }
Tensor& Tensor::sub_(const Tensor&, const Scalar&) { TODO; }
Tensor& Tensor::sub_(const Scalar&, const Scalar&) { TODO; }
Tensor& Tensor::mul_(const Tensor&) { TODO; }
Tensor& Tensor::mul_(const Scalar&) { TODO; }
Tensor& Tensor::div_(const Tensor&) { TODO; }
Tensor& Tensor::div_(const Scalar&) { TODO; }
Tensor& Tensor::pow_(const Scalar&) { TODO; }
Tensor& Tensor::neg_() { TODO; }
Tensor& Tensor::abs_() { TODO; }
Tensor& Tensor::exp_() { TODO; }
Tensor& Tensor::log_() { TODO; }
Tensor& Tensor::sqrt_() { TODO; }
Tensor& Tensor::clamp_(std::optional<Scalar>, std::optional<Scalar>) { TODO; }
#define BIN(op) Tensor operator op(const Tensor&, const Tensor&) { TODO; } Tensor operator op(const Tensor&, const Scalar&) { TODO; }
BIN(+) BIN(-) BIN(*) BIN(/) BIN(==) BIN(!=) BIN(<) BIN(<=) BIN(>) BIN(>=)
Tensor operator+(const Scalar&, const Tensor&) { TODO; }
Tensor operator-(const Scalar&, const Tensor&) { TODO; }
Tensor operator*(const Scalar&, const Tensor&) { TODO; }
Tensor operator/(const Scalar&, const Tensor&) { TODO; }
Tensor operator-(const Tensor&) { TODO; }
#define IOP(op) Tensor& operator op(Tensor& a, const Tensor&) { TODO; } Tensor& operator op(Tensor& a, const Scalar&) { TODO; }
IOP(+=) IOP(-=) IOP(*=) IOP(/=)
}  // namespace striate
