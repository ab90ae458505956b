// Activation modules: thin wrappers over the functions in ops/activation.h.
#pragma once

#include <string>

#include "striate/layers/module.h"
#include "striate/layers/options.h"

namespace striate::nn {

// Modules without options: ReLU, ReLU6, SELU, SiLU, Tanh, Sigmoid, Softsign.
#define STRIATE_PLAIN_ACTIVATION(Name)                       \
  class Name##Impl : public Module {                         \
   public:                                                   \
    Name##Impl() : Module(#Name) {}                          \
    Tensor forward(const Tensor& input) override;            \
  };                                                         \
  STRIATE_MODULE(Name)
STRIATE_PLAIN_ACTIVATION(ReLU);
STRIATE_PLAIN_ACTIVATION(ReLU6);
STRIATE_PLAIN_ACTIVATION(SELU);
STRIATE_PLAIN_ACTIVATION(SiLU);
STRIATE_PLAIN_ACTIVATION(Tanh);
STRIATE_PLAIN_ACTIVATION(Sigmoid);
STRIATE_PLAIN_ACTIVATION(Softsign);
#undef STRIATE_PLAIN_ACTIVATION

struct LeakyReLUOptions {
  STRIATE_ARG(double, negative_slope) = 0.01;
};
class LeakyReLUImpl : public Module {
 public:
  explicit LeakyReLUImpl(const LeakyReLUOptions& options = {}) : Module("LeakyReLU"), options(options) {}
  Tensor forward(const Tensor& input) override;
  void pretty_print(std::ostream& os) const override;
  LeakyReLUOptions options;
};
STRIATE_MODULE(LeakyReLU);

struct ELUOptions {
  STRIATE_ARG(double, alpha) = 1.0;
};
class ELUImpl : public Module {
 public:
  explicit ELUImpl(const ELUOptions& options = {}) : Module("ELU"), options(options) {}
  Tensor forward(const Tensor& input) override;
  void pretty_print(std::ostream& os) const override;
  ELUOptions options;
};
STRIATE_MODULE(ELU);

struct GELUOptions {
  STRIATE_ARG(std::string, approximate) = "none";
};
class GELUImpl : public Module {
 public:
  explicit GELUImpl(const GELUOptions& options = {}) : Module("GELU"), options(options) {}
  Tensor forward(const Tensor& input) override;
  void pretty_print(std::ostream& os) const override;
  GELUOptions options;
};
STRIATE_MODULE(GELU);

struct SoftplusOptions {
  STRIATE_ARG(double, beta) = 1.0;
  STRIATE_ARG(double, threshold) = 20.0;
};
class SoftplusImpl : public Module {
 public:
  explicit SoftplusImpl(const SoftplusOptions& options = {}) : Module("Softplus"), options(options) {}
  Tensor forward(const Tensor& input) override;
  void pretty_print(std::ostream& os) const override;
  SoftplusOptions options;
};
STRIATE_MODULE(Softplus);

struct HardtanhOptions {
  STRIATE_ARG(double, min_val) = -1.0;
  STRIATE_ARG(double, max_val) = 1.0;
};
class HardtanhImpl : public Module {
 public:
  explicit HardtanhImpl(const HardtanhOptions& options = {});
  Tensor forward(const Tensor& input) override;
  void pretty_print(std::ostream& os) const override;
  HardtanhOptions options;
};
STRIATE_MODULE(Hardtanh);

struct PReLUOptions {
  STRIATE_ARG(int64_t, num_parameters) = 1;  // 1 (shared) or the channel count
  STRIATE_ARG(double, init) = 0.25;
};
class PReLUImpl : public Module {
 public:
  explicit PReLUImpl(const PReLUOptions& options = {});
  Tensor forward(const Tensor& input) override;
  void pretty_print(std::ostream& os) const override;
  PReLUOptions options;
  Tensor weight;
};
STRIATE_MODULE(PReLU);

// Softmax and LogSoftmax along `dim`.
class SoftmaxImpl : public Module {
 public:
  explicit SoftmaxImpl(int64_t dim) : Module("Softmax"), dim(dim) {}
  Tensor forward(const Tensor& input) override;
  void pretty_print(std::ostream& os) const override;
  int64_t dim;
};
STRIATE_MODULE(Softmax);

class LogSoftmaxImpl : public Module {
 public:
  explicit LogSoftmaxImpl(int64_t dim) : Module("LogSoftmax"), dim(dim) {}
  Tensor forward(const Tensor& input) override;
  void pretty_print(std::ostream& os) const override;
  int64_t dim;
};
STRIATE_MODULE(LogSoftmax);

}  // namespace striate::nn
