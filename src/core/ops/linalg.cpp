// Matrix products. mm, bmm and addmm call the GEMM kernel and record their
// backward; dot, mv, matmul and linear are compositions of those with views,
// so their gradients come from the pieces.
#include "striate/core/ops/linalg.h"

#include <algorithm>

#include "core/ops/internal.h"
#include "kernels/gemm.h"
#include "striate/core/backend.h"
#include "striate/core/ops/factory.h"
#include "striate/core/ops/reduce.h"

namespace striate {
namespace {

// A 2-D or 3-D tensor as a GEMM operand: its matrices passed as they are
// (trans = true for a transposed view) when BLAS can address them through a
// leading dimension, otherwise a contiguous copy. `owner` keeps the data alive.
struct Operand {
  Tensor owner;
  kernels::GemmOperand op;
};

bool describe(const Tensor& x, kernels::GemmOperand& op) {
  const int64_t nd = x.dim();
  const int64_t rows = x.size(nd - 2), cols = x.size(nd - 1);
  const int64_t s0 = x.stride(nd - 2), s1 = x.stride(nd - 1);
  if ((cols == 1 || s1 == 1) && (rows == 1 || s0 >= std::max<int64_t>(1, cols))) {
    op.trans = false;
    op.ld = rows == 1 ? std::max<int64_t>(1, cols) : s0;
  } else if ((rows == 1 || s0 == 1) && (cols == 1 || s1 >= std::max<int64_t>(1, rows))) {
    op.trans = true;
    op.ld = cols == 1 ? std::max<int64_t>(1, rows) : s1;
  } else {
    return false;
  }
  op.batch_stride = nd == 3 ? x.stride(0) : 0;
  op.data = x.data_ptr();
  return true;
}

Operand operand_for(const Tensor& x) {
  Operand o{x.detach(), {}};
  if (!describe(o.owner, o.op)) {
    o.owner = o.owner.contiguous();
    describe(o.owner, o.op);
  }
  return o;
}

// out = alpha * a @ b + beta * out for 2-D or 3-D operands of one dtype,
// shapes already checked; no autograd.
void gemm_into(const Tensor& out, const Tensor& a, const Tensor& b, double alpha, double beta) {
  const int64_t nd = a.dim();
  const Operand oa = operand_for(a), ob = operand_for(b);
  kernels::GemmParams p;
  p.dtype = a.dtype();
  p.batch = nd == 3 ? a.size(0) : 1;
  p.m = a.size(nd - 2);
  p.k = a.size(nd - 1);
  p.n = b.size(nd - 1);
  p.a = oa.op;
  p.b = ob.op;
  p.c = out.data_ptr();
  p.ldc = std::max<int64_t>(1, p.n);
  p.c_batch_stride = p.m * p.n;
  p.alpha = alpha;
  p.beta = beta;
  p.allow_tf32 = p.dtype == kFloat && allow_tf32(OpFamily::Gemm);
  if (p.batch == 0) return;
  // Auto may time both implementations, which is sound only when C is overwritten.
  if (beta != 0) return kernels::gemm_kernel.get(a.device())(p);
  kernels::gemm_kernel.run(a.device(),
                           {static_cast<int64_t>(p.dtype), p.batch, p.m, p.n, p.k, p.a.ld, p.b.ld, p.a.trans, p.b.trans,
                            p.a.batch_stride == 0, p.b.batch_stride == 0, p.allow_tf32},
                           p);
}

// alpha * a @ b into a new tensor.
Tensor product(const Tensor& a, const Tensor& b, double alpha = 1) {
  Shape sizes = a.sizes();
  sizes.back() = b.sizes().back();
  Tensor out = empty(sizes, TensorOptions(a.dtype()).device(a.device()));
  gemm_into(out, a, b, alpha, 0);
  return out;
}

// The last two dims swapped, for the gradients of a product.
Tensor mT(const Tensor& x) { return x.transpose(-2, -1); }

void check_pair(const Tensor& a, const Tensor& b, const char* op) {
  ops::check_defined(a, op, "self");
  ops::check_defined(b, op, "other");
  ops::check_same_device(a, b, op);
  STRIATE_CHECK(a.dtype() == b.dtype(), DTypeError, op, ": expected both operands to have the same dtype, got ",
                a.dtype(), " and ", b.dtype());
  STRIATE_CHECK(a.dtype() != kBool, DTypeError, op, ": bool tensors are not supported, got ", a.dtype());
}

void check_inner(const Tensor& a, const Tensor& b, int64_t ka, int64_t kb, const char* op) {
  STRIATE_CHECK(ka == kb, ShapeError, op, ": shapes ", a.sizes(), " and ", b.sizes(), " cannot be multiplied (",
                ka, " != ", kb, ")");
}

void check_dims(const Tensor& t, int64_t want, const char* op, const char* what) {
  STRIATE_CHECK(t.dim() == want, ShapeError, op, ": expected ", what, " to be a ", want, "-D tensor, got shape ",
                t.sizes());
}

// Records the backward of out = alpha * a @ b (2-D or 3-D), saving for each
// input only the other one, and only when its gradient is wanted.
void record_product(const char* name, const Tensor& a, const Tensor& b, const Tensor& out, double alpha) {
  if (!autograd::any_requires_grad({a, b})) return;
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  autograd::SavedTensor saved_a(need_b ? a : Tensor()), saved_b(need_a ? b : Tensor());
  autograd::record(name, {a, b}, {out}, [=](const TensorList& g) {
    Tensor grad_a, grad_b;
    if (need_a) grad_a = product(g[0], mT(saved_b.unpack(name)), alpha);
    if (need_b) grad_b = product(mT(saved_a.unpack(name)), g[0], alpha);
    return TensorList{grad_a, grad_b};
  });
}

}  // namespace

Tensor mm(const Tensor& a, const Tensor& b) {
  check_pair(a, b, "mm");
  check_dims(a, 2, "mm", "self");
  check_dims(b, 2, "mm", "mat2");
  check_inner(a, b, a.size(1), b.size(0), "mm");
  Tensor out = product(a, b);
  record_product("MmBackward", a, b, out, 1);
  return out;
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  check_pair(a, b, "bmm");
  check_dims(a, 3, "bmm", "self");
  check_dims(b, 3, "bmm", "mat2");
  STRIATE_CHECK(a.size(0) == b.size(0), ShapeError, "bmm: batch sizes of ", a.sizes(), " and ", b.sizes(),
                " differ (", a.size(0), " != ", b.size(0), ")");
  check_inner(a, b, a.size(2), b.size(1), "bmm");
  Tensor out = product(a, b);
  record_product("BmmBackward", a, b, out, 1);
  return out;
}

Tensor dot(const Tensor& a, const Tensor& b) {
  check_pair(a, b, "dot");
  STRIATE_CHECK(a.dim() == 1 && b.dim() == 1, ShapeError, "dot: expected two 1-D tensors, got shapes ", a.sizes(),
                " and ", b.sizes());
  STRIATE_CHECK(a.size(0) == b.size(0), ShapeError, "dot: expected both vectors to have the same number of elements, got ",
                a.size(0), " and ", b.size(0));
  const int64_t k = a.size(0);
  return mm(a.reshape({1, k}), b.reshape({k, 1})).reshape({});
}

Tensor mv(const Tensor& a, const Tensor& v) {
  check_pair(a, v, "mv");
  check_dims(a, 2, "mv", "self");
  check_dims(v, 1, "mv", "vec");
  check_inner(a, v, a.size(1), v.size(0), "mv");
  return mm(a, v.reshape({v.size(0), 1})).reshape({a.size(0)});
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_pair(a, b, "matmul");
  const int64_t da = a.dim(), db = b.dim();
  STRIATE_CHECK(da >= 1 && db >= 1, ShapeError, "matmul: both arguments need to be at least 1-D, got shapes ",
                a.sizes(), " and ", b.sizes());
  const int64_t k = a.size(-1);
  check_inner(a, b, k, db == 1 ? b.size(0) : b.size(-2), "matmul");
  if (da == 1 && db == 1) return dot(a, b);
  if (da == 2 && db == 1) return mv(a, b);
  if (da == 1 && db == 2) return mm(a.unsqueeze(0), b).squeeze(0);
  if (da == 2 && db == 2) return mm(a, b);
  const Shape a_lead(a.sizes().begin(), a.sizes().end() - 1);
  if (da >= 3 && db <= 2) {
    // Fold a's batch dims into its rows: one large mm instead of a bmm.
    const Tensor rows = a.reshape({shape_numel(a_lead), k});
    Shape out_sizes = a_lead;
    if (db == 2) out_sizes.push_back(b.size(1));
    return mm(rows, db == 2 ? b : b.unsqueeze(1)).reshape(out_sizes);
  }
  // Broadcast the batch dims, flatten them to one, and bmm.
  const Tensor a3 = da == 1 ? a.unsqueeze(0) : a;  // [..., n, k]
  const Tensor b3 = db == 1 ? b.unsqueeze(1) : b;  // [..., k, m]
  const Shape batch = broadcast_shapes(Shape(a3.sizes().begin(), a3.sizes().end() - 2),
                                       Shape(b3.sizes().begin(), b3.sizes().end() - 2), "matmul");
  const int64_t n = a3.size(-2), m = b3.size(-1), count = shape_numel(batch);
  Shape a_full = batch, b_full = batch;
  a_full.insert(a_full.end(), {n, k});
  b_full.insert(b_full.end(), {k, m});
  const Tensor out = bmm(a3.expand(a_full).reshape({count, n, k}), b3.expand(b_full).reshape({count, k, m}));
  Shape out_sizes = batch;
  if (da > 1) out_sizes.push_back(n);
  if (db > 1) out_sizes.push_back(m);
  return out.reshape(out_sizes);
}

Tensor addmm(const Tensor& input, const Tensor& m1, const Tensor& m2, const Scalar& beta, const Scalar& alpha) {
  ops::check_defined(input, "addmm", "input");
  check_pair(m1, m2, "addmm");
  ops::check_same_device(input, m1, "addmm");
  STRIATE_CHECK(input.dtype() == m1.dtype(), DTypeError, "addmm: expected input and matrices to have the same dtype, got ",
                input.dtype(), " and ", m1.dtype());
  check_dims(m1, 2, "addmm", "mat1");
  check_dims(m2, 2, "addmm", "mat2");
  check_inner(m1, m2, m1.size(1), m2.size(0), "addmm");
  if (!m1.is_floating_point())
    STRIATE_CHECK(!beta.is_floating_point() && !alpha.is_floating_point(), ValueError,
                  "addmm: for integer tensors, beta and alpha must not be floating-point numbers, got beta=", beta,
                  " and alpha=", alpha);
  const Shape out_sizes{m1.size(0), m2.size(1)};
  STRIATE_CHECK(broadcast_shapes(input.sizes(), out_sizes, "addmm") == out_sizes, ShapeError,
                "addmm: input of shape ", input.sizes(), " cannot be broadcast to the output shape ", out_sizes);
  const double b = beta.to_double(), a = alpha.to_double();
  Tensor out = empty(out_sizes, TensorOptions(m1.dtype()).device(m1.device()));
  if (b != 0) ops::copy_raw(out, input.detach());
  gemm_into(out, m1, m2, a, b);
  if (autograd::any_requires_grad({input, m1, m2})) {
    const bool need_input = input.requires_grad(), need_m1 = m1.requires_grad(), need_m2 = m2.requires_grad();
    autograd::SavedTensor saved_m1(need_m2 ? m1 : Tensor()), saved_m2(need_m1 ? m2 : Tensor());
    const Shape input_sizes = input.sizes();
    autograd::record("AddmmBackward", {input, m1, m2}, {out}, [=](const TensorList& g) {
      Tensor grad_input, grad_m1, grad_m2;
      if (need_input) {
        grad_input = sum_to(g[0], input_sizes);
        if (b != 1) grad_input = grad_input * b;
      }
      if (need_m1) grad_m1 = product(g[0], mT(saved_m2.unpack("addmm")), a);
      if (need_m2) grad_m2 = product(mT(saved_m1.unpack("addmm")), g[0], a);
      return TensorList{grad_input, grad_m1, grad_m2};
    });
  }
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_pair(x, weight, "linear");
  STRIATE_CHECK(x.dim() >= 1, ShapeError, "linear: expected an input of at least 1 dim, got shape ", x.sizes());
  check_dims(weight, 2, "linear", "weight");
  STRIATE_CHECK(x.size(-1) == weight.size(1), ShapeError, "linear: input of shape ", x.sizes(),
                " and weight of shape ", weight.sizes(), " do not match (in_features ", x.size(-1), " != ",
                weight.size(1), ")");
  const int64_t in = weight.size(1), out = weight.size(0);
  if (bias.defined())
    STRIATE_CHECK(bias.dim() <= 1 && (bias.numel() == out || bias.numel() == 1), ShapeError,
                  "linear: expected a bias of shape [", out, "], got ", bias.sizes());
  Shape out_sizes(x.sizes().begin(), x.sizes().end() - 1);
  const Tensor rows = x.dim() == 2 ? x : x.reshape({shape_numel(out_sizes), in});
  out_sizes.push_back(out);
  const Tensor result = bias.defined() ? addmm(bias, rows, weight.t()) : mm(rows, weight.t());
  return x.dim() == 2 ? result : result.reshape(out_sizes);
}

}  // namespace striate
