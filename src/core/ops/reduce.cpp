// STUB: replaced by the reductions implementation.
#include "striate/core/ops/reduce.h"
namespace striate {
#define TODO throw NotImplementedError("reduce: not implemented yet")
Tensor sum(const Tensor&, std::optional<DType>) { TODO; }
Tensor sum(const Tensor&, const Shape&, bool, std::optional<DType>) { TODO; }
Tensor mean(const Tensor&) { TODO; }
Tensor mean(const Tensor&, const Shape&, bool) { TODO; }
Tensor var(const Tensor&, int64_t) { TODO; }
Tensor var(const Tensor&, const Shape&, int64_t, bool) { TODO; }
Tensor max(const Tensor&) { TODO; }
Tensor min(const Tensor&) { TODO; }
std::tuple<Tensor, Tensor> max(const Tensor&, int64_t, bool) { TODO; }
std::tuple<Tensor, Tensor> min(const Tensor&, int64_t, bool) { TODO; }
Tensor amax(const Tensor&, const Shape&, bool) { TODO; }
Tensor amin(const Tensor&, const Shape&, bool) { TODO; }
Tensor argmax(const Tensor&, std::optional<int64_t>, bool) { TODO; }
Tensor argmin(const Tensor&, std::optional<int64_t>, bool) { TODO; }
Tensor sum_to(const Tensor&, const Shape&) { TODO; }
}  // namespace striate
