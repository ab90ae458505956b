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

// `fn` maps the inputs to one floating output tensor (any shape). For every
// input with requires_grad, the Jacobian d output / d input is computed twice:
//   numerically, by central differences (each element of the input moved by
//     +-eps in place, with recording off, then restored bit for bit), and
//   analytically, by one autograd::grad per output element, seeded with a
//     one-hot gradient;
// and each entry must satisfy |analytic - numeric| <= atol + rtol * |numeric|.
// The analytic gradient must also have the input's shape and dtype.
//
// Inputs may be non-contiguous views; they must not have elements that share
// memory with one another (an expanded tensor), nor share memory with another
// checked input, or the perturbation would move several elements at once.
//
// Every input that requires grad must be float64: in float32 the rounding
// error of a central difference (~1e-7 / eps) swamps the tolerance, so a
// float32 input is rejected with a DTypeError rather than passing or failing
// by luck (PyTorch only warns). Other inputs may have any dtype; the output
// may be any floating dtype (loosen eps and the tolerances for f32 outputs).
//
// Returns true when the Jacobians match. On a mismatch, throws an
// AutogradError naming the input, the worst entry (output element, input
// element), the numeric and analytic values, or returns false when
// !raise_exception. Misuse (no input requiring grad, an f32 input requiring
// grad, a non-floating output) always throws.
bool gradcheck(const std::function<Tensor(const TensorList&)>& fn, const TensorList& inputs,
               const GradcheckOptions& options = {});

}  // namespace striate
