// STUB: replaced by PyTorch-style printing.
#include "striate/core/tensor.h"
namespace striate {
std::string Tensor::toString() const { return "tensor(...)"; }
std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.toString(); }
}  // namespace striate
