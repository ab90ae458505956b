// Linear, Flatten, Identity and Dropout.
#pragma once

#include "striate/layers/module.h"
#include "striate/layers/options.h"

namespace striate::nn {

struct LinearOptions {
  LinearOptions(int64_t in_features, int64_t out_features) : in_features_(in_features), out_features_(out_features) {}
  STRIATE_ARG(int64_t, in_features);
  STRIATE_ARG(int64_t, out_features);
  STRIATE_ARG(bool, bias) = true;
};

// y = x W^T + b, with PyTorch's default initialisation (kaiming-uniform
// weight with a = sqrt(5), bias uniform in ±1/sqrt(in_features)).
class LinearImpl : public Module {
 public:
  explicit LinearImpl(const LinearOptions& options);
  LinearImpl(int64_t in_features, int64_t out_features) : LinearImpl(LinearOptions(in_features, out_features)) {}
  Tensor forward(const Tensor& input) override;
  void reset_parameters();
  void pretty_print(std::ostream& os) const override;

  LinearOptions options;
  Tensor weight;
  Tensor bias;
};
STRIATE_MODULE(Linear);

struct FlattenOptions {
  STRIATE_ARG(int64_t, start_dim) = 1;
  STRIATE_ARG(int64_t, end_dim) = -1;
};

class FlattenImpl : public Module {
 public:
  explicit FlattenImpl(const FlattenOptions& options = {}) : Module("Flatten"), options(options) {}
  Tensor forward(const Tensor& input) override { return input.flatten(options.start_dim(), options.end_dim()); }
  void pretty_print(std::ostream& os) const override;
  FlattenOptions options;
};
STRIATE_MODULE(Flatten);

class IdentityImpl : public Module {
 public:
  IdentityImpl() : Module("Identity") {}
  Tensor forward(const Tensor& input) override { return input; }
};
STRIATE_MODULE(Identity);

struct DropoutOptions {
  DropoutOptions(double p = 0.5) : p_(p) {}  // NOLINT
  STRIATE_ARG(double, p);
};

// Zeroes elements with probability p in training mode (scaling the rest by
// 1/(1-p)); the identity in eval mode.
class DropoutImpl : public Module {
 public:
  explicit DropoutImpl(const DropoutOptions& options = {});
  Tensor forward(const Tensor& input) override;
  void pretty_print(std::ostream& os) const override;
  DropoutOptions options;
};
STRIATE_MODULE(Dropout);

}  // namespace striate::nn
