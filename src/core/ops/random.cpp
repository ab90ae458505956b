// STUB: replaced by the Philox random implementation.
#include "striate/core/ops/factory.h"
namespace striate {
#define TODO throw NotImplementedError("random: not implemented yet")
Generator& default_generator() { static Generator g; return g; }
void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }
Tensor rand(const Shape&, const TensorOptions&, Generator*) { TODO; }
Tensor randn(const Shape&, const TensorOptions&, Generator*) { TODO; }
Tensor randint(int64_t, int64_t, const Shape&, const TensorOptions&, Generator*) { TODO; }
Tensor rand_like(const Tensor&, Generator*) { TODO; }
Tensor randn_like(const Tensor&, Generator*) { TODO; }
Tensor randperm(int64_t, const TensorOptions&, Generator*) { TODO; }
Tensor& uniform_(Tensor&, double, double, Generator*) { TODO; }
Tensor& normal_(Tensor&, double, double, Generator*) { TODO; }
Tensor& bernoulli_(Tensor&, double, Generator*) { TODO; }
}  // namespace striate
