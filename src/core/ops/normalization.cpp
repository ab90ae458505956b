// batch_norm, layer_norm and local_response_norm: argument checks, the
// layouts the kernels take, running-statistics updates and backward.
//
// 16-bit float inputs are normalised in float32 (converted on the way in and
// out); per-channel quantities ([C] vectors) are formed in double.
#include "striate/core/ops/normalization.h"

#include <cmath>

#include "core/ops/internal.h"
#include "kernels/normalization.h"
#include "striate/core/ops/elementwise.h"
#include "striate/core/ops/factory.h"

namespace striate {

using autograd::SavedTensor;

namespace {

bool is_half_precision(DType t) { return t == kHalf || t == kBFloat16; }
Tensor to_float(const Tensor& t) { return t.defined() ? t.to(kFloat) : t; }

void check_floating(const Tensor& t, const char* op, const char* what) {
  STRIATE_CHECK(t.is_floating_point(), DTypeError, op, ": expected ", what, " to be a floating-point tensor, got ",
                t.dtype());
}

// An optional per-channel (or per-element) parameter: undefined, or of `sizes`.
void check_param(const Tensor& t, const Tensor& input, const Shape& sizes, const char* op, const char* what) {
  if (!t.defined()) return;
  ops::check_same_device(input, t, op);
  check_floating(t, op, what);
  STRIATE_CHECK(t.sizes() == sizes, ShapeError, op, ": expected ", what, " of shape ", sizes, ", got ", t.sizes());
}

const void* data_or_null(const Tensor& t) { return t.defined() ? t.data_ptr() : nullptr; }

TensorOptions f64_like(const Tensor& t) { return TensorOptions(kDouble).device(t.device()); }

// The input as the channel kernels see it: ChannelsLast 4-D tensors as
// [N*H*W, C, 1] without a copy, everything else contiguous [N, C, rest].
struct ChannelLayout {
  Tensor data;
  kernels::ChannelShape shape;
  MemoryFormat format = MemoryFormat::Contiguous;
};

ChannelLayout channel_layout(const Tensor& x) {
  ChannelLayout layout;
  const int64_t n = x.size(0), c = x.size(1);
  int64_t rest = 1;
  for (int64_t d = 2; d < x.dim(); ++d) rest *= x.size(d);
  if (x.dim() == 4 && !x.is_contiguous() && x.is_contiguous(MemoryFormat::ChannelsLast)) {
    layout.data = x;
    layout.shape = {n * rest, c, 1};
    layout.format = MemoryFormat::ChannelsLast;
  } else {
    layout.data = x.contiguous();
    layout.shape = {n, c, rest};
  }
  return layout;
}

// running = (1 - momentum) * running + momentum * batch, written in place.
void update_running(const Tensor& running, const Tensor& batch64, double momentum) {
  const Tensor updated = running.detach().to(kDouble) * (1 - momentum) + batch64 * momentum;
  ops::copy_raw(running, updated);
  running.storage()->bump_version();
}

}  // namespace

// ---- batch_norm ----------------------------------------------------------------

Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  const char* op = "batch_norm";
  ops::check_defined(input, op, "input");
  check_floating(input, op, "input");
  STRIATE_CHECK(input.dim() >= 2, ShapeError, op, ": expected input of at least 2 dims [N, C, ...], got ",
                input.sizes());
  const int64_t channels = input.size(1);
  const Shape per_channel{channels};
  check_param(running_mean, input, per_channel, op, "running_mean");
  check_param(running_var, input, per_channel, op, "running_var");
  check_param(weight, input, per_channel, op, "weight");
  check_param(bias, input, per_channel, op, "bias");
  STRIATE_CHECK(running_mean.defined() == running_var.defined(), ValueError, op,
                ": running_mean and running_var must both be given or both be undefined");
  STRIATE_CHECK(training || running_mean.defined(), ValueError, op,
                ": running_mean and running_var must be given in evaluation mode (training = false)");
  const int64_t count = channels > 0 ? input.numel() / channels : 0;
  STRIATE_CHECK(!training || count > 1, ValueError, op,
                ": expected more than 1 value per channel when training, got input of shape ", input.sizes());
  STRIATE_CHECK(eps >= 0, ValueError, op, ": eps must be non-negative, got ", eps);
  if (is_half_precision(input.dtype()))
    return batch_norm(input.to(kFloat), running_mean, running_var, to_float(weight), to_float(bias), training,
                      momentum, eps)
        .to(input.dtype());

