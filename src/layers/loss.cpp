#include "striate/layers/loss.h"

namespace striate::nn {

CrossEntropyLossImpl::CrossEntropyLossImpl(const CrossEntropyLossOptions& o) : Module("CrossEntropyLoss"), options(o) {
  if (o.weight().defined()) weight = register_buffer("weight", o.weight());
}

Tensor CrossEntropyLossImpl::forward(const Tensor& input, const Tensor& target) {
  return cross_entropy(input, target, weight, options.reduction(), options.ignore_index(), options.label_smoothing());
}

NLLLossImpl::NLLLossImpl(const NLLLossOptions& o) : Module("NLLLoss"), options(o) {
  if (o.weight().defined()) weight = register_buffer("weight", o.weight());
}

Tensor NLLLossImpl::forward(const Tensor& input, const Tensor& target) {
  return nll_loss(input, target, weight, options.reduction(), options.ignore_index());
}

BCEWithLogitsLossImpl::BCEWithLogitsLossImpl(const BCEWithLogitsLossOptions& o)
    : Module("BCEWithLogitsLoss"), options(o) {
  if (o.weight().defined()) weight = register_buffer("weight", o.weight());
  if (o.pos_weight().defined()) pos_weight = register_buffer("pos_weight", o.pos_weight());
}

Tensor BCEWithLogitsLossImpl::forward(const Tensor& input, const Tensor& target) {
  return binary_cross_entropy_with_logits(input, target, weight, pos_weight, options.reduction());
}

}  // namespace striate::nn
