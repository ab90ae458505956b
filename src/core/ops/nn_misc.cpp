// dropout, constant pad, one_hot and accuracy, written with the core ops
// (random fills, views and copies, comparisons, reductions).
#include "striate/core/ops/nn_misc.h"

#include <algorithm>

#include "core/ops/internal.h"
#include "striate/core/ops/elementwise.h"
#include "striate/core/ops/factory.h"
#include "striate/core/ops/reduce.h"

namespace striate {

using autograd::SavedTensor;

Tensor dropout(const Tensor& input, double p, bool training, Generator* gen) {
  ops::check_defined(input, "dropout", "input");
  STRIATE_CHECK(p >= 0 && p <= 1, ValueError, "dropout: probability has to be between 0 and 1, got ", p);
  STRIATE_CHECK(input.is_floating_point(), DTypeError, "dropout: expected a floating-point input, got ",
                input.dtype());
  if (!training || p == 0 || input.numel() == 0) return input;
  // The mask holds 0 or 1 / (1 - p), so forward and backward are one multiply each.
  Tensor mask;
  if (p == 1) {
    mask = zeros_like(input, input.options().requires_grad(false));
  } else {
    mask = empty(input.sizes(), TensorOptions(input.dtype()).device(input.device()), input.suggest_memory_format());
    NoGradGuard no_grad;
    bernoulli_(mask, 1 - p, gen);
    mask.mul_(1 / (1 - p));
  }
  Tensor out;
  {
    NoGradGuard no_grad;
    out = input.detach() * mask;
  }
  if (autograd::any_requires_grad({input}))
    autograd::record("DropoutBackward", {input}, {out}, [saved_mask = SavedTensor(mask)](const TensorList& g) {
      return TensorList{g[0] * saved_mask.unpack("dropout")};
    });
  return out;
}

Tensor pad(const Tensor& input, const std::vector<int64_t>& pads, const std::string& mode, double value) {
  ops::check_defined(input, "pad", "input");
  if (mode == "reflect" || mode == "replicate" || mode == "circular")
    throw NotImplementedError("pad: mode \"" + mode + "\" is not implemented yet; only \"constant\" is");
  STRIATE_CHECK(mode == "constant", ValueError, "pad: unknown padding mode \"", mode,
                "\"; expected \"constant\", \"reflect\", \"replicate\" or \"circular\"");
  STRIATE_CHECK(pads.size() % 2 == 0, ValueError, "pad: expected an even number of padding values, got ",
                pads.size(), " (", pads, ")");
  const int64_t padded_dims = static_cast<int64_t>(pads.size()) / 2;
  STRIATE_CHECK(padded_dims <= input.dim(), ShapeError, "pad: ", pads.size(), " padding values pad ", padded_dims,
                " dims, but the input of shape ", input.sizes(), " has only ", input.dim());

  // The output's size, and the block of the input that survives (with where it lands).
  Shape out_sizes = input.sizes();
  Tensor src = input.detach();
  Shape dst_start(input.dim(), 0), kept(input.sizes());
  for (int64_t k = 0; k < padded_dims; ++k) {
    const int64_t d = input.dim() - 1 - k;
    const int64_t before = pads[2 * k], after = pads[2 * k + 1];
    out_sizes[d] = input.size(d) + before + after;
    STRIATE_CHECK(out_sizes[d] >= 0, ShapeError, "pad: padding (", before, ", ", after, ") of dim ", d,
                  " with size ", input.size(d), " gives a negative size ", out_sizes[d]);
    const int64_t crop_before = std::max<int64_t>(0, -before), crop_after = std::max<int64_t>(0, -after);
    kept[d] = std::max<int64_t>(0, input.size(d) - crop_before - crop_after);
    dst_start[d] = std::max<int64_t>(0, before);
    if (kept[d] > 0) src = src.narrow(d, crop_before, kept[d]);
  }
  const MemoryFormat fmt = input.dim() == 4 ? input.suggest_memory_format() : MemoryFormat::Contiguous;
  Tensor out = empty(out_sizes, TensorOptions(input.dtype()).device(input.device()), fmt);
  ops::fill_raw(out, value);
  if (shape_numel(kept) > 0) {
    Tensor dst = out;
    for (int64_t d = 0; d < input.dim(); ++d)
      if (kept[d] != out_sizes[d]) dst = dst.narrow(d, dst_start[d], kept[d]);
    ops::copy_raw(dst, src);
  }
  if (autograd::any_requires_grad({input})) {
    std::vector<int64_t> inverse(pads.size());
    for (size_t i = 0; i < pads.size(); ++i) inverse[i] = -pads[i];
    // Cropping the gradient by the padding (and zero-padding what was cropped) is pad with negated amounts.
    autograd::record("ConstantPadBackward", {input}, {out},
                     [inverse](const TensorList& g) { return TensorList{pad(g[0], inverse)}; });
  }
  return out;
}

Tensor one_hot(const Tensor& tensor, int64_t num_classes) {
  ops::check_defined(tensor, "one_hot", "tensor");
  STRIATE_CHECK(tensor.dtype() == kLong, DTypeError, "one_hot: expected an int64 tensor of class indices, got ",
                tensor.dtype());
  STRIATE_CHECK(num_classes >= -1, ValueError, "one_hot: num_classes must be -1 (inferred) or non-negative, got ",
                num_classes);
  Shape out_sizes = tensor.sizes();
  if (tensor.numel() == 0) {
    STRIATE_CHECK(num_classes >= 0, ValueError,
                  "one_hot: cannot infer the number of classes from an empty tensor; pass num_classes");
    out_sizes.push_back(num_classes);
    return zeros(out_sizes, TensorOptions(kLong).device(tensor.device()));
  }
  NoGradGuard no_grad;
  const int64_t lowest = min(tensor).item<int64_t>(), highest = max(tensor).item<int64_t>();
  STRIATE_CHECK(lowest >= 0, IndexError, "one_hot: class values must be non-negative, got ", lowest);
  if (num_classes == -1) num_classes = highest + 1;
  STRIATE_CHECK(highest < num_classes, IndexError, "one_hot: class value ", highest,
                " is out of range for num_classes = ", num_classes, " (expected values in [0, ", num_classes, "))");
  const Tensor classes = arange(num_classes, TensorOptions(kLong).device(tensor.device()));
  return eq(tensor.unsqueeze(-1), classes).to(kLong);
}

double accuracy(const Tensor& logits, const Tensor& target) {
  ops::check_defined(logits, "accuracy", "logits");
  ops::check_defined(target, "accuracy", "target");
  ops::check_same_device(logits, target, "accuracy");
  STRIATE_CHECK(logits.dim() == 2, ShapeError, "accuracy: expected logits of shape [N, C], got ", logits.sizes());
  STRIATE_CHECK(target.dim() == 1 && target.size(0) == logits.size(0), ShapeError,
                "accuracy: expected target of shape [", logits.size(0), "] for logits of shape ", logits.sizes(),
                ", got ", target.sizes());
  STRIATE_CHECK(!target.is_floating_point() && target.dtype() != kBool, DTypeError,
                "accuracy: expected integer class indices as target, got ", target.dtype());
  STRIATE_CHECK(logits.size(0) > 0 && logits.size(1) > 0, ValueError,
                "accuracy: expected a non-empty batch and at least one class, got logits of shape ", logits.sizes());
  NoGradGuard no_grad;
  const int64_t correct = sum(eq(argmax(logits.detach(), 1), target.to(kLong))).item<int64_t>();
  return static_cast<double>(correct) / static_cast<double>(logits.size(0));
}

}  // namespace striate
