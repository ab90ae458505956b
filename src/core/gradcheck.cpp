// gradcheck: the analytic Jacobian from the tape against central differences.
#include "striate/core/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "striate/core/ops/factory.h"

namespace striate {
namespace {

// Turns recording on for a scope, whatever the caller had.
class EnableGradGuard {
 public:
  EnableGradGuard() : prev_(GradMode::is_enabled()) { GradMode::set_enabled(true); }
  ~EnableGradGuard() { GradMode::set_enabled(prev_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool prev_;
};

// Where each element of `t` lives in its storage (in elements), in the
// row-major order of its logical index: the order to_vector() uses.
std::vector<int64_t> storage_offsets(const Tensor& t) {
  std::vector<int64_t> offsets;
  offsets.reserve(static_cast<size_t>(t.numel()));
  if (t.numel() == 0) return offsets;
  const Shape& sizes = t.sizes();
  const Shape& strides = t.strides();
  Shape index(sizes.size(), 0);
  for (int64_t n = 0; n < t.numel(); ++n) {
    int64_t pos = t.storage_offset();
    for (size_t d = 0; d < sizes.size(); ++d) pos += index[d] * strides[d];
    offsets.push_back(pos);
    for (size_t d = sizes.size(); d-- > 0;) {
      if (++index[d] < sizes[d]) break;
      index[d] = 0;
    }
  }
  return offsets;
}

// "[1, 2]": the multi-index of row-major element `flat` of a tensor of `sizes`.
std::string index_str(int64_t flat, const Shape& sizes) {
  Shape index(sizes.size());
  for (size_t d = sizes.size(); d-- > 0;) {
    index[d] = flat % sizes[d];
    flat /= sizes[d];
  }
  return shape_str(index);
}

std::vector<double> values_of(const Tensor& t) { return t.detach().to_vector<double>(); }

// Restores a perturbed element however the evaluation in between ends.
class RestoreOnExit {
 public:
  RestoreOnExit(double* p, double value) : p_(p), value_(value) {}
  ~RestoreOnExit() { *p_ = value_; }
  RestoreOnExit(const RestoreOnExit&) = delete;
  RestoreOnExit& operator=(const RestoreOnExit&) = delete;

 private:
  double* p_;
  double value_;
};

void check_memory_layout(const TensorList& inputs, const std::vector<size_t>& checked) {
  std::vector<std::pair<const Storage*, std::vector<int64_t>>> seen;
  for (size_t i : checked) {
    std::vector<int64_t> offsets = storage_offsets(inputs[i]);
    std::sort(offsets.begin(), offsets.end());
    STRIATE_CHECK(std::adjacent_find(offsets.begin(), offsets.end()) == offsets.end(), ValueError,
                  "gradcheck: input ", i, " (shape ", inputs[i].sizes(), ", strides ", inputs[i].strides(),
                  ") has elements that share memory, so one cannot be perturbed alone; pass a clone()");
    for (const auto& [storage, other] : seen) {
      if (storage != inputs[i].storage().get()) continue;
      std::vector<int64_t> common;
      std::set_intersection(offsets.begin(), offsets.end(), other.begin(), other.end(), std::back_inserter(common));
      STRIATE_CHECK(common.empty(), ValueError, "gradcheck: input ", i,
                    " shares memory with another input that requires grad; pass a clone() of one of them");
    }
    seen.emplace_back(inputs[i].storage().get(), std::move(offsets));
  }
}

Tensor evaluate(const std::function<Tensor(const TensorList&)>& fn, const TensorList& inputs) {
  Tensor out = fn(inputs);
  STRIATE_CHECK(out.defined(), ValueError, "gradcheck: the function returned an undefined tensor");
  STRIATE_CHECK(out.is_floating_point(), DTypeError,
                "gradcheck: the function must return a floating-point tensor, got ", out.dtype());
  return out;
}

}  // namespace

bool gradcheck(const std::function<Tensor(const TensorList&)>& fn, const TensorList& inputs,
               const GradcheckOptions& options) {
  STRIATE_CHECK(options.eps > 0 && std::isfinite(options.eps), ValueError, "gradcheck: eps must be positive, got ",
                options.eps);
  STRIATE_CHECK(options.atol >= 0 && options.rtol >= 0, ValueError, "gradcheck: atol and rtol must be >= 0, got ",
                options.atol, " and ", options.rtol);
  std::vector<size_t> checked;  // indices of the inputs whose Jacobian is checked
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
    STRIATE_CHECK(inputs[i].dtype() == kDouble, DTypeError, "gradcheck: input ", i, " requires grad but is ",
                  inputs[i].dtype(), "; finite differences need float64 inputs (use .to(kDouble))");
    STRIATE_CHECK(inputs[i].is_cpu(), DeviceError, "gradcheck: input ", i, " is on ", inputs[i].device(),
                  "; gradcheck perturbs host memory, so check on the CPU");
    checked.push_back(i);
  }
  STRIATE_CHECK(!checked.empty(), ValueError, "gradcheck: at least one input must require grad (got ",
                inputs.size(), " inputs, none requiring grad)");
  check_memory_layout(inputs, checked);

