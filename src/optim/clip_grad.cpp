#include "striate/optim/clip_grad.h"

#include <algorithm>
#include <cmath>

#include "striate/core/autograd.h"
#include "striate/core/error.h"
#include "striate/core/ops/elementwise.h"
#include "striate/core/ops/reduce.h"

namespace striate::optim {

namespace {

// The norm of one gradient, accumulated in double on the host.
double grad_norm(const Tensor& g, double p) {
  if (g.numel() == 0) return 0.0;
  if (std::isinf(p)) return g.abs().max().item<double>();
  if (p == 1) return g.abs().sum().item<double>();
  if (p == 2) return std::sqrt(g.mul(g).sum().item<double>());
  return std::pow(g.abs().pow(p).sum().item<double>(), 1.0 / p);
}

}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  STRIATE_CHECK(norm_type > 0, ValueError, "clip_grad_norm_: norm_type must be positive or INFINITY, got ",
                norm_type);
  NoGradGuard no_grad;
  std::vector<Tensor> grads;
  for (const Tensor& p : parameters)
    if (p.defined() && p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return 0.0;

  double total_norm = 0;
  if (std::isinf(norm_type)) {
    for (const Tensor& g : grads) total_norm = std::max(total_norm, grad_norm(g, norm_type));
  } else {
    // The norm of the per-gradient norms, as PyTorch stacks and reduces them.
    double sum = 0;
    for (const Tensor& g : grads) sum += std::pow(grad_norm(g, norm_type), norm_type);
    total_norm = norm_type == 2 ? std::sqrt(sum) : std::pow(sum, 1.0 / norm_type);
  }
  STRIATE_CHECK(!error_if_nonfinite || std::isfinite(total_norm), ValueError, "clip_grad_norm_: the total norm of ",
                "order ", norm_type, " of the gradients is ", total_norm,
                ", so they cannot be clipped (pass error_if_nonfinite = false to scale them anyway)");
  const double clip_coef = max_norm / (total_norm + 1e-6);
  // Like PyTorch, a NaN coefficient is applied (it poisons the gradients
  // visibly rather than being skipped by the comparison).
  if (!(clip_coef >= 1.0))
    for (Tensor g : grads) g.mul_(clip_coef);
  return total_norm;
}

double clip_grad_norm_(const Tensor& parameter, double max_norm, double norm_type, bool error_if_nonfinite) {
  return clip_grad_norm_(std::vector<Tensor>{parameter}, max_norm, norm_type, error_if_nonfinite);
}

void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value) {
  STRIATE_CHECK(clip_value >= 0, ValueError, "clip_grad_value_: clip_value must be >= 0, got ", clip_value);
  NoGradGuard no_grad;
  for (const Tensor& p : parameters) {
    if (!p.defined() || !p.grad().defined()) continue;
    Tensor g = p.grad();
    g.clamp_(-clip_value, clip_value);
  }
}

void clip_grad_value_(const Tensor& parameter, double clip_value) {
  clip_grad_value_(std::vector<Tensor>{parameter}, clip_value);
}

}  // namespace striate::optim
