// STUB: replaced by cat/stack.
#include "striate/core/ops/shape_ops.h"
namespace striate {
Tensor cat(const std::vector<Tensor>&, int64_t) { throw NotImplementedError("cat: not implemented yet"); }
Tensor stack(const std::vector<Tensor>&, int64_t) { throw NotImplementedError("stack: not implemented yet"); }
}  // namespace striate
