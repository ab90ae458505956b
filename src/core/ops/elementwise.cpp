// Elementwise operators: type promotion, broadcasting, the kernel call, and
// each op's backward formula.
#include "striate/core/ops/elementwise.h"

#include <cmath>

#include "core/ops/internal.h"
#include "kernels/elementwise.h"
#include "striate/core/ops/factory.h"
#include "striate/core/ops/reduce.h"

namespace striate {

using kernels::BinaryOp;
using kernels::UnaryOp;
using autograd::SavedTensor;

// ---- type promotion ------------------------------------------------------

namespace {

enum class Category { Bool, Integral, Floating };
Category category(DType t) {
  return t == DType::Bool ? Category::Bool : is_floating_point(t) ? Category::Floating : Category::Integral;
}

// PyTorch's rule: an operand of lower priority (0-dim tensor, then Scalar)
// only changes the result when it is of a higher category.
std::optional<DType> combine(std::optional<DType> higher, std::optional<DType> lower) {
  if (!higher) return lower;
  if (!lower) return higher;
  if (category(*lower) > category(*higher)) return promote_types(*higher, *lower);
  return higher;
}

struct ResultType {
  std::optional<DType> dimensioned, zero_dim, scalar;
  void add(const Tensor& t) {
    auto& slot = t.dim() > 0 ? dimensioned : zero_dim;
    slot = slot ? promote_types(*slot, t.dtype()) : t.dtype();
  }
  void add(const Scalar& s) { scalar = scalar ? promote_types(*scalar, s.dtype()) : s.dtype(); }
  DType get() const { return *combine(dimensioned, combine(zero_dim, scalar)); }
};

// Casting the result of an in-place op into self must not lose its kind.
bool can_cast(DType from, DType to) {
  return category(from) <= category(to);
}

DType floating_or_default(DType t) { return is_floating_point(t) ? t : kDefaultFloat; }

}  // namespace

DType result_type(const Tensor& a, const Tensor& b) {
  ResultType r;
  r.add(a);
  r.add(b);
  return r.get();
}

DType result_type(const Tensor& a, const Scalar& b) {
  ResultType r;
  r.add(a);
  r.add(b);
  return r.get();
}

// ---- kernel launches -------------------------------------------------------

namespace {

// The layout an elementwise result takes: NHWC when the first input is, so
// channels-last networks stay channels-last.
MemoryFormat output_format(const Tensor& like, const Shape& shape) {
  return like.dim() == 4 && like.sizes() == shape ? like.suggest_memory_format() : MemoryFormat::Contiguous;
}

Tensor scalar_operand(const Scalar& s, DType dtype, const Tensor& like) {
  return full({}, s, TensorOptions().dtype(dtype).device(like.device()));
}

// out = a op b, both converted to `dtype` first; no autograd.
Tensor binary_raw(BinaryOp op, const Tensor& a, const Tensor& b, DType dtype, const char* name,
                  const Scalar& alpha = 1) {
  ops::check_same_device(a, b, name);
  const Shape shape = broadcast_shapes(a.sizes(), b.sizes(), name);
  const Tensor ac = a.to(dtype), bc = b.to(dtype);
  const DType out_dtype = kernels::writes_bool(op) ? kBool : dtype;
  Tensor out = empty(shape, TensorOptions().dtype(out_dtype).device(a.device()), output_format(a, shape));
  kernels::BinaryParams p{ops::make_loop<3>({&out, &ac, &bc}, shape, name), op, dtype, alpha.to_double(),
                          alpha.to_long()};
  kernels::binary_kernel.get(a.device())(p);
  return out;
}

// Writes self = self op other in place (other converted to self's dtype).
void binary_into(BinaryOp op, const Tensor& self, const Tensor& other, const char* name, const Scalar& alpha = 1) {
  ops::check_same_device(self, other, name);
  const Tensor oc = other.to(self.dtype());
  kernels::BinaryParams p{ops::make_loop<3>({&self, &self, &oc}, self.sizes(), name), op, self.dtype(),
                          alpha.to_double(), alpha.to_long()};
  kernels::binary_kernel.get(self.device())(p);
}

Tensor unary_raw(UnaryOp op, const Tensor& a, DType dtype, const char* name, kernels::UnaryParams extra = {}) {
  const Tensor ac = a.to(dtype);
  Tensor out = empty(a.sizes(), TensorOptions().dtype(op == UnaryOp::LogicalNot ? kBool : dtype).device(a.device()),
                     a.suggest_memory_format());
  extra.loop = ops::make_loop<2>({&out, &ac}, a.sizes(), name);
  extra.op = op;
  extra.dtype = dtype;
  kernels::unary_kernel.get(a.device())(extra);
  return out;
}

void unary_into(UnaryOp op, const Tensor& self, const char* name, kernels::UnaryParams extra = {}) {
  extra.loop = ops::make_loop<2>({&self, &self}, self.sizes(), name);
  extra.op = op;
  extra.dtype = self.dtype();
  kernels::unary_kernel.get(self.device())(extra);
}

void check_not_bool(const Tensor& t, const char* op, const char* what) {
  STRIATE_CHECK(t.dtype() != kBool, DTypeError, op, ": ", what, " is not supported for bool tensors");
}

// Shape and dtype of an input, kept by backward closures that need no values.
struct InputInfo {
  Shape sizes;
  DType dtype;
  explicit InputInfo(const Tensor& t) : sizes(t.sizes()), dtype(t.dtype()) {}
  Tensor reduce(const Tensor& g) const { return sum_to(g, sizes).to(dtype); }
};

}  // namespace

// ---- arithmetic ------------------------------------------------------------

Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  ops::check_defined(a, "add", "self");
  ops::check_defined(b, "add", "other");
  const DType t = result_type(a, b);
  STRIATE_CHECK(is_floating_point(t) || !alpha.is_floating_point(), DTypeError,
                "add: for integral input tensors, argument alpha must not be a floating point number (got ", alpha,
                ")");
  Tensor out = binary_raw(BinaryOp::Add, a, b, t, "add", alpha);
  if (autograd::any_requires_grad({a, b})) {
    autograd::record("AddBackward", {a, b}, {out}, [ia = InputInfo(a), ib = InputInfo(b), alpha](const TensorList& g) {
      return TensorList{ia.reduce(g[0]), ib.reduce(alpha.to_double() == 1 ? g[0] : g[0] * alpha)};
    });
  }
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  ops::check_defined(a, "sub", "self");
  ops::check_defined(b, "sub", "other");
  STRIATE_CHECK(a.dtype() != kBool || b.dtype() != kBool, DTypeError,
                "sub: subtraction, the `-` operator, with two bool tensors is not supported; use logical_xor");
  const DType t = result_type(a, b);
  STRIATE_CHECK(is_floating_point(t) || !alpha.is_floating_point(), DTypeError,
                "sub: for integral input tensors, argument alpha must not be a floating point number (got ", alpha,
                ")");
  Tensor out = binary_raw(BinaryOp::Sub, a, b, t, "sub", alpha);
  if (autograd::any_requires_grad({a, b})) {
    autograd::record("SubBackward", {a, b}, {out}, [ia = InputInfo(a), ib = InputInfo(b), alpha](const TensorList& g) {
      return TensorList{ia.reduce(g[0]), ib.reduce(g[0] * (-alpha.to_double()))};
    });
  }
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  ops::check_defined(a, "mul", "self");
  ops::check_defined(b, "mul", "other");
  Tensor out = binary_raw(BinaryOp::Mul, a, b, result_type(a, b), "mul");
  if (autograd::any_requires_grad({a, b})) {
    const bool need_a = a.requires_grad(), need_b = b.requires_grad();
    autograd::record("MulBackward", {a, b}, {out},
                     [ia = InputInfo(a), ib = InputInfo(b), sa = need_b ? SavedTensor(a) : SavedTensor(),
                      sb = need_a ? SavedTensor(b) : SavedTensor()](const TensorList& g) {
                       return TensorList{sb.defined() ? ia.reduce(g[0] * sb.unpack("mul")) : Tensor(),
                                         sa.defined() ? ib.reduce(g[0] * sa.unpack("mul")) : Tensor()};
                     });
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  ops::check_defined(a, "div", "self");
  ops::check_defined(b, "div", "other");
  Tensor out = binary_raw(BinaryOp::Div, a, b, floating_or_default(result_type(a, b)), "div");
  if (autograd::any_requires_grad({a, b})) {
    autograd::record("DivBackward", {a, b}, {out},
                     [ia = InputInfo(a), ib = InputInfo(b), sa = SavedTensor(a), sb = SavedTensor(b)](const TensorList& g) {
                       const Tensor bv = sb.unpack("div");
                       const Tensor ga = g[0] / bv;
                       return TensorList{ia.reduce(ga), ib.reduce(-ga * sa.unpack("div") / bv)};
                     });
  }
  return out;
}

Tensor pow(const Tensor& base, const Tensor& exponent) {
  ops::check_defined(base, "pow", "self");
  ops::check_defined(exponent, "pow", "exponent");
  const DType t = result_type(base, exponent);
  if (!is_floating_point(t)) {
    check_not_bool(base, "pow", "integer power");
    STRIATE_CHECK(exponent.numel() == 0 || min(exponent).item<int64_t>() >= 0, ValueError,
                  "pow: integers to negative integer powers are not allowed");
  }
  Tensor out = binary_raw(BinaryOp::Pow, base, exponent, t, "pow");
  if (autograd::any_requires_grad({base, exponent})) {
    autograd::record("PowBackward", {base, exponent}, {out},
                     [ia = InputInfo(base), ib = InputInfo(exponent), sa = SavedTensor(base),
                      sb = SavedTensor(exponent), so = SavedTensor(out)](const TensorList& g) {
                       const Tensor a = sa.unpack("pow"), e = sb.unpack("pow"), r = so.unpack("pow");
                       // d/da a^e = e * a^(e-1), taken as 0 where e == 0 (also at a == 0).
                       Tensor ga = where(e == 0, zeros_like(g[0]), g[0] * e * pow(a, e - 1));
                       // d/de a^e = a^e * log(a), taken as 0 where a == 0 and e >= 0.
                       Tensor ge = where(logical_and(a == 0, e >= 0), zeros_like(g[0]), g[0] * r * log(a));
                       return TensorList{ia.reduce(ga), ib.reduce(ge)};
                     });
  }
  return out;
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(BinaryOp::Maximum, a, b, result_type(a, b), "maximum");
  if (autograd::any_requires_grad({a, b}))
    autograd::record("MaximumBackward", {a, b}, {out},
                     [ia = InputInfo(a), ib = InputInfo(b), sa = SavedTensor(a), sb = SavedTensor(b)](const TensorList& g) {
                       // Ties split the gradient evenly, as PyTorch does.
                       const Tensor av = sa.unpack("maximum"), bv = sb.unpack("maximum");
                       const Tensor share = where(av == bv, full_like(g[0], 0.5), (av > bv).to(g[0].dtype()));
                       return TensorList{ia.reduce(g[0] * share), ib.reduce(g[0] * (1 - share))};
                     });
  return out;
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(BinaryOp::Minimum, a, b, result_type(a, b), "minimum");
  if (autograd::any_requires_grad({a, b}))
    autograd::record("MinimumBackward", {a, b}, {out},
                     [ia = InputInfo(a), ib = InputInfo(b), sa = SavedTensor(a), sb = SavedTensor(b)](const TensorList& g) {
                       const Tensor av = sa.unpack("minimum"), bv = sb.unpack("minimum");
                       const Tensor share = where(av == bv, full_like(g[0], 0.5), (av < bv).to(g[0].dtype()));
                       return TensorList{ia.reduce(g[0] * share), ib.reduce(g[0] * (1 - share))};
                     });
  return out;
}

// Scalar forms: the scalar becomes a 0-dim tensor of the result dtype, which
// never outranks `a` in promotion, so the result dtype is result_type(a, s).
#define STRIATE_SCALAR_RHS(name, dtype_expr)                                      \
  Tensor name(const Tensor& a, const Scalar& s) {                                 \
    ops::check_defined(a, #name, "self");                                         \
    return name(a, scalar_operand(s, dtype_expr, a));                             \
  }
STRIATE_SCALAR_RHS(mul, result_type(a, s))
STRIATE_SCALAR_RHS(div, result_type(a, s))
STRIATE_SCALAR_RHS(pow, result_type(a, s))
#undef STRIATE_SCALAR_RHS

Tensor add(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  ops::check_defined(a, "add", "self");
  return add(a, scalar_operand(b, result_type(a, b), a), alpha);
}
Tensor sub(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  ops::check_defined(a, "sub", "self");
  return sub(a, scalar_operand(b, result_type(a, b), a), alpha);
}
Tensor rsub(const Tensor& a, const Scalar& b) { return sub(scalar_operand(b, result_type(a, b), a), a); }
Tensor div(const Scalar& a, const Tensor& b) { return div(scalar_operand(a, result_type(b, a), b), b); }
Tensor pow(const Scalar& base, const Tensor& exponent) {
  return pow(scalar_operand(base, result_type(exponent, base), exponent), exponent);
}

// ---- unary -----------------------------------------------------------------

Tensor neg(const Tensor& a) {
  ops::check_defined(a, "neg", "self");
  STRIATE_CHECK(a.dtype() != kBool, DTypeError,
                "neg: negation, the `-` operator, on a bool tensor is not supported; use logical_not");
  Tensor out = unary_raw(UnaryOp::Neg, a, a.dtype(), "neg");
  if (autograd::any_requires_grad({a}))
    autograd::record("NegBackward", {a}, {out}, [](const TensorList& g) { return TensorList{-g[0]}; });
  return out;
}

Tensor abs(const Tensor& a) {
  ops::check_defined(a, "abs", "self");
  check_not_bool(a, "abs", "abs");
  Tensor out = unary_raw(UnaryOp::Abs, a, a.dtype(), "abs");
  if (autograd::any_requires_grad({a}))
    autograd::record("AbsBackward", {a}, {out},
                     [sa = SavedTensor(a)](const TensorList& g) { return TensorList{g[0] * sign(sa.unpack("abs"))}; });
  return out;
}

Tensor sign(const Tensor& a) {
  ops::check_defined(a, "sign", "self");
  if (a.dtype() == kBool) return a.clone();
  Tensor out = unary_raw(UnaryOp::Sign, a, a.dtype(), "sign");
  if (autograd::any_requires_grad({a}))
    autograd::record("SignBackward", {a}, {out}, [](const TensorList& g) { return TensorList{zeros_like(g[0])}; });
  return out;
}

Tensor exp(const Tensor& a) {
  ops::check_defined(a, "exp", "self");
  Tensor out = unary_raw(UnaryOp::Exp, a, floating_or_default(a.dtype()), "exp");
  if (autograd::any_requires_grad({a}))
    autograd::record("ExpBackward", {a}, {out},
                     [so = SavedTensor(out)](const TensorList& g) { return TensorList{g[0] * so.unpack("exp")}; });
  return out;
}

Tensor log(const Tensor& a) {
  ops::check_defined(a, "log", "self");
  Tensor out = unary_raw(UnaryOp::Log, a, floating_or_default(a.dtype()), "log");
  if (autograd::any_requires_grad({a}))
    autograd::record("LogBackward", {a}, {out},
                     [sa = SavedTensor(a)](const TensorList& g) { return TensorList{g[0] / sa.unpack("log")}; });
  return out;
}

Tensor sqrt(const Tensor& a) {
  ops::check_defined(a, "sqrt", "self");
  Tensor out = unary_raw(UnaryOp::Sqrt, a, floating_or_default(a.dtype()), "sqrt");
  if (autograd::any_requires_grad({a}))
    autograd::record("SqrtBackward", {a}, {out}, [so = SavedTensor(out)](const TensorList& g) {
      return TensorList{g[0] / (so.unpack("sqrt") * 2)};
    });
  return out;
}

namespace {
kernels::UnaryParams clamp_params(std::optional<Scalar> lo, std::optional<Scalar> hi) {
  kernels::UnaryParams p;
  p.has_min = lo.has_value();
  p.has_max = hi.has_value();
  p.min = lo ? lo->to_double() : 0;
  p.max = hi ? hi->to_double() : 0;
  return p;
}

DType clamp_result_type(const Tensor& a, const std::optional<Scalar>& lo, const std::optional<Scalar>& hi) {
  ResultType r;
  r.add(a);
  if (lo) r.add(*lo);
  if (hi) r.add(*hi);
  return r.get();
}
}  // namespace

Tensor clamp(const Tensor& a, std::optional<Scalar> lo, std::optional<Scalar> hi) {
  ops::check_defined(a, "clamp", "self");
  STRIATE_CHECK(lo || hi, ValueError, "clamp: at least one of 'min' or 'max' must not be None");
  check_not_bool(a, "clamp", "clamp");
  Tensor out = unary_raw(UnaryOp::Clamp, a, clamp_result_type(a, lo, hi), "clamp", clamp_params(lo, hi));
  if (autograd::any_requires_grad({a}))
    autograd::record("ClampBackward", {a}, {out}, [sa = SavedTensor(a), lo, hi](const TensorList& g) {
      // The gradient passes where the input was inside [min, max].
      const Tensor x = sa.unpack("clamp");
      Tensor inside = ones_like(x, TensorOptions(kBool));
      if (lo) inside = logical_and(inside, x >= *lo);
      if (hi) inside = logical_and(inside, x <= *hi);
      return TensorList{where(inside, g[0], zeros_like(g[0]))};
    });
  return out;
}

Tensor clamp_min(const Tensor& a, const Scalar& lo) { return clamp(a, lo, std::nullopt); }
Tensor clamp_max(const Tensor& a, const Scalar& hi) { return clamp(a, std::nullopt, hi); }

// ---- where, comparisons, logic ----------------------------------------------

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  ops::check_defined(condition, "where", "condition");
  ops::check_defined(a, "where", "self");
  ops::check_defined(b, "where", "other");
  STRIATE_CHECK(condition.dtype() == kBool, DTypeError, "where: expected condition to be a bool tensor, got ",
                condition.dtype());
  ops::check_same_device(condition, a, "where");
  ops::check_same_device(a, b, "where");
  const Shape shape = broadcast_shapes(broadcast_shapes(condition.sizes(), a.sizes(), "where"), b.sizes(), "where");
  const DType t = result_type(a, b);
  const Tensor ac = a.to(t), bc = b.to(t);
  Tensor out = empty(shape, TensorOptions().dtype(t).device(a.device()));
  kernels::WhereParams p{ops::make_loop<4>({&out, &condition, &ac, &bc}, shape, "where"), t};
  kernels::where_kernel.get(a.device())(p);
  if (autograd::any_requires_grad({a, b}))
    autograd::record("WhereBackward", {a, b}, {out},
                     [ia = InputInfo(a), ib = InputInfo(b), sc = SavedTensor(condition)](const TensorList& g) {
                       const Tensor c = sc.unpack("where"), zero = zeros_like(g[0]);
                       return TensorList{ia.reduce(where(c, g[0], zero)), ib.reduce(where(c, zero, g[0]))};
                     });
  return out;
}

Tensor where(const Tensor& c, const Tensor& a, const Scalar& b) {
  return where(c, a, scalar_operand(b, result_type(a, b), a));
}
Tensor where(const Tensor& c, const Scalar& a, const Tensor& b) {
  return where(c, scalar_operand(a, result_type(b, a), b), b);
}

#define STRIATE_COMPARISON(name, OP)                                                  \
  Tensor name(const Tensor& a, const Tensor& b) {                                     \
    ops::check_defined(a, #name, "self");                                             \
    ops::check_defined(b, #name, "other");                                            \
    return binary_raw(BinaryOp::OP, a, b, result_type(a, b), #name);                  \
  }                                                                                   \
  Tensor name(const Tensor& a, const Scalar& b) {                                     \
    ops::check_defined(a, #name, "self");                                             \
    const DType t = result_type(a, b);                                                \
    return binary_raw(BinaryOp::OP, a, scalar_operand(b, t, a), t, #name);            \
  }
STRIATE_COMPARISON(eq, Eq)
STRIATE_COMPARISON(ne, Ne)
STRIATE_COMPARISON(lt, Lt)
STRIATE_COMPARISON(le, Le)
STRIATE_COMPARISON(gt, Gt)
STRIATE_COMPARISON(ge, Ge)
#undef STRIATE_COMPARISON

Tensor logical_not(const Tensor& a) { return unary_raw(UnaryOp::LogicalNot, a, a.dtype(), "logical_not"); }
Tensor logical_and(const Tensor& a, const Tensor& b) {
  return binary_raw(BinaryOp::LogicalAnd, a, b, result_type(a, b), "logical_and");
}
Tensor logical_or(const Tensor& a, const Tensor& b) {
  return binary_raw(BinaryOp::LogicalOr, a, b, result_type(a, b), "logical_or");
}

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  const Shape shape = broadcast_shapes(a.sizes(), b.sizes(), "allclose");
  const auto av = a.expand(shape).to_vector<double>(), bv = b.expand(shape).to_vector<double>();
  for (size_t i = 0; i < av.size(); ++i) {
    if (std::isnan(av[i]) || std::isnan(bv[i])) {
      if (!(equal_nan && std::isnan(av[i]) && std::isnan(bv[i]))) return false;
      continue;
    }
    if (av[i] == bv[i]) continue;  // equal infinities
    if (!(std::abs(av[i] - bv[i]) <= atol + rtol * std::abs(bv[i]))) return false;
  }
  return true;
}

bool equal(const Tensor& a, const Tensor& b) {
  if (a.sizes() != b.sizes()) return false;
  const auto av = a.to_vector<double>(), bv = b.to_vector<double>();
  return av == bv;
}

// ---- in-place forms ----------------------------------------------------------

namespace {

void check_inplace_result(const Tensor& self, DType result, const char* op) {
  STRIATE_CHECK(can_cast(result, self.dtype()), DTypeError, op, ": result type ", result,
                " can't be cast to the desired output type ", self.dtype());
}

Tensor& binary_inplace(Tensor& self, const Tensor& other, BinaryOp op, DType result, const char* name,
                       Tensor (*out_of_place)(const Tensor&, const Tensor&, const Scalar&), const Scalar& alpha) {
  ops::check_defined(self, name, "self");
  ops::check_defined(other, name, "other");
  check_inplace_result(self, result, name);
  const Shape shape = broadcast_shapes(self.sizes(), other.sizes(), name);
  STRIATE_CHECK(shape == self.sizes(), ShapeError, name, ": output with shape ", self.sizes(),
                " doesn't match the broadcast shape ", shape);
  return ops::inplace(
      self, name, [&](const Tensor& s) { return out_of_place(s, other, alpha); },
      [&] {
        if (result == self.dtype()) binary_into(op, self, other, name, alpha);
        else ops::copy_raw(self, out_of_place(self, other, alpha));
      },
      {other});
}

Tensor add3(const Tensor& a, const Tensor& b, const Scalar& alpha) { return add(a, b, alpha); }
Tensor sub3(const Tensor& a, const Tensor& b, const Scalar& alpha) { return sub(a, b, alpha); }
Tensor mul3(const Tensor& a, const Tensor& b, const Scalar&) { return mul(a, b); }
Tensor div3(const Tensor& a, const Tensor& b, const Scalar&) { return div(a, b); }

Tensor& unary_inplace(Tensor& self, UnaryOp op, DType result, const char* name, Tensor (*out_of_place)(const Tensor&),
                      kernels::UnaryParams extra = {}) {
  ops::check_defined(self, name, "self");
  check_inplace_result(self, result, name);
  return ops::inplace(
      self, name, [&](const Tensor& s) { return out_of_place(s); },
      [&] {
        if (result == self.dtype()) unary_into(op, self, name, extra);
        else ops::copy_raw(self, out_of_place(self));
      });
}

}  // namespace

Tensor& Tensor::add_(const Tensor& o, const Scalar& alpha) {
  return binary_inplace(*this, o, BinaryOp::Add, result_type(*this, o), "add_", add3, alpha);
}
Tensor& Tensor::sub_(const Tensor& o, const Scalar& alpha) {
  return binary_inplace(*this, o, BinaryOp::Sub, result_type(*this, o), "sub_", sub3, alpha);
}
Tensor& Tensor::mul_(const Tensor& o) {
  return binary_inplace(*this, o, BinaryOp::Mul, result_type(*this, o), "mul_", mul3, 1);
}
Tensor& Tensor::div_(const Tensor& o) {
  return binary_inplace(*this, o, BinaryOp::Div, floating_or_default(result_type(*this, o)), "div_", div3, 1);
}
Tensor& Tensor::add_(const Scalar& o, const Scalar& alpha) { return add_(scalar_operand(o, result_type(*this, o), *this), alpha); }
Tensor& Tensor::sub_(const Scalar& o, const Scalar& alpha) { return sub_(scalar_operand(o, result_type(*this, o), *this), alpha); }
Tensor& Tensor::mul_(const Scalar& o) { return mul_(scalar_operand(o, result_type(*this, o), *this)); }
Tensor& Tensor::div_(const Scalar& o) { return div_(scalar_operand(o, result_type(*this, o), *this)); }

Tensor& Tensor::pow_(const Scalar& e) {
  ops::check_defined(*this, "pow_", "self");
  Tensor exponent = scalar_operand(e, result_type(*this, e), *this);
  check_inplace_result(*this, exponent.dtype(), "pow_");
  return ops::inplace(
      *this, "pow_", [&](const Tensor& s) { return striate::pow(s, exponent); },
      [&] { ops::copy_raw(*this, striate::pow(*this, exponent)); });
}

Tensor& Tensor::neg_() {
  STRIATE_CHECK(dtype() != kBool, DTypeError, "neg_: negation on a bool tensor is not supported");
  return unary_inplace(*this, UnaryOp::Neg, dtype(), "neg_", striate::neg);
}
Tensor& Tensor::abs_() { return unary_inplace(*this, UnaryOp::Abs, dtype(), "abs_", striate::abs); }
Tensor& Tensor::exp_() { return unary_inplace(*this, UnaryOp::Exp, floating_or_default(dtype()), "exp_", striate::exp); }
Tensor& Tensor::log_() { return unary_inplace(*this, UnaryOp::Log, floating_or_default(dtype()), "log_", striate::log); }
Tensor& Tensor::sqrt_() {
  return unary_inplace(*this, UnaryOp::Sqrt, floating_or_default(dtype()), "sqrt_", striate::sqrt);
}
Tensor& Tensor::clamp_(std::optional<Scalar> lo, std::optional<Scalar> hi) {
  ops::check_defined(*this, "clamp_", "self");
  STRIATE_CHECK(lo || hi, ValueError, "clamp_: at least one of 'min' or 'max' must not be None");
  const DType result = clamp_result_type(*this, lo, hi);
  check_inplace_result(*this, result, "clamp_");
  return ops::inplace(
      *this, "clamp_", [&](const Tensor& s) { return striate::clamp(s, lo, hi); },
      [&] {
        if (result == dtype()) unary_into(UnaryOp::Clamp, *this, "clamp_", clamp_params(lo, hi));
        else ops::copy_raw(*this, striate::clamp(*this, lo, hi));
      });
}

// ---- operators ----------------------------------------------------------------

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, const Scalar& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Scalar& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Scalar& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Scalar& b) { return div(a, b); }
Tensor operator+(const Scalar& a, const Tensor& b) { return add(b, a); }
Tensor operator-(const Scalar& a, const Tensor& b) { return rsub(b, a); }
Tensor operator*(const Scalar& a, const Tensor& b) { return mul(b, a); }
Tensor operator/(const Scalar& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& a) { return neg(a); }
Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator==(const Tensor& a, const Scalar& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Scalar& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Scalar& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Scalar& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Scalar& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Scalar& b) { return ge(a, b); }
Tensor& operator+=(Tensor& a, const Tensor& b) { return a.add_(b); }
Tensor& operator-=(Tensor& a, const Tensor& b) { return a.sub_(b); }
Tensor& operator*=(Tensor& a, const Tensor& b) { return a.mul_(b); }
Tensor& operator/=(Tensor& a, const Tensor& b) { return a.div_(b); }
Tensor& operator+=(Tensor& a, const Scalar& b) { return a.add_(b); }
Tensor& operator-=(Tensor& a, const Scalar& b) { return a.sub_(b); }
Tensor& operator*=(Tensor& a, const Scalar& b) { return a.mul_(b); }
Tensor& operator/=(Tensor& a, const Scalar& b) { return a.div_(b); }

}  // namespace striate