  const DType dtype = input.dtype();
  const TensorOptions options = TensorOptions(dtype).device(input.device());
  const ChannelLayout layout = channel_layout(input.detach());
  Tensor mean64, invstd64;
  {
    NoGradGuard no_grad;
    if (training) {
      mean64 = empty(per_channel, f64_like(input));
      Tensor var64 = empty(per_channel, f64_like(input));
      kernels::BatchNormStatsParams sp;
      sp.input = layout.data.data_ptr();
      sp.shape = layout.shape;
      sp.dtype = dtype;
      sp.mean = mean64.data_ptr<double>();
      sp.var = var64.data_ptr<double>();
      kernels::batch_norm_stats_kernel.get(input.device())(sp);
      invstd64 = 1 / sqrt(var64 + eps);
      if (running_mean.defined()) {
        const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
        update_running(running_mean, mean64, momentum);
        update_running(running_var, var64 * unbias, momentum);
      }
    } else {
      mean64 = running_mean.detach().to(kDouble);
      invstd64 = 1 / sqrt(running_var.detach().to(kDouble) + eps);
    }
  }
  const Tensor weight64 = weight.defined() ? weight.detach().to(kDouble) : ones(per_channel, f64_like(input));
  const Tensor center = mean64.to(dtype).contiguous();
  const Tensor scale = (weight64 * invstd64).to(dtype).contiguous();
  const Tensor shift = bias.defined() ? bias.detach().to(dtype).contiguous() : zeros(per_channel, options);
  Tensor out = empty(input.sizes(), options, layout.format);
  kernels::BatchNormApplyParams ap;
  ap.input = layout.data.data_ptr();
  ap.output = out.data_ptr();
  ap.center = center.data_ptr();
  ap.scale = scale.data_ptr();
  ap.shift = shift.data_ptr();
  ap.shape = layout.shape;
  ap.dtype = dtype;
  kernels::batch_norm_apply_kernel.get(input.device())(ap);

  if (autograd::any_requires_grad({input, weight, bias})) {
    const bool need_input = input.requires_grad();
    const bool need_weight = weight.defined() && weight.requires_grad();
    const bool need_bias = bias.defined() && bias.requires_grad();
    const DType weight_dtype = weight.defined() ? weight.dtype() : dtype;
    const DType bias_dtype = bias.defined() ? bias.dtype() : dtype;
    autograd::record(
        "BatchNormBackward", {input, weight, bias}, {out},
        [=, saved_input = SavedTensor(layout.data), shape = layout.shape,
         format = layout.format](const TensorList& g) {
          const Tensor x = saved_input.unpack(op);
          const Tensor grad_out = g[0].to(dtype).contiguous(format);
          Tensor sum_grad = empty(per_channel, f64_like(x)), sum_grad_centered = empty(per_channel, f64_like(x));
          kernels::BatchNormBackwardReduceParams rp;
          rp.grad_out = grad_out.data_ptr();
          rp.input = x.data_ptr();
          rp.center = center.data_ptr();
          rp.shape = shape;
          rp.dtype = dtype;
          rp.sum_grad = sum_grad.data_ptr<double>();
          rp.sum_grad_centered = sum_grad_centered.data_ptr<double>();
          kernels::batch_norm_backward_reduce_kernel.get(x.device())(rp);

          Tensor grad_input, grad_weight, grad_bias;
          if (need_bias) grad_bias = sum_grad.to(bias_dtype);
          if (need_weight) grad_weight = (sum_grad_centered * invstd64).to(weight_dtype);
          if (need_input) {
            // Through the batch statistics (training), with xhat = (x - mean) * invstd and M values per channel:
            //   grad_x = w * invstd * (g - sum(g) / M - xhat * sum(g * xhat) / M)
            const Tensor k_grad = weight64 * invstd64;
            Tensor k_centered, k_const;
            if (training) {
              const double m = static_cast<double>(count);
              k_centered = (-k_grad * invstd64 * invstd64 * sum_grad_centered / m).to(dtype).contiguous();
              k_const = (-k_grad * sum_grad / m).to(dtype).contiguous();
            }
            const Tensor k_grad_t = k_grad.to(dtype).contiguous();
            grad_input = empty(x.sizes(), x.options(), format);
            kernels::BatchNormBackwardInputParams ip;
            ip.grad_out = grad_out.data_ptr();
            ip.input = x.data_ptr();
            ip.center = center.data_ptr();
            ip.k_grad = k_grad_t.data_ptr();
            ip.k_centered = data_or_null(k_centered);
            ip.k_const = data_or_null(k_const);
            ip.grad_input = grad_input.data_ptr();
            ip.shape = shape;
            ip.dtype = dtype;
            kernels::batch_norm_backward_input_kernel.get(x.device())(ip);
          }
          return TensorList{grad_input, grad_weight, grad_bias};
        });
  }
  return out;
}

