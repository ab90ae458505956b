#include "striate/layers/init.h"

#include <cmath>

#include "striate/core/autograd.h"
#include "striate/core/ops/factory.h"

namespace striate::nn::init {

double calculate_gain(Nonlinearity nonlinearity, double param) {
  switch (nonlinearity) {
    case Nonlinearity::Linear:
    case Nonlinearity::Conv:
    case Nonlinearity::Sigmoid: return 1;
    case Nonlinearity::Tanh: return 5.0 / 3;
    case Nonlinearity::ReLU: return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU: return std::sqrt(2.0 / (1 + param * param));
    case Nonlinearity::SELU: return 3.0 / 4;
  }
  return 1;
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor) {
  STRIATE_CHECK(tensor.dim() >= 2, ShapeError,
                "init: fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (shape ",
                tensor.sizes(), ")");
  int64_t receptive = 1;
  for (int64_t d = 2; d < tensor.dim(); ++d) receptive *= tensor.size(d);
  return {tensor.size(1) * receptive, tensor.size(0) * receptive};
}

static thread_local bool skip_init = false;

SkipInitGuard::SkipInitGuard() : previous_(skip_init) { skip_init = true; }
SkipInitGuard::~SkipInitGuard() { skip_init = previous_; }
bool SkipInitGuard::active() { return skip_init; }

Tensor& uniform_(Tensor& tensor, double a, double b, Generator* gen) {
  NoGradGuard no_grad;
  if (skip_init) return tensor.zero_();
  return striate::uniform_(tensor, a, b, gen);
}

Tensor& normal_(Tensor& tensor, double mean, double std, Generator* gen) {
  NoGradGuard no_grad;
  if (skip_init) return tensor.zero_();
  return striate::normal_(tensor, mean, std, gen);
}

Tensor& constant_(Tensor& tensor, double value) {
  NoGradGuard no_grad;
  return tensor.fill_(value);
}
Tensor& zeros_(Tensor& tensor) { return constant_(tensor, 0); }
Tensor& ones_(Tensor& tensor) { return constant_(tensor, 1); }

Tensor& xavier_uniform_(Tensor& tensor, double gain, Generator* gen) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  const double std = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
  const double bound = std::sqrt(3.0) * std;
  return init::uniform_(tensor, -bound, bound, gen);
}

Tensor& xavier_normal_(Tensor& tensor, double gain, Generator* gen) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  return init::normal_(tensor, 0, gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)), gen);
}

static double kaiming_std(const Tensor& tensor, double a, FanMode mode, Nonlinearity nonlinearity) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  const int64_t fan = mode == FanMode::FanIn ? fan_in : fan_out;
  STRIATE_CHECK(fan > 0, ShapeError, "init: initializing a zero-element tensor (shape ", tensor.sizes(), ")");
  return calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
}

Tensor& kaiming_uniform_(Tensor& tensor, double a, FanMode mode, Nonlinearity nonlinearity, Generator* gen) {
  const double bound = std::sqrt(3.0) * kaiming_std(tensor, a, mode, nonlinearity);
  return init::uniform_(tensor, -bound, bound, gen);
}

Tensor& kaiming_normal_(Tensor& tensor, double a, FanMode mode, Nonlinearity nonlinearity, Generator* gen) {
  return init::normal_(tensor, 0, kaiming_std(tensor, a, mode, nonlinearity), gen);
}

}  // namespace striate::nn::init
