// Random tensors from the Philox generator: argument checks, counter
// reservation and the in-place forms. The value of each element is fixed by
// (seed, offset, element index) as described in kernels/random.h.
#include <cmath>
#include <limits>
#include <utility>

#include "core/ops/internal.h"
#include "kernels/random.h"
#include "striate/core/ops/factory.h"

namespace striate {

Generator& default_generator() {
  static Generator g;
  return g;
}
void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

namespace {

using kernels::Distribution;
using kernels::RandomParams;

Generator& pick(Generator* gen) { return gen ? *gen : default_generator(); }

void check_sizes(const Shape& sizes, const char* op) {
  for (int64_t s : sizes)
    STRIATE_CHECK(s >= 0, ShapeError, op, ": negative dimension ", s, " in size ", sizes);
}

void check_floating(DType dtype, const char* op) {
  STRIATE_CHECK(is_floating_point(dtype), DTypeError, op, ": expected a floating-point dtype, got ",
                dtype_name(dtype));
}

// Fills every element of `t` (any layout) in row-major order, reserving the
// counters from `gen`. Strided targets are filled through a contiguous buffer
// so that an element's value does not depend on the memory layout.
void fill_random(const Tensor& t, RandomParams p, Generator* gen) {
  p.numel = t.numel();
  p.dtype = t.dtype();
  const auto per_counter = static_cast<uint64_t>(kernels::random_detail::values_per_counter(p.dist, p.dtype, p.range));
  Generator& g = pick(gen);
  p.seed = g.seed();
  p.offset = g.reserve((static_cast<uint64_t>(p.numel) + per_counter - 1) / per_counter);
  if (p.numel == 0) return;
  const auto fn = kernels::random_kernel.get(t.device());
  if (t.is_contiguous()) {
    p.out = t.data_ptr();
    fn(p);
    return;
  }
  Tensor buffer = empty(t.sizes(), TensorOptions(t.dtype()).device(t.device()));
  p.out = buffer.data_ptr();
  fn(p);
  ops::copy_raw(t, buffer);
}

Tensor make_random(const Shape& sizes, const TensorOptions& options, const RandomParams& p, Generator* gen,
                   const char* op) {
  check_sizes(sizes, op);
  Tensor t = empty(sizes, options.requires_grad(false));
  fill_random(t, p, gen);
  if (options.requires_grad()) t.requires_grad_(true);
  return t;
}

// The in-place fills: a leaf that requires grad is an error, and a tensor
// with history loses it (its values no longer depend on anything).
Tensor& fill_inplace(Tensor& t, const char* op, const RandomParams& p, Generator* gen) {
  ops::check_defined(t, op, "self");
  return ops::inplace(
      t, op,
      [&](const Tensor& self_copy) {
        Tensor fresh = empty(self_copy.sizes(), TensorOptions(self_copy.dtype()).device(self_copy.device()));
        fill_random(fresh, p, gen);
        return fresh;
      },
      [&] { fill_random(t, p, gen); });
}

RandomParams uniform_params(double from, double to) {
  RandomParams p;
  p.dist = Distribution::Uniform;
  p.a = from;
  p.b = to;
  return p;
}

RandomParams normal_params(double mean, double std) {
  RandomParams p;
  p.dist = Distribution::Normal;
  p.a = mean;
  p.b = std;
  return p;
}

// The smallest and largest values an integer dtype holds.
std::pair<double, double> integer_bounds(DType dtype) {
  switch (dtype) {
    case DType::Bool: return {0, 1};
    case DType::U8: return {0, 255};
    case DType::I32: return {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()};
    default: return {static_cast<double>(std::numeric_limits<int64_t>::min()),
                     static_cast<double>(std::numeric_limits<int64_t>::max())};
  }
}

// The largest integer every smaller integer of which a floating dtype holds exactly.
int64_t exact_integer_limit(DType dtype) {
  switch (dtype) {
    case DType::F16: return int64_t{1} << 11;
    case DType::BF16: return int64_t{1} << 8;
    case DType::F32: return int64_t{1} << 24;
    default: return int64_t{1} << 53;
  }
}

}  // namespace

Tensor rand(const Shape& sizes, const TensorOptions& options, Generator* gen) {
  check_floating(options.dtype(), "rand");
  return make_random(sizes, options, uniform_params(0, 1), gen, "rand");
}

Tensor randn(const Shape& sizes, const TensorOptions& options, Generator* gen) {
  check_floating(options.dtype(), "randn");
  return make_random(sizes, options, normal_params(0, 1), gen, "randn");
}

Tensor randint(int64_t low, int64_t high, const Shape& sizes, const TensorOptions& options, Generator* gen) {
  STRIATE_CHECK(low < high, ValueError, "randint: expected low < high, got low=", low, " and high=", high);
  const DType dtype = options.dtype();
  if (is_floating_point(dtype)) {
    const int64_t limit = exact_integer_limit(dtype);
    STRIATE_CHECK(low >= -limit && high - 1 <= limit, ValueError, "randint: the range [", low, ", ", high,
                  ") is not exactly representable in ", dtype_name(dtype), " (integers up to ", limit, ")");
  } else {
    const auto [lo, hi] = integer_bounds(dtype);
    STRIATE_CHECK(static_cast<double>(low) >= lo && static_cast<double>(high - 1) <= hi, ValueError,
                  "randint: the range [", low, ", ", high, ") does not fit in ", dtype_name(dtype), " (values ",
                  static_cast<int64_t>(lo), " to ", static_cast<int64_t>(hi), ")");
  }
  RandomParams p;
  p.dist = Distribution::RandomInt;
  p.low = low;
  p.range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  return make_random(sizes, options, p, gen, "randint");
}

Tensor rand_like(const Tensor& like, Generator* gen) {
  ops::check_defined(like, "rand_like", "like");
  check_floating(like.dtype(), "rand_like");
  Tensor t = empty_like(like, TensorOptions(like.dtype()).device(like.device()));
  fill_random(t, uniform_params(0, 1), gen);
  return t;
}

Tensor randn_like(const Tensor& like, Generator* gen) {
  ops::check_defined(like, "randn_like", "like");
  check_floating(like.dtype(), "randn_like");
  Tensor t = empty_like(like, TensorOptions(like.dtype()).device(like.device()));
  fill_random(t, normal_params(0, 1), gen);
  return t;
}

Tensor randperm(int64_t n, const TensorOptions& options, Generator* gen) {
  STRIATE_CHECK(n >= 0, ValueError, "randperm: n must be non-negative, got ", n);
  const DType dtype = options.dtype();
  if (is_floating_point(dtype)) {
    STRIATE_CHECK(n <= exact_integer_limit(dtype) + 1, ValueError, "randperm: n (", n,
                  ") is too large for ", dtype_name(dtype), ", which holds integers exactly only up to ",
                  exact_integer_limit(dtype));
  } else {
    STRIATE_CHECK(n == 0 || static_cast<double>(n - 1) <= integer_bounds(dtype).second, ValueError,
                  "randperm: n (", n, ") is too large for ", dtype_name(dtype));
  }
  Generator& g = pick(gen);
  kernels::RandpermParams p;
  p.n = n;
  p.seed = g.seed();
  p.offset = g.reserve(n > 1 ? static_cast<uint64_t>(n) / 2 : 0);  // ceil((n - 1) / 2): two steps a counter
  Tensor perm = empty({n}, TensorOptions(kLong).device(options.device()));
  p.out = perm.data_ptr<int64_t>();
  kernels::randperm_kernel.get(options.device())(p);
  Tensor out = perm.to(dtype);
  if (options.requires_grad()) out.requires_grad_(true);
  return out;
}

Tensor& uniform_(Tensor& t, double from, double to, Generator* gen) {
  ops::check_defined(t, "uniform_", "self");
  check_floating(t.dtype(), "uniform_");
  STRIATE_CHECK(from <= to, ValueError, "uniform_: expects to return a [from, to) range, but found from=", from,
                " > to=", to);
  STRIATE_CHECK(std::isfinite(from) && std::isfinite(to), ValueError,
                "uniform_: from and to must be finite, got from=", from, " and to=", to);
  return fill_inplace(t, "uniform_", uniform_params(from, to), gen);
}

Tensor& normal_(Tensor& t, double mean, double std, Generator* gen) {
  ops::check_defined(t, "normal_", "self");
  check_floating(t.dtype(), "normal_");
  STRIATE_CHECK(std >= 0, ValueError, "normal_: expects std >= 0.0, but found std ", std);
  return fill_inplace(t, "normal_", normal_params(mean, std), gen);
}

Tensor& bernoulli_(Tensor& t, double p, Generator* gen) {
  ops::check_defined(t, "bernoulli_", "self");
  STRIATE_CHECK(p >= 0 && p <= 1, ValueError, "bernoulli_: expects 0 <= p <= 1, but got p=", p);
  RandomParams params;
  params.dist = Distribution::Bernoulli;
  params.a = p;
  return fill_inplace(t, "bernoulli_", params, gen);
}

}  // namespace striate