// ---- layer_norm ---------------------------------------------------------------------

Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  const char* op = "layer_norm";
  ops::check_defined(input, op, "input");
  check_floating(input, op, "input");
  const int64_t k = static_cast<int64_t>(normalized_shape.size());
  STRIATE_CHECK(k >= 1, ValueError, op, ": expected normalized_shape to have at least one dim, got ",
                normalized_shape);
  bool matches = input.dim() >= k;
  for (int64_t i = 0; matches && i < k; ++i) matches = input.size(input.dim() - k + i) == normalized_shape[i];
  STRIATE_CHECK(matches, ShapeError, op, ": normalized_shape ", normalized_shape,
                " does not match the last dims of input of shape ", input.sizes());
  check_param(weight, input, normalized_shape, op, "weight");
  check_param(bias, input, normalized_shape, op, "bias");
  STRIATE_CHECK(eps >= 0, ValueError, op, ": eps must be non-negative, got ", eps);
  if (is_half_precision(input.dtype()))
    return layer_norm(input.to(kFloat), normalized_shape, to_float(weight), to_float(bias), eps).to(input.dtype());

  const DType dtype = input.dtype();
  const TensorOptions options = TensorOptions(dtype).device(input.device());
  const int64_t cols = shape_numel(normalized_shape);
  const int64_t rows = shape_numel(Shape(input.sizes().begin(), input.sizes().end() - k));
  const Tensor x = input.detach().contiguous();
  const Tensor w = weight.defined() ? weight.detach().to(dtype).contiguous() : Tensor();
  const Tensor b = bias.defined() ? bias.detach().to(dtype).contiguous() : Tensor();
  Tensor out = empty(input.sizes(), options);
  Tensor mean = empty({rows}, options), rstd = empty({rows}, options);
  kernels::LayerNormForwardParams fp;
  fp.input = x.data_ptr();
  fp.weight = data_or_null(w);
  fp.bias = data_or_null(b);
  fp.output = out.data_ptr();
  fp.mean = mean.data_ptr();
  fp.rstd = rstd.data_ptr();
  fp.rows = cols > 0 ? rows : 0;
  fp.cols = cols;
  fp.eps = eps;
  fp.dtype = dtype;
  kernels::layer_norm_forward_kernel.get(input.device())(fp);

  if (autograd::any_requires_grad({input, weight, bias})) {
    const bool need_input = input.requires_grad();
    const bool need_weight = weight.defined() && weight.requires_grad();
    const bool need_bias = bias.defined() && bias.requires_grad();
    const DType weight_dtype = weight.defined() ? weight.dtype() : dtype;
    const DType bias_dtype = bias.defined() ? bias.dtype() : dtype;
    autograd::record("LayerNormBackward", {input, weight, bias}, {out},
                     [=, saved_input = SavedTensor(x), saved_weight = SavedTensor(w)](const TensorList& g) {
                       const Tensor x = saved_input.unpack(op), w = saved_weight.unpack(op);
                       const Tensor grad_out = g[0].to(dtype).contiguous();
                       Tensor grad_input, grad_weight, grad_bias;
                       if (need_input) grad_input = empty(x.sizes(), options);
                       if (need_weight) grad_weight = empty(normalized_shape, options);
                       if (need_bias) grad_bias = empty(normalized_shape, options);
                       kernels::LayerNormBackwardParams bp;
                       bp.grad_out = grad_out.data_ptr();
                       bp.input = x.data_ptr();
                       bp.weight = data_or_null(w);
                       bp.mean = mean.data_ptr();
                       bp.rstd = rstd.data_ptr();
                       bp.grad_input = need_input ? grad_input.data_ptr() : nullptr;
                       bp.grad_weight = need_weight ? grad_weight.data_ptr() : nullptr;
                       bp.grad_bias = need_bias ? grad_bias.data_ptr() : nullptr;
                       bp.rows = cols > 0 ? rows : 0;
                       bp.cols = cols;
                       bp.dtype = dtype;
                       kernels::layer_norm_backward_kernel.get(x.device())(bp);
                       if (need_weight) grad_weight = grad_weight.to(weight_dtype);
                       if (need_bias) grad_bias = grad_bias.to(bias_dtype);
                       return TensorList{grad_input, grad_weight, grad_bias};
                     });
  }
  return out;
}

