#include "striate/layers/normalization.h"

#include "striate/core/autograd.h"
#include "striate/core/ops/factory.h"
#include "striate/core/ops/normalization.h"

namespace striate::nn {

BatchNormImpl::BatchNormImpl(const char* type_name, int64_t rank_min, int64_t rank_max, const BatchNormOptions& o)
    : Module(type_name), options(o), rank_min_(rank_min), rank_max_(rank_max) {
  STRIATE_CHECK(o.num_features() > 0, ValueError, type_name, ": num_features must be positive, got ",
                o.num_features());
  if (o.affine()) {
    weight = register_parameter("weight", ones({o.num_features()}));
    bias = register_parameter("bias", zeros({o.num_features()}));
  }
  if (o.track_running_stats()) {
    running_mean = register_buffer("running_mean", zeros({o.num_features()}));
    running_var = register_buffer("running_var", ones({o.num_features()}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, TensorOptions(kLong)));
  }
}

void BatchNormImpl::reset_running_stats() {
  if (!options.track_running_stats()) return;
  NoGradGuard no_grad;
  running_mean.zero_();
  running_var.fill_(1);
  num_batches_tracked.zero_();
}

Tensor BatchNormImpl::forward(const Tensor& input) {
  STRIATE_CHECK(input.dim() >= rank_min_ && input.dim() <= rank_max_, ShapeError, type_name(), ": expected ",
                rank_min_ == rank_max_ ? std::to_string(rank_min_) : std::to_string(rank_min_) + "-D or " +
                                                                         std::to_string(rank_max_),
                "-D input, got ", input.dim(), "-D input of shape ", input.sizes());
  if (is_training() && options.track_running_stats()) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(1);
  }
  // Batch statistics while training, or always when no running statistics
  // are tracked; batch_norm updates the running buffers when it uses batch
  // statistics and they are defined.
  const bool use_batch_stats = is_training() || !options.track_running_stats();
  return batch_norm(input, running_mean, running_var, weight, bias, use_batch_stats, options.momentum(),
                    options.eps());
}

void BatchNormImpl::pretty_print(std::ostream& os) const {
  os << type_name() << "(" << options.num_features() << ", eps=" << options.eps() << ", momentum="
     << options.momentum() << ", affine=" << (options.affine() ? "true" : "false")
     << ", track_running_stats=" << (options.track_running_stats() ? "true" : "false") << ")";
}

LayerNormImpl::LayerNormImpl(const LayerNormOptions& o) : Module("LayerNorm"), options(o) {
  STRIATE_CHECK(!o.normalized_shape().empty(), ValueError, "LayerNorm: normalized_shape must not be empty");
  if (o.elementwise_affine()) {
    weight = register_parameter("weight", ones(o.normalized_shape()));
    bias = register_parameter("bias", zeros(o.normalized_shape()));
  }
}

Tensor LayerNormImpl::forward(const Tensor& x) {
  return layer_norm(x, options.normalized_shape(), weight, bias, options.eps());
}

void LayerNormImpl::pretty_print(std::ostream& os) const {
  os << "LayerNorm(" << shape_str(options.normalized_shape()) << ", eps=" << options.eps()
     << ", elementwise_affine=" << (options.elementwise_affine() ? "true" : "false") << ")";
}

Tensor LocalResponseNormImpl::forward(const Tensor& x) {
  return local_response_norm(x, options.size(), options.alpha(), options.beta(), options.k());
}

void LocalResponseNormImpl::pretty_print(std::ostream& os) const {
  os << "LocalResponseNorm(" << options.size() << ", alpha=" << options.alpha() << ", beta=" << options.beta()
     << ", k=" << options.k() << ")";
}

}  // namespace striate::nn
