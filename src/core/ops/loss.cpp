// Losses: argument checks, the fused class-loss kernels for cross_entropy and
// nll_loss, and mse / l1 / bce-with-logits written with elementwise ops, each
// recorded as one autograd node with its own backward formula.
#include "striate/core/ops/loss.h"

#include "core/ops/internal.h"
#include "kernels/loss.h"
#include "striate/core/ops/elementwise.h"
#include "striate/core/ops/factory.h"
#include "striate/core/ops/reduce.h"

namespace striate {

using autograd::SavedTensor;

namespace {

bool is_half_precision(DType t) { return t == kHalf || t == kBFloat16; }

Tensor reduce_loss(const Tensor& per_element, Reduction reduction) {
  switch (reduction) {
    case Reduction::None: return per_element;
    case Reduction::Sum: return sum(per_element);
    case Reduction::Mean: return mean(per_element);
  }
  throw ValueError("loss: unknown reduction");
}

// The gradient of reduce_loss(x) w.r.t. x, broadcastable to x's shape.
Tensor unreduce_loss_grad(const Tensor& grad, Reduction reduction, int64_t numel) {
  if (reduction == Reduction::Mean) return grad / static_cast<double>(numel);
  return grad;
}

void check_floating(const Tensor& t, const char* op, const char* what) {
  STRIATE_CHECK(t.is_floating_point(), DTypeError, op, ": expected ", what, " to be a floating-point tensor, got ",
                t.dtype());
}

// ---- cross_entropy and nll_loss --------------------------------------------

struct ClassProblem {
  kernels::ClassLossShape shape;
  Shape loss_sizes;  // the shape of reduction=None's result (the target's)
};

ClassProblem check_class_problem(const Tensor& input, const Tensor& target, const Tensor& weight, const char* op) {
  ops::check_defined(input, op, "input");
  ops::check_defined(target, op, "target");
  ops::check_same_device(input, target, op);
  check_floating(input, op, "input");
  STRIATE_CHECK(target.dtype() == kLong, DTypeError, op,
                ": expected target of dtype int64 holding class indices, got ", target.dtype(),
                target.is_floating_point()
                    ? "; class-probability (soft) targets are not supported: pass the class index of each sample"
                    : "; convert it with to(kLong)");
  STRIATE_CHECK(input.dim() >= 1, ShapeError, op, ": expected input of shape [C], [N, C] or [N, C, d1, ...], got ",
                input.sizes());
  ClassProblem pb;
  if (input.dim() == 1) {
    pb.shape.classes = input.size(0);
  } else {
    pb.shape.outer = input.size(0);
    pb.shape.classes = input.size(1);
    pb.loss_sizes.push_back(input.size(0));
    for (int64_t d = 2; d < input.dim(); ++d) {
      pb.shape.inner *= input.size(d);
      pb.loss_sizes.push_back(input.size(d));
    }
  }
  STRIATE_CHECK(target.sizes() == pb.loss_sizes, ShapeError, op, ": expected target of shape ", pb.loss_sizes,
                " for input of shape ", input.sizes(), ", got ", target.sizes());
  STRIATE_CHECK(pb.shape.classes > 0, ShapeError, op, ": expected at least one class, got input of shape ",
                input.sizes());
  if (weight.defined()) {
    ops::check_same_device(input, weight, op);
    check_floating(weight, op, "weight");
    STRIATE_CHECK(weight.dim() == 1 && weight.size(0) == pb.shape.classes, ShapeError, op,
                  ": expected a weight of shape [", pb.shape.classes, "] (one per class), got ", weight.sizes());
  }
  return pb;
}

void check_labels(const Tensor& target, int64_t classes, int64_t ignore_index, const char* op) {
  const Tensor host = target.cpu().contiguous();
  const int64_t* labels = host.data_ptr<int64_t>();
  for (int64_t k = 0; k < host.numel(); ++k) {
    const int64_t y = labels[k];
    STRIATE_CHECK(y == ignore_index || (y >= 0 && y < classes), IndexError, op, ": target label ", y,
                  " (at flat position ", k, ") is out of range for ", classes, " classes: expected a value in [0, ",
                  classes, ") or ignore_index (", ignore_index, ")");
  }
}

Tensor class_loss(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction,
                  int64_t ignore_index, double label_smoothing, bool from_logits, const char* op,
                  const char* node_name) {
  const ClassProblem pb = check_class_problem(input, target, weight, op);
  if (is_half_precision(input.dtype())) {
    const Tensor w = weight.defined() ? weight.to(kFloat) : weight;
    return class_loss(input.to(kFloat), target, w, reduction, ignore_index, label_smoothing, from_logits, op,
                      node_name)
        .to(input.dtype());
  }
  const DType dtype = input.dtype();
  const Tensor scores = input.detach().contiguous();
  const Tensor labels = target.contiguous();
  const Tensor w = weight.defined() ? weight.detach().to(dtype).contiguous() : Tensor();
  check_labels(labels, pb.shape.classes, ignore_index, op);

  kernels::ClassLossArgs args;
  args.input = scores.data_ptr();
  args.target = labels.data_ptr<int64_t>();
  args.weight = w.defined() ? w.data_ptr() : nullptr;
  args.shape = pb.shape;
  args.dtype = dtype;
  args.ignore_index = ignore_index;
  args.label_smoothing = label_smoothing;
  args.from_logits = from_logits;

  const TensorOptions options = TensorOptions(dtype).device(input.device());
  Tensor loss = empty(pb.loss_sizes, options);
  Tensor logsumexp = from_logits ? empty(pb.loss_sizes, options) : Tensor();
  Tensor totals = empty({2}, TensorOptions(kDouble).device(input.device()));
  kernels::ClassLossForwardParams fp{args, loss.data_ptr(), from_logits ? logsumexp.data_ptr() : nullptr,
                                     totals.data_ptr<double>()};
  kernels::class_loss_forward_kernel.get(input.device())(fp);

  Tensor out;
  switch (reduction) {
    case Reduction::None: out = loss; break;
    case Reduction::Sum: out = totals.select(0, 0).to(dtype, /*copy=*/true); break;
    // Ignored samples leave the denominator; with all of them ignored it is 0/0 = NaN, as in PyTorch.
    case Reduction::Mean: out = div(totals.select(0, 0), totals.select(0, 1)).to(dtype); break;
  }

  if (autograd::any_requires_grad({input})) {
    autograd::record(node_name, {input}, {out},
                     [args, reduction, op, saved_scores = SavedTensor(scores), saved_labels = SavedTensor(labels),
                      saved_lse = SavedTensor(logsumexp), saved_w = SavedTensor(w), totals](const TensorList& g) {
                       const Tensor scores = saved_scores.unpack(op), labels = saved_labels.unpack(op);
                       const Tensor lse = saved_lse.unpack(op), w = saved_w.unpack(op);
                       Tensor grad_loss = g[0];
                       if (reduction == Reduction::Mean) grad_loss = grad_loss.to(kDouble) / totals.select(0, 1);
                       grad_loss = grad_loss.to(args.dtype).contiguous();
                       Tensor grad_input = empty(scores.sizes(), scores.options());
                       kernels::ClassLossBackwardParams bp;
                       bp.args = args;
                       bp.args.input = scores.data_ptr();
                       bp.args.target = labels.data_ptr<int64_t>();
                       bp.args.weight = w.defined() ? w.data_ptr() : nullptr;
                       bp.logsumexp = lse.defined() ? lse.data_ptr() : nullptr;
                       bp.grad_loss = grad_loss.data_ptr();
                       bp.grad_stride = reduction == Reduction::None ? 1 : 0;
                       bp.grad_input = grad_input.data_ptr();
                       kernels::class_loss_backward_kernel.get(scores.device())(bp);
                       return TensorList{grad_input};
                     });
  }
  return out;
}

// ---- elementwise losses -------------------------------------------------------

void check_same_shape(const Tensor& input, const Tensor& target, const char* op) {
  STRIATE_CHECK(input.sizes() == target.sizes(), ShapeError, op, ": expected target of the input's shape ",
                input.sizes(), ", got ", target.sizes());
}

Tensor distance_loss(const Tensor& input, const Tensor& target, Reduction reduction, bool absolute, const char* op,
                     const char* node_name) {
  ops::check_defined(input, op, "input");
  ops::check_defined(target, op, "target");
  ops::check_same_device(input, target, op);
  check_floating(input, op, "input");
  check_floating(target, op, "target");
  check_same_shape(input, target, op);
  Tensor diff, out;
  {
    NoGradGuard no_grad;
    diff = input.detach() - target.detach();
    out = reduce_loss(absolute ? abs(diff) : diff * diff, reduction);
  }
  if (autograd::any_requires_grad({input, target})) {
    const bool need_input = input.requires_grad(), need_target = target.requires_grad();
    const DType input_dtype = input.dtype(), target_dtype = target.dtype();
    const int64_t numel = input.numel();
    autograd::record(node_name, {input, target}, {out},
                     [=, saved_diff = SavedTensor(diff)](const TensorList& g) {
                       const Tensor d = saved_diff.unpack(op);
                       const Tensor slope = absolute ? sign(d) : d * 2;
                       const Tensor grad = slope * unreduce_loss_grad(g[0], reduction, numel);
                       return TensorList{need_input ? grad.to(input_dtype) : Tensor(),
                                         need_target ? (-grad).to(target_dtype) : Tensor()};
                     });
  }
  return out;
}

void check_broadcasts_to(const Tensor& t, const Shape& sizes, const char* op, const char* what) {
  const int64_t rank = static_cast<int64_t>(sizes.size());
  bool ok = t.dim() <= rank;
  for (int64_t i = 1; ok && i <= t.dim(); ++i) ok = t.size(-i) == sizes[rank - i] || t.size(-i) == 1;
  STRIATE_CHECK(ok, ShapeError, op, ": expected ", what, " broadcastable to the input's shape ", sizes, ", got ",
                t.sizes());
}

}  // namespace

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction,
                     int64_t ignore_index, double label_smoothing) {
  STRIATE_CHECK(label_smoothing >= 0 && label_smoothing <= 1, ValueError,
                "cross_entropy: label_smoothing must be in [0, 1], got ", label_smoothing);
  return class_loss(input, target, weight, reduction, ignore_index, label_smoothing, /*from_logits=*/true,
                    "cross_entropy", "CrossEntropyBackward");
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction,
                int64_t ignore_index) {
  return class_loss(input, target, weight, reduction, ignore_index, 0.0, /*from_logits=*/false, "nll_loss",
                    "NllLossBackward");
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  return distance_loss(input, target, reduction, /*absolute=*/false, "mse_loss", "MseLossBackward");
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  return distance_loss(input, target, reduction, /*absolute=*/true, "l1_loss", "L1LossBackward");
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, Reduction reduction) {
  const char* op = "binary_cross_entropy_with_logits";
  ops::check_defined(input, op, "input");
  ops::check_defined(target, op, "target");
  ops::check_same_device(input, target, op);
  check_floating(input, op, "input");
  check_floating(target, op, "target");
  check_same_shape(input, target, op);
  const DType dtype = input.dtype();
  Tensor w, pw;
  if (weight.defined()) {
    ops::check_same_device(input, weight, op);
    check_floating(weight, op, "weight");
    check_broadcasts_to(weight, input.sizes(), op, "weight");
    w = weight.detach().to(dtype);
  }
  if (pos_weight.defined()) {
    ops::check_same_device(input, pos_weight, op);
    check_floating(pos_weight, op, "pos_weight");
    check_broadcasts_to(pos_weight, input.sizes(), op, "pos_weight");
    pw = pos_weight.detach().to(dtype);
  }
  Tensor x, t, softplus_neg, log_weight, out;
  {
    NoGradGuard no_grad;
    x = input.detach();
    t = target.detach().to(dtype);
    // log(1 + exp(-x)), split so that exp only sees non-positive arguments.
    softplus_neg = clamp_min(-x, 0) + log(exp(-abs(x)) + 1);
    if (pw.defined()) log_weight = (pw - 1) * t + 1;
    Tensor loss = (1 - t) * x + (log_weight.defined() ? log_weight * softplus_neg : softplus_neg);
    if (w.defined()) loss = loss * w;
    out = reduce_loss(loss, reduction);
  }
  if (autograd::any_requires_grad({input, target})) {
    const bool need_input = input.requires_grad(), need_target = target.requires_grad();
    const DType target_dtype = target.dtype();
    const int64_t numel = input.numel();
    autograd::record("BinaryCrossEntropyWithLogitsBackward", {input, target}, {out},
                     [=, sx = SavedTensor(x), st = SavedTensor(t), ssp = SavedTensor(softplus_neg),
                      slw = SavedTensor(log_weight)](const TensorList& g) {
                       const Tensor x = sx.unpack(op), t = st.unpack(op);
                       Tensor grad = unreduce_loss_grad(g[0], reduction, numel);
                       if (w.defined()) grad = grad * w;
                       Tensor grad_input, grad_target;
                       if (need_input) {
                         // d/dx log(1 + exp(-x)) = -sigmoid(-x) = -1 / (1 + exp(x)); exp(x) = inf gives 0.
                         const Tensor sigmoid_neg = 1 / (exp(x) + 1);
                         const Tensor lw = slw.unpack(op);
                         grad_input = grad * ((1 - t) - (lw.defined() ? lw * sigmoid_neg : sigmoid_neg));
                       }
                       if (need_target) {
                         Tensor slope = -x;
                         if (pw.defined()) slope = slope + (pw - 1) * ssp.unpack(op);
                         grad_target = (grad * slope).to(target_dtype);
                       }
                       return TensorList{grad_input, grad_target};
                     });
  }
  return out;
}

}  // namespace striate
