// Loss modules: forward(input, target) over ops/loss.h.
#pragma once

#include "striate/core/ops/loss.h"
#include "striate/layers/module.h"
#include "striate/layers/options.h"

namespace striate::nn {

struct CrossEntropyLossOptions {
  STRIATE_ARG(Tensor, weight) = {};
  STRIATE_ARG(int64_t, ignore_index) = -100;
  STRIATE_ARG(Reduction, reduction) = kMean;
  STRIATE_ARG(double, label_smoothing) = 0.0;
};
using NLLLossOptions = CrossEntropyLossOptions;  // label_smoothing unused

// The class weight is registered as a buffer, so to(device) moves it.
class CrossEntropyLossImpl : public Module {
 public:
  explicit CrossEntropyLossImpl(const CrossEntropyLossOptions& options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
  CrossEntropyLossOptions options;
  Tensor weight;
};
STRIATE_MODULE(CrossEntropyLoss);

class NLLLossImpl : public Module {
 public:
  explicit NLLLossImpl(const NLLLossOptions& options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
  NLLLossOptions options;
  Tensor weight;
};
STRIATE_MODULE(NLLLoss);

struct ReductionOptions {
  ReductionOptions(Reduction reduction = kMean) : reduction_(reduction) {}  // NOLINT
  STRIATE_ARG(Reduction, reduction);
};
using MSELossOptions = ReductionOptions;
using L1LossOptions = ReductionOptions;

class MSELossImpl : public Module {
 public:
  explicit MSELossImpl(const MSELossOptions& options = {}) : Module("MSELoss"), options(options) {}
  Tensor forward(const Tensor& input, const Tensor& target) { return mse_loss(input, target, options.reduction()); }
  MSELossOptions options;
};
STRIATE_MODULE(MSELoss);

class L1LossImpl : public Module {
 public:
  explicit L1LossImpl(const L1LossOptions& options = {}) : Module("L1Loss"), options(options) {}
  Tensor forward(const Tensor& input, const Tensor& target) { return l1_loss(input, target, options.reduction()); }
  L1LossOptions options;
};
STRIATE_MODULE(L1Loss);

struct BCEWithLogitsLossOptions {
  STRIATE_ARG(Tensor, weight) = {};
  STRIATE_ARG(Tensor, pos_weight) = {};
  STRIATE_ARG(Reduction, reduction) = kMean;
};

class BCEWithLogitsLossImpl : public Module {
 public:
  explicit BCEWithLogitsLossImpl(const BCEWithLogitsLossOptions& options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
  BCEWithLogitsLossOptions options;
  Tensor weight, pos_weight;
};
STRIATE_MODULE(BCEWithLogitsLoss);

}  // namespace striate::nn
