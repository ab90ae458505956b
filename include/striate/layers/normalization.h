// BatchNorm1d/2d, LayerNorm and LocalResponseNorm modules.
#pragma once

#include "striate/layers/module.h"
#include "striate/layers/options.h"

namespace striate::nn {

struct BatchNormOptions {
  BatchNormOptions(int64_t num_features) : num_features_(num_features) {}  // NOLINT
  STRIATE_ARG(int64_t, num_features);
  STRIATE_ARG(double, eps) = 1e-5;
  STRIATE_ARG(double, momentum) = 0.1;
  STRIATE_ARG(bool, affine) = true;
  STRIATE_ARG(bool, track_running_stats) = true;
};
using BatchNorm1dOptions = BatchNormOptions;
using BatchNorm2dOptions = BatchNormOptions;

// Parameters weight/bias (ones/zeros) and buffers running_mean,
// running_var, num_batches_tracked, named as in PyTorch's state_dict.
class BatchNormImpl : public Module {
 public:
  BatchNormImpl(const char* type_name, int64_t input_rank_min, int64_t input_rank_max, const BatchNormOptions& options);
  Tensor forward(const Tensor& input) override;
  void reset_running_stats();
  void pretty_print(std::ostream& os) const override;

  BatchNormOptions options;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  int64_t rank_min_, rank_max_;
};

class BatchNorm1dImpl : public BatchNormImpl {
 public:
  explicit BatchNorm1dImpl(const BatchNormOptions& options) : BatchNormImpl("BatchNorm1d", 2, 3, options) {}
};
STRIATE_MODULE(BatchNorm1d);

class BatchNorm2dImpl : public BatchNormImpl {
 public:
  explicit BatchNorm2dImpl(const BatchNormOptions& options) : BatchNormImpl("BatchNorm2d", 4, 4, options) {}
};
STRIATE_MODULE(BatchNorm2d);

struct LayerNormOptions {
  LayerNormOptions(Shape normalized_shape) : normalized_shape_(std::move(normalized_shape)) {}  // NOLINT
  STRIATE_ARG(Shape, normalized_shape);
  STRIATE_ARG(double, eps) = 1e-5;
  STRIATE_ARG(bool, elementwise_affine) = true;
};

class LayerNormImpl : public Module {
 public:
  explicit LayerNormImpl(const LayerNormOptions& options);
  Tensor forward(const Tensor& input) override;
  void pretty_print(std::ostream& os) const override;
  LayerNormOptions options;
  Tensor weight, bias;
};
STRIATE_MODULE(LayerNorm);

struct LocalResponseNormOptions {
  LocalResponseNormOptions(int64_t size) : size_(size) {}  // NOLINT
  STRIATE_ARG(int64_t, size);
  STRIATE_ARG(double, alpha) = 1e-4;
  STRIATE_ARG(double, beta) = 0.75;
  STRIATE_ARG(double, k) = 1.0;
};

class LocalResponseNormImpl : public Module {
 public:
  explicit LocalResponseNormImpl(const LocalResponseNormOptions& options)
      : Module("LocalResponseNorm"), options(options) {}
  Tensor forward(const Tensor& input) override;
  void pretty_print(std::ostream& os) const override;
  LocalResponseNormOptions options;
};
STRIATE_MODULE(LocalResponseNorm);

}  // namespace striate::nn