// ---- local_response_norm -----------------------------------------------------------------

Tensor local_response_norm(const Tensor& input, int64_t size, double alpha, double beta, double k) {
  const char* op = "local_response_norm";
  ops::check_defined(input, op, "input");
  check_floating(input, op, "input");
  STRIATE_CHECK(input.dim() >= 3, ShapeError, op, ": expected input of at least 3 dims [N, C, ...], got ",
                input.sizes());
  STRIATE_CHECK(size >= 1, ValueError, op, ": size must be at least 1, got ", size);
  if (is_half_precision(input.dtype()))
    return local_response_norm(input.to(kFloat), size, alpha, beta, k).to(input.dtype());

  const DType dtype = input.dtype();
  const TensorOptions options = TensorOptions(dtype).device(input.device());
  const Tensor x = input.detach().contiguous();
  kernels::ChannelShape shape{x.size(0), x.size(1), 1};
  for (int64_t d = 2; d < x.dim(); ++d) shape.inner *= x.size(d);
  Tensor out = empty(x.sizes(), options), denom = empty(x.sizes(), options);
  kernels::LrnForwardParams fp;
  fp.input = x.data_ptr();
  fp.output = out.data_ptr();
  fp.denom = denom.data_ptr();
  fp.shape = shape;
  fp.size = size;
  fp.alpha = alpha;
  fp.beta = beta;
  fp.k = k;
  fp.dtype = dtype;
  kernels::lrn_forward_kernel.get(input.device())(fp);

  if (autograd::any_requires_grad({input})) {
    autograd::record("LocalResponseNormBackward", {input}, {out},
                     [=, saved_input = SavedTensor(x)](const TensorList& g) {
                       const Tensor x = saved_input.unpack(op);
                       const Tensor grad_out = g[0].to(dtype).contiguous();
                       Tensor grad_input = empty(x.sizes(), options);
                       kernels::LrnBackwardParams bp;
                       bp.grad_out = grad_out.data_ptr();
                       bp.input = x.data_ptr();
                       bp.denom = denom.data_ptr();
                       bp.grad_input = grad_input.data_ptr();
                       bp.shape = shape;
                       bp.size = size;
                       bp.alpha = alpha;
                       bp.beta = beta;
                       bp.dtype = dtype;
                       kernels::lrn_backward_kernel.get(x.device())(bp);
                       return TensorList{grad_input};
                     });
  }
  return out;
}

}  // namespace striate