  // ---- analytic: row k of each Jacobian is the gradient for a one-hot seed at output element k.
  std::vector<std::vector<double>> analytic(checked.size());
  Shape out_sizes;
  int64_t m = 0;
  {
    EnableGradGuard grad_on;
    Tensor out = evaluate(fn, inputs);
    out_sizes = out.sizes();
    m = out.numel();
    for (size_t c = 0; c < checked.size(); ++c)
      analytic[c].assign(static_cast<size_t>(m * inputs[checked[c]].numel()), 0.0);
    if (out.requires_grad()) {
      TensorList wrt;
      for (size_t i : checked) wrt.push_back(inputs[i]);
      for (int64_t k = 0; k < m; ++k) {
        Tensor seed = zeros({m}, out.options());
        seed.narrow(0, k, 1).fill_(1);
        TensorList grads = autograd::grad({out}, wrt, {seed.view(out_sizes)}, /*retain_graph=*/true,
                                          /*allow_unused=*/true);
        for (size_t c = 0; c < checked.size(); ++c) {
          const Tensor& g = grads[c];
          if (!g.defined()) continue;  // the output does not depend on this input: a zero row
          const Tensor& in = inputs[checked[c]];
          if (g.sizes() != in.sizes() || g.dtype() != in.dtype()) {
            std::string msg = detail::concat("gradcheck: the gradient for input ", checked[c], " has shape ",
                                             g.sizes(), " and dtype ", g.dtype(), ", but the input has shape ",
                                             in.sizes(), " and dtype ", in.dtype());
            if (options.raise_exception) throw AutogradError(msg);
            return false;
          }
          const std::vector<double> row = values_of(g);
          std::copy(row.begin(), row.end(), analytic[c].begin() + k * in.numel());
        }
      }
    }
  }

  // ---- numeric, one column per input element; compared as soon as it is known.
  NoGradGuard no_grad;
  for (size_t c = 0; c < checked.size(); ++c) {
    const size_t input_index = checked[c];
    const Tensor& in = inputs[input_index];
    const int64_t n = in.numel();
    // Writing through the storage bypasses the version counter on purpose:
    // the perturbation is undone before anything could observe it.
    double* storage = static_cast<double*>(in.storage()->data());
    const std::vector<int64_t> offsets = storage_offsets(in);

    double worst_excess = -std::numeric_limits<double>::infinity();
    int64_t worst_k = -1, worst_j = -1, mismatches = 0;
    double worst_numeric = 0, worst_analytic = 0;
    for (int64_t j = 0; j < n; ++j) {
      double* element = storage + offsets[j];
      const double original = *element;
      std::vector<double> plus, minus;
      {
        RestoreOnExit restore(element, original);
        *element = original + options.eps;
        plus = values_of(evaluate(fn, inputs));
        *element = original - options.eps;
        minus = values_of(evaluate(fn, inputs));
      }
      STRIATE_CHECK(static_cast<int64_t>(plus.size()) == m && static_cast<int64_t>(minus.size()) == m, ShapeError,
                    "gradcheck: the function's output changed size when input ", input_index,
                    " was perturbed (", m, " elements, then ", plus.size(), " and ", minus.size(), ")");
      for (int64_t k = 0; k < m; ++k) {
        const double numeric = (plus[k] - minus[k]) / (2 * options.eps);
        const double a = analytic[c][k * n + j];
        const double allowed = options.atol + options.rtol * std::abs(numeric);
        double excess = std::abs(a - numeric) - allowed;
        if (std::isnan(excess)) excess = std::numeric_limits<double>::infinity();  // NaN never matches
        if (excess > 0) ++mismatches;
        if (excess > worst_excess) {
          worst_excess = excess;
          worst_k = k;
          worst_j = j;
          worst_numeric = numeric;
          worst_analytic = a;
        }
      }
    }
    if (mismatches == 0) continue;
    if (!options.raise_exception) return false;
    std::ostringstream msg;
    msg.precision(8);
    msg << "gradcheck: Jacobian mismatch for input " << input_index << " (shape " << shape_str(in.sizes())
        << "): at output element " << worst_k << ' ' << index_str(worst_k, out_sizes) << " w.r.t. input element "
        << worst_j << ' ' << index_str(worst_j, in.sizes()) << ", numerical " << worst_numeric << " but analytical "
        << worst_analytic << " (|difference| " << std::abs(worst_analytic - worst_numeric) << " > atol "
        << options.atol << " + rtol " << options.rtol << " * |numerical|); " << mismatches << " of " << m * n
        << " entries differ";
    throw AutogradError(msg.str());
  }
  return true;
}

}  // namespace striate
