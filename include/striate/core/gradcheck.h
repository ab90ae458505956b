// Finite-difference check of analytic gradients, as torch.autograd.gradcheck.
#pragma once

#include <functional>
#include <string>

#include "striate/core/autograd.h"

namespace striate {

struct GradcheckOptions {
  double eps = 1e-6;   // central-difference step
  double atol = 1e-5;
  double rtol = 1e-3;
  bool raise_exception = true;  // throw an AutogradError describing the worst mismatch
};

// `fn` maps the inputs to one output tensor (any shape). Every floating input
// with requires_grad is checked: each column of the Jacobian from central
// differences against the one backward() gives. Inputs should be f64.
bool gradcheck(const std::function<Tensor(const TensorList&)>& fn, const TensorList& inputs,
               const GradcheckOptions& options = {});

}  // namespace striate
