// conv1d / conv2d: argument checks, padding resolution, output shapes, the
// kernel calls (src/kernels/conv.h) and one ConvolutionBackward node.
//
// conv1d is conv2d over [N, C, 1, L] with a [O, C/g, 1, kL] weight; `dims`
// tells the shared checks how many spatial entries to show, so that a conv1d
// caller reads about its own arguments.
#include "striate/core/ops/conv.h"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "core/ops/internal.h"
#include "kernels/conv.h"
#include "striate/core/backend.h"
#include "striate/core/ops/factory.h"

namespace striate {

using autograd::SavedTensor;

int64_t conv_output_size(int64_t input_size, int64_t kernel_size, int64_t stride, int64_t padding,
                         int64_t dilation) {
  STRIATE_CHECK(input_size >= 0 && kernel_size > 0 && stride > 0 && padding >= 0 && dilation > 0, ValueError,
                "conv_output_size: expected input_size >= 0, kernel_size > 0, stride > 0, padding >= 0 and "
                "dilation > 0, got ",
                input_size, ", ", kernel_size, ", ", stride, ", ", padding, ", ", dilation);
  const int64_t padded = input_size + 2 * padding, extent = dilation * (kernel_size - 1) + 1;
  STRIATE_CHECK(extent <= padded, ShapeError, "conv_output_size: the padded input size (", padded,
                ") is smaller than the dilated kernel size (", extent, ")");
  return (padded - extent) / stride + 1;
}

namespace {

using Pair = std::array<int64_t, 2>;  // (H, W); H is 1 for conv1d

struct ConvArgs {
  Pair stride, padding, dilation;
  PaddingMode mode;
  int64_t groups;
};

struct ConvOp {
  const char* name;
  int dims;  // spatial dims as the caller sees them: 1 or 2
};

// The last `dims` entries, as the caller wrote them.
std::vector<int64_t> shown(const ConvOp& op, const Pair& v) {
  return op.dims == 1 ? std::vector<int64_t>{v[1]} : std::vector<int64_t>{v[0], v[1]};
}

// (before, after) padding of one dim. "same" pads D(F - 1) in total; an odd
// total puts the extra element after, as PyTorch does.
std::pair<int64_t, int64_t> resolve_padding(PaddingMode mode, int64_t amount, int64_t kernel, int64_t dilation) {
  if (mode == PaddingMode::Valid) return {0, 0};
  if (mode == PaddingMode::Same) {
    const int64_t total = dilation * (kernel - 1);
    return {total / 2, total - total / 2};
  }
  return {amount, amount};
}

// Checks the arguments against the 4-D views x [N, C, H, W] and w [O, C/g, kH, kW]
// and works out the geometry; messages show the caller's own shapes.
kernels::ConvParams make_params(const ConvOp& op, const Tensor& input, const Tensor& weight, const Tensor& bias,
                                const Tensor& x, const Tensor& w, const ConvArgs& a) {
  STRIATE_CHECK(a.groups > 0, ValueError, op.name, ": groups must be positive, got ", a.groups);
  for (int d = 0; d < 2; ++d) {
    STRIATE_CHECK(a.stride[d] > 0, ValueError, op.name, ": stride must be positive, got ", shown(op, a.stride));
    STRIATE_CHECK(a.dilation[d] > 0, ValueError, op.name, ": dilation must be positive, got ",
                  shown(op, a.dilation));
    STRIATE_CHECK(a.padding[d] >= 0, ValueError, op.name, ": negative padding is not supported, got ",
                  shown(op, a.padding));
  }
  STRIATE_CHECK(a.mode != PaddingMode::Same || (a.stride[0] == 1 && a.stride[1] == 1), ValueError, op.name,
                ": padding='same' is not supported for strided convolutions, got stride ", shown(op, a.stride));
  STRIATE_CHECK(w.size(0) > 0 && w.size(1) > 0 && w.size(2) > 0 && w.size(3) > 0, ShapeError, op.name,
                ": expected a weight with no zero-size dim, got ", weight.sizes());
  STRIATE_CHECK(w.size(0) % a.groups == 0, ValueError, op.name, ": out_channels (", w.size(0),
                ") must be divisible by groups (", a.groups, ")");
  STRIATE_CHECK(x.size(1) == w.size(1) * a.groups, ShapeError, op.name, ": given groups=", a.groups,
                ", weight of size ", weight.sizes(), ", expected input", input.sizes(), " to have ",
                w.size(1) * a.groups, " channels, but got ", x.size(1), " channels instead");
  if (bias.defined())
    STRIATE_CHECK(bias.dim() == 1 && bias.size(0) == w.size(0), ShapeError, op.name, ": expected bias of shape [",
                  w.size(0), "] (one per output channel), got ", bias.sizes());

  kernels::ConvParams p{};
  p.dtype = x.dtype();
  p.batch = x.size(0);
  p.channels = x.size(1);
  p.height = x.size(2);
  p.width = x.size(3);
  p.out_channels = w.size(0);
  p.kernel_h = w.size(2);
  p.kernel_w = w.size(3);
  p.stride_h = a.stride[0];
  p.stride_w = a.stride[1];
  p.dilation_h = a.dilation[0];
  p.dilation_w = a.dilation[1];
  p.groups = a.groups;
  const auto [top, bottom] = resolve_padding(a.mode, a.padding[0], p.kernel_h, p.dilation_h);
  const auto [left, right] = resolve_padding(a.mode, a.padding[1], p.kernel_w, p.dilation_w);
  p.pad_top = top;
  p.pad_left = left;
  const Pair padded{p.height + top + bottom, p.width + left + right};
  const Pair extent{p.dilation_h * (p.kernel_h - 1) + 1, p.dilation_w * (p.kernel_w - 1) + 1};
  STRIATE_CHECK(extent[0] <= padded[0] && extent[1] <= padded[1], ShapeError, op.name,
                ": the dilated kernel ", shown(op, extent), " is larger than the padded input ", shown(op, padded),
                " (input ", input.sizes(), ", weight ", weight.sizes(), ")");
  p.out_h = (padded[0] - extent[0]) / p.stride_h + 1;
  p.out_w = (padded[1] - extent[1]) / p.stride_w + 1;
  return p;
}

// f16/bf16 are computed in f32.
DType compute_dtype(DType t) { return t == kDouble ? kDouble : kFloat; }

Tensor convolution(const ConvOp& op, const Tensor& input, const Tensor& weight, const Tensor& bias,
                   const ConvArgs& args) {
  ops::check_defined(input, op.name, "input");
  ops::check_defined(weight, op.name, "weight");
  const int spatial = op.dims;
  STRIATE_CHECK(input.dim() == spatial + 1 || input.dim() == spatial + 2, ShapeError, op.name, ": expected a ",
                spatial + 1, "-D ", spatial == 1 ? "[C, L]" : "[C, H, W]", " or ", spatial + 2, "-D ",
                spatial == 1 ? "[N, C, L]" : "[N, C, H, W]", " input, got ", input.dim(), "-D input of shape ",
                input.sizes());
  STRIATE_CHECK(weight.dim() == spatial + 2, ShapeError, op.name, ": expected a ", spatial + 2,
                "-D weight [out_channels, in_channels / groups, ", spatial == 1 ? "kL" : "kH, kW", "], got shape ",
                weight.sizes());
  STRIATE_CHECK(is_floating_point(input.dtype()), DTypeError, op.name, ": expected a floating-point input, got ",
                input.dtype());
  STRIATE_CHECK(weight.dtype() == input.dtype(), DTypeError, op.name, ": input (", input.dtype(), ") and weight (",
                weight.dtype(), ") must have the same dtype");
  STRIATE_CHECK(!bias.defined() || bias.dtype() == input.dtype(), DTypeError, op.name, ": input (", input.dtype(),
                ") and bias (", bias.dtype(), ") must have the same dtype");
  ops::check_same_device(input, weight, op.name);
  if (bias.defined()) ops::check_same_device(input, bias, op.name);

  // 4-D views with no history: the one node recorded below covers them.
  const bool batched = input.dim() == spatial + 2;
  Tensor x4 = batched ? input.detach() : input.detach().unsqueeze(0);
  Tensor w4 = weight.detach();
  if (spatial == 1) {
    x4 = x4.unsqueeze(2);
    w4 = w4.unsqueeze(2);
  }
  kernels::ConvParams p = make_params(op, input, weight, bias, x4, w4, args);
  // A channels-last input runs the channels-last kernels (NHWC in and out,
  // the weight as OHWI), as in PyTorch; the weight's gradient comes back in
  // the weight's own layout.
  p.channels_last = x4.dim() == 4 && spatial == 2 && batched &&
                    input.suggest_memory_format() == MemoryFormat::ChannelsLast;
  const MemoryFormat layout = p.channels_last ? MemoryFormat::ChannelsLast : MemoryFormat::Contiguous;
  const MemoryFormat weight_layout = w4.suggest_memory_format();

  const DType ct = compute_dtype(input.dtype());
  p.dtype = ct;
  // f16 and bf16 values are exact in TF32 (as many mantissa bits or fewer,
  // a narrower exponent), so their f32 convolutions take the tensor cores
  // whatever the setting; the products are exact, the sums f32 either way.
  p.allow_tf32 = ct == kFloat && (input.dtype() != kFloat || allow_tf32(OpFamily::Conv));
  p.deterministic = are_deterministic_algorithms_enabled();  // the backward passes follow the forward's choice
  const Tensor x = x4.to(ct).contiguous(layout), w = w4.to(ct).contiguous(layout);
  const Tensor b = bias.defined() ? bias.detach().to(ct).contiguous() : Tensor();
  Tensor out = empty({p.batch, p.out_channels, p.out_h, p.out_w}, x.options(), layout);
  kernels::conv2d_forward_kernel.run(x.device(), kernels::conv_key(p), p, x.data_ptr(), w.data_ptr(),
                                     b.defined() ? b.data_ptr() : nullptr, out.data_ptr());
  out = out.to(input.dtype());
  if (spatial == 1) out = out.squeeze(2);
  if (!batched) out = out.squeeze(0);

  if (autograd::any_requires_grad({input, weight, bias})) {
    const bool need_x = input.requires_grad(), need_w = weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    autograd::record(
        "ConvolutionBackward", {input, weight, bias}, {out},
        [p, need_x, need_w, need_b, layout, weight_layout, x_shape = input.sizes(), w_shape = weight.sizes(),
         x4_shape = x.sizes(), dtype = input.dtype(), saved_x = SavedTensor(need_w ? x : Tensor()),
         saved_w = SavedTensor(need_x ? w : Tensor())](const TensorList& grads) {
          const Tensor go = grads[0].to(p.dtype).contiguous(layout);
          TensorList result(3);
          if (need_x) {
            const Tensor wt = saved_w.unpack("ConvolutionBackward");
            Tensor gx = empty(x4_shape, go.options(), layout);
            kernels::conv2d_grad_input_kernel.run(go.device(), kernels::conv_key(p), p, wt.data_ptr(), go.data_ptr(),
                                                  gx.data_ptr());
            // (reshape only where the shape differs: reshaping a batch of one
            // re-derives its batch stride, which would lose the channels-last layout)
            result[0] = (x_shape == x4_shape ? gx : gx.reshape(x_shape)).to(dtype);
          }
          if (need_w || need_b) {
            Tensor gw = need_w ? empty(w_shape, go.options(), layout) : Tensor();
            Tensor gb = need_b ? empty({p.out_channels}, go.options()) : Tensor();
            const Tensor xs = need_w ? saved_x.unpack("ConvolutionBackward") : Tensor();
            kernels::conv2d_grad_weight_kernel.run(go.device(), kernels::conv_key(p), p,
                                                   need_w ? xs.data_ptr() : nullptr, go.data_ptr(),
                                                   need_w ? gw.data_ptr() : nullptr, need_b ? gb.data_ptr() : nullptr);
            if (need_w) result[1] = gw.contiguous(weight_layout).to(dtype);
            if (need_b) result[2] = gb.to(dtype);
          }
          return result;
        });
  }
  return out;
}

}  // namespace

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, ExpandingArray<2> stride,
              ConvPadding<2> padding, ExpandingArray<2> dilation, int64_t groups) {
  return convolution({"conv2d", 2}, input, weight, bias,
                     {stride.values(), padding.amounts().values(), dilation.values(), padding.mode(), groups});
}

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, ExpandingArray<1> stride,
              ConvPadding<1> padding, ExpandingArray<1> dilation, int64_t groups) {
  return convolution({"conv1d", 1}, input, weight, bias,
                     {{1, stride[0]}, {0, padding.amounts()[0]}, {1, dilation[0]}, padding.mode(), groups});
}

}  // namespace striate
