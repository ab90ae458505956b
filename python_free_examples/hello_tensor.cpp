// hello_tensor: the first Striate program to read.
//
// Tensors and views, broadcasting, a matrix product, then autograd fitting a
// line y = 2x + 1 by plain gradient descent. Build and run it with
//   bash scripts/demo.sh
// It exits non-zero if the fit does not converge, so it doubles as a smoke test.
#include <striate/striate.h>

#include <cmath>
#include <cstdio>
#include <iostream>

using namespace striate;

namespace {

int run() {
  // ---- tensors and views ---------------------------------------------------
  // Views share storage: the transpose below copies nothing, it swaps strides.
  Tensor a = arange(6, TensorOptions(kFloat)).reshape({2, 3});
  Tensor at = a.t();
  std::cout << "a =\n" << a << "\n";
  std::cout << "a.t() (a view: strides " << shape_str(at.strides()) << ", contiguous "
            << std::boolalpha << at.is_contiguous() << ") =\n" << at << "\n\n";

  // ---- broadcasting ----------------------------------------------------------
  // [3, 1] + [1, 4] -> [3, 4], as in NumPy and PyTorch.
  Tensor column = tensor({0.f, 10.f, 20.f}).unsqueeze(1);
  Tensor row = tensor({1.f, 2.f, 3.f, 4.f}).unsqueeze(0);
  std::cout << "column + row =\n" << column + row << "\n\n";

  // ---- a matrix product --------------------------------------------------------
  std::cout << "a.matmul(a.t()) =\n" << a.matmul(at) << "\n\n";

  // ---- autograd: fit y = 2x + 1 --------------------------------------------
  Tensor x = linspace(-1.0, 1.0, 32).unsqueeze(1);  // [32, 1]
  Tensor y = x * 2.0 + 1.0;
  Tensor w = zeros({1}, requires_grad(true));
  Tensor b = zeros({1}, requires_grad(true));
  const double learning_rate = 0.1;

  for (int step = 0; step <= 300; ++step) {
    Tensor prediction = x * w + b;
    Tensor loss = (prediction - y).pow(2).mean();
    loss.backward();  // fills w.grad() and b.grad()
    {
      // The update itself must not be recorded on the tape.
      NoGradGuard no_grad;
      w.sub_(w.grad() * learning_rate);
      b.sub_(b.grad() * learning_rate);
      w.mutable_grad().zero_();
      b.mutable_grad().zero_();
    }
    if (step % 50 == 0) std::printf("step %3d  loss %.6f\n", step, loss.item<double>());
  }

  const float w_fit = w.item<float>();
  const float b_fit = b.item<float>();
  std::printf("fitted y = %.4f x + %.4f (expected y = 2x + 1)\n", w_fit, b_fit);
  const bool converged = std::fabs(w_fit - 2.f) < 1e-3f && std::fabs(b_fit - 1.f) < 1e-3f;
  if (!converged) std::printf("did not converge\n");
  return converged ? 0 : 1;
}

}  // namespace

int main() {
  // Every Striate error is a striate::Error whose message names the op and
  // what was expected and given.
  try {
    return run();
  } catch (const Error& e) {
    std::cout << std::flush;
    std::fprintf(stderr, "hello_tensor: %s\n", e.what());
    return 1;
  }
}
