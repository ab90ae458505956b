// STUB: replaced by the linear-algebra implementation.
#include "striate/core/ops/linalg.h"
namespace striate {
#define TODO throw NotImplementedError("linalg: not implemented yet")
Tensor matmul(const Tensor&, const Tensor&) { TODO; }
Tensor mm(const Tensor&, const Tensor&) { TODO; }
Tensor bmm(const Tensor&, const Tensor&) { TODO; }
Tensor dot(const Tensor&, const Tensor&) { TODO; }
Tensor mv(const Tensor&, const Tensor&) { TODO; }
Tensor addmm(const Tensor&, const Tensor&, const Tensor&, const Scalar&, const Scalar&) { TODO; }
Tensor linear(const Tensor&, const Tensor&, const Tensor&) { TODO; }
}  // namespace striate
