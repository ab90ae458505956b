// batch_norm, layer_norm and local_response_norm: argument checks, the
// layouts the kernels take, running-statistics updates and backward.
//
// 16-bit float inputs are normalised in float32 (converted on the way in and
// out); per-channel quantities ([C] vectors) are formed in double.
#include "striate/core/ops/normalization.h"

#include <cmath>
#include <string>

#include "core/ops/internal.h"
#include "kernels/normalization.h"
#include "striate/core/ops/elementwise.h"
#include "striate/core/ops/factory.h"

namespace striate {

using autograd::SavedTensor;

namespace {

// Which of (input, weight, bias) a normalization's backward must return, and
// the dtypes of the optional affine parameters (the input's when absent).
struct WantedGrads {
  bool input, weight, bias;
  DType weight_dtype, bias_dtype;
};
WantedGrads wanted_grads(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  return {input.requires_grad(), weight.defined() && weight.requires_grad(), bias.defined() && bias.requires_grad(),
          weight.defined() ? weight.dtype() : input.dtype(), bias.defined() ? bias.dtype() : input.dtype()};
}

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

// ---- batch norm through the library's fused calls -----------------------------

kernels::BatchNormLibraryShape library_shape(const Tensor& x, const ChannelLayout& layout) {
  if (layout.format == MemoryFormat::ChannelsLast) return {x.size(0), x.size(1), x.size(2), x.size(3), true};
  return {layout.shape.outer, layout.shape.channels, layout.shape.inner, 1, false};
}

// Whether batch norm runs through the library's fused calls: CUDA tensors
// under the Library backend, in the cases the library covers (the rest runs
// the native kernels and says so once). Auto runs the native kernels: the
// fused forward updates the running statistics in place, so it cannot run
// twice to be timed.
bool use_library_batch_norm(const Tensor& input, const kernels::BatchNormLibraryShape& shape, bool training,
                            bool needs_grad) {
  if (!input.is_cuda() || kernel_backend(OpFamily::Normalization) != KernelBackend::Library) return false;
  const char* limit = kernels::batch_norm_forward_library_kernel.library == nullptr
                          ? "this build has no cuDNN"
                          : kernels::batch_norm_library_limit(shape, input.dtype());
  if (limit == nullptr && !training && needs_grad)
    limit = "a gradient in evaluation mode (cuDNN's backward is the training-mode one)";
  if (limit == nullptr) return true;
  kernels::registry::log_once(std::string("striate: cuDNN batch_norm: ") + limit + "; running the native kernels");
  return false;
}

// `t` as a contiguous tensor of `dtype` that the library may read and write:
// t itself when it already is one, else a copy (see write_back).
Tensor library_buffer(const Tensor& t, DType dtype) {
  return t.defined() ? t.detach().to(dtype).contiguous() : Tensor();
}

// Puts what the library wrote into `buffer` into the running statistic `t`
// (a copy only when the buffer is one), as an in-place write autograd sees.
void write_back(const Tensor& t, const Tensor& buffer) {
  if (buffer.data_ptr() != t.data_ptr()) ops::copy_raw(t, buffer);
  t.storage()->bump_version();
}

Tensor batch_norm_library(const Tensor& input, const ChannelLayout& layout,
                          const kernels::BatchNormLibraryShape& shape, const Tensor& running_mean,
                          const Tensor& running_var, const Tensor& weight, const Tensor& bias, bool training,
                          double momentum, double eps) {
  const char* op = "batch_norm";
  const DType dtype = input.dtype();
  const TensorOptions options = TensorOptions(dtype).device(input.device());
  const Shape per_channel{shape.c};
  const Tensor w = weight.defined() ? library_buffer(weight, dtype) : ones(per_channel, options);
  const Tensor b = bias.defined() ? library_buffer(bias, dtype) : zeros(per_channel, options);
  const Tensor rm = library_buffer(running_mean, dtype), rv = library_buffer(running_var, dtype);
  const Tensor save_mean = training ? empty(per_channel, options) : Tensor();
  const Tensor save_invstd = training ? empty(per_channel, options) : Tensor();
  Tensor out = empty(input.sizes(), options, layout.format);
  kernels::BatchNormLibraryForwardParams fp;
  fp.input = layout.data.data_ptr();
  fp.output = out.data_ptr();
  fp.weight = w.data_ptr();
  fp.bias = b.data_ptr();
  fp.running_mean = rm.defined() ? rm.data_ptr() : nullptr;
  fp.running_var = rv.defined() ? rv.data_ptr() : nullptr;
  fp.save_mean = training ? save_mean.data_ptr() : nullptr;
  fp.save_invstd = training ? save_invstd.data_ptr() : nullptr;
  fp.shape = shape;
  fp.training = training;
  fp.momentum = momentum;
  fp.eps = eps;
  fp.dtype = dtype;
  kernels::batch_norm_forward_library_kernel.get(input.device())(fp);
  if (training && running_mean.defined()) {
    write_back(running_mean, rm);
    write_back(running_var, rv);
  }

  // Evaluation-mode gradients never come here (use_library_batch_norm).
  if (training && autograd::any_requires_grad({input, weight, bias})) {
    const auto [need_input, need_weight, need_bias, weight_dtype, bias_dtype] = wanted_grads(input, weight, bias);
    autograd::record(
        "BatchNormBackward", {input, weight, bias}, {out},
        [=, saved_input = SavedTensor(layout.data), format = layout.format](const TensorList& g) {
          const Tensor x = saved_input.unpack(op);
          const Tensor grad_out = g[0].to(dtype).contiguous(format);
          Tensor grad_input = empty(x.sizes(), options, format);
          Tensor grad_weight = empty(per_channel, options), grad_bias = empty(per_channel, options);
          kernels::BatchNormLibraryBackwardParams bp;
          bp.grad_out = grad_out.data_ptr();
          bp.input = x.data_ptr();
          bp.weight = w.data_ptr();
          bp.save_mean = save_mean.data_ptr();
          bp.save_invstd = save_invstd.data_ptr();
          bp.grad_input = grad_input.data_ptr();
          bp.grad_weight = grad_weight.data_ptr();
          bp.grad_bias = grad_bias.data_ptr();
          bp.shape = shape;
          bp.eps = eps;
          bp.dtype = dtype;
          kernels::batch_norm_backward_library_kernel.get(x.device())(bp);
          return TensorList{need_input ? grad_input : Tensor(), need_weight ? grad_weight.to(weight_dtype) : Tensor(),
                            need_bias ? grad_bias.to(bias_dtype) : Tensor()};
        });
  }
  return out;
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
  if (const auto shape = library_shape(input, layout);
      use_library_batch_norm(input, shape, training, autograd::any_requires_grad({input, weight, bias})))
    return batch_norm_library(input, layout, shape, running_mean, running_var, weight, bias, training, momentum, eps);
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
    const auto [need_input, need_weight, need_bias, weight_dtype, bias_dtype] = wanted_grads(input, weight, bias);
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
    const auto [need_input, need_weight, need_bias, weight_dtype, bias_dtype] = wanted_grads(input, weight, bias);
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
