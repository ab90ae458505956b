// conv1d / conv2d: argument checks, padding resolution, and im2col + GEMM
// for the forward pass and both backward passes.
#include "striate/core/ops/conv.h"

#include <algorithm>
#include <vector>

#include "core/ops/internal.h"
#include "kernels/conv.h"
#include "kernels/gemm.h"
#include "striate/core/ops/factory.h"
#include "striate/core/ops/reduce.h"

namespace striate {

int64_t conv_output_size(int64_t input_size, int64_t kernel_size, int64_t stride, int64_t padding,
                         int64_t dilation) {
  const int64_t padded = input_size + 2 * padding, extent = dilation * (kernel_size - 1) + 1;
  STRIATE_CHECK(extent <= padded, ShapeError, "conv: the padded input size (", padded,
                ") is smaller than the dilated kernel size (", extent, ")");
  return (padded - extent) / stride + 1;
}

namespace {

// Everything the kernels need about one convolution, in 2-D (conv1d runs
// as a 2-D convolution over a height of 1).
struct ConvGeometry {
  int64_t batch, channels, height, width;
  int64_t out_channels, kernel_h, kernel_w;
  int64_t stride_h, stride_w, dilation_h, dilation_w;
  int64_t pad_top, pad_bottom, pad_left, pad_right;
  int64_t out_h, out_w, groups;

  int64_t group_channels() const { return channels / groups; }
  int64_t group_out_channels() const { return out_channels / groups; }
  int64_t col_rows() const { return group_channels() * kernel_h * kernel_w; }
  int64_t out_plane() const { return out_h * out_w; }
  bool is_pointwise() const {  // a 1x1 convolution is a plain GEMM over the image
    return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 && pad_bottom == 0 &&
           pad_left == 0 && pad_right == 0;
  }

  kernels::Im2colParams im2col(DType dtype, void* image, void* col, int64_t col_ld) const {
    return {dtype,    group_channels(), height,     width,      kernel_h, kernel_w, pad_top, pad_left,
            stride_h, stride_w,         dilation_h, dilation_w, out_h,    out_w,    col_ld,  image,   col};
  }

  // Images per GEMM: several small images side by side make one wide GEMM
  // (LeNet's layers would otherwise be dozens of tiny ones), while the
  // column buffer stays under ~16M elements. 1x1 convolutions read the
  // image directly, one at a time.
  int64_t images_per_chunk() const {
    if (is_pointwise()) return 1;
    const int64_t per_image = std::max<int64_t>(col_rows() * out_plane(), 1);
    return std::clamp<int64_t>((int64_t{1} << 24) / per_image, 1, std::max<int64_t>(batch, 1));
  }
};

// Splits the total padding of one dim into (before, after).
std::pair<int64_t, int64_t> resolve_padding(PaddingMode mode, int64_t amount, int64_t kernel, int64_t dilation) {
  if (mode == PaddingMode::Valid) return {0, 0};
  if (mode == PaddingMode::Same) {
    const int64_t total = dilation * (kernel - 1);
    return {total / 2, total - total / 2};  // the odd element goes after, as in PyTorch
  }
  return {amount, amount};
}

ConvGeometry make_geometry(const char* op, const Tensor& x, const Tensor& w, const Tensor& bias,
                           const std::array<int64_t, 2>& stride, PaddingMode mode, const std::array<int64_t, 2>& pad,
                           const std::array<int64_t, 2>& dilation, int64_t groups, int spatial_dims) {
  STRIATE_CHECK(groups > 0, ValueError, op, ": groups must be positive, got ", groups);
  for (int d = 0; d < 2; ++d) {
    STRIATE_CHECK(stride[d] > 0, ValueError, op, ": stride must be positive, got ", stride[d]);
    STRIATE_CHECK(dilation[d] > 0, ValueError, op, ": dilation must be positive, got ", dilation[d]);
    STRIATE_CHECK(pad[d] >= 0, ValueError, op, ": negative padding ", pad[d], " is not supported");
  }
  STRIATE_CHECK(mode != PaddingMode::Same || (stride[0] == 1 && stride[1] == 1), ValueError, op,
                ": padding='same' is not supported for strided convolutions");
  ConvGeometry g{};
  g.batch = x.size(0);
  g.channels = x.size(1);
  g.height = x.size(2);
  g.width = x.size(3);
  g.out_channels = w.size(0);
  g.kernel_h = w.size(2);
  g.kernel_w = w.size(3);
  g.groups = groups;
  STRIATE_CHECK(g.out_channels % groups == 0, ValueError, op, ": out_channels (", g.out_channels,
                ") must be divisible by groups (", groups, ")");
  STRIATE_CHECK(g.channels % groups == 0 && w.size(1) * groups == g.channels, ShapeError, op, ": given groups=",
                groups, ", weight of size ", w.sizes(), ", expected input", x.sizes(), " to have ", w.size(1) * groups,
                " channels, but got ", g.channels, " channels instead");
  if (bias.defined())
    STRIATE_CHECK(bias.dim() == 1 && bias.size(0) == g.out_channels, ShapeError, op, ": expected bias of shape [",
                  g.out_channels, "], got ", bias.sizes());
  g.stride_h = stride[0];
  g.stride_w = stride[1];
  g.dilation_h = dilation[0];
  g.dilation_w = dilation[1];
  std::tie(g.pad_top, g.pad_bottom) = resolve_padding(mode, pad[0], g.kernel_h, g.dilation_h);
  std::tie(g.pad_left, g.pad_right) = resolve_padding(mode, pad[1], g.kernel_w, g.dilation_w);
  const int64_t padded_h = g.height + g.pad_top + g.pad_bottom, padded_w = g.width + g.pad_left + g.pad_right;
  const int64_t extent_h = g.dilation_h * (g.kernel_h - 1) + 1, extent_w = g.dilation_w * (g.kernel_w - 1) + 1;
  const bool fits = extent_h <= padded_h && extent_w <= padded_w;
  if (spatial_dims == 1)
    STRIATE_CHECK(fits, ShapeError, op, ": calculated padded input size per channel: (", padded_w,
                  "). Kernel size: (", extent_w, "). Kernel size can't be greater than actual input size");
  else
    STRIATE_CHECK(fits, ShapeError, op, ": calculated padded input size per channel: (", padded_h, " x ", padded_w,
                  "). Kernel size: (", extent_h, " x ", extent_w,
                  "). Kernel size can't be greater than actual input size");
  g.out_h = (padded_h - extent_h) / g.stride_h + 1;
  g.out_w = (padded_w - extent_w) / g.stride_w + 1;
  return g;
}

// A [rows, nb, L] block of `t` ([N, C, H, W] contiguous): images n0.., channels c0..
Tensor block(const Tensor& t, int64_t n0, int64_t nb, int64_t c0, int64_t rows) {
  return t.narrow(0, n0, nb).narrow(1, c0, rows).reshape({nb, rows, -1}).permute({1, 0, 2});
}

// The column matrix [K, nb * L] of images n0..n0+nb, group grp: the image
// itself for a 1x1 convolution (nb == 1), else im2col into `buffer`.
const void* columns(const ConvGeometry& g, const Tensor& x, int64_t n0, int64_t nb, int64_t grp, const Tensor& buffer) {
  const size_t es = x.element_size();
  char* base = static_cast<char*>(x.data_ptr());
  auto image = [&](int64_t n) { return base + (n * g.channels + grp * g.group_channels()) * g.height * g.width * es; };
  if (g.is_pointwise()) return image(n0);
  for (int64_t i = 0; i < nb; ++i)
    kernels::im2col_kernel.get(x.device())(g.im2col(x.dtype(), image(n0 + i),
                                                     static_cast<char*>(buffer.data_ptr()) + i * g.out_plane() * es,
                                                     nb * g.out_plane()));
  return buffer.data_ptr();
}

kernels::GemmParams gemm_params(DType dtype, int64_t m, int64_t n, int64_t k, const void* a, int64_t lda,
                                bool trans_a, const void* b, int64_t ldb, bool trans_b, void* c, int64_t ldc,
                                double beta) {
  kernels::GemmParams p{};
  p.dtype = dtype;
  p.m = m;
  p.n = n;
  p.k = k;
  p.a = {a, lda, 0, trans_a};
  p.b = {b, ldb, 0, trans_b};
  p.c = c;
  p.ldc = ldc;
  p.beta = beta;
  return p;
}

// out[n, grp] = W[grp] (og x K) * columns (K x nb*L), scattered back to NCHW.
Tensor conv_forward(const ConvGeometry& g, const Tensor& x, const Tensor& w, const Tensor& bias) {
  const DType dtype = x.dtype();
  const size_t es = element_size(dtype);
  const int64_t og = g.group_out_channels(), L = g.out_plane(), chunk = g.images_per_chunk();
  Tensor out = empty({g.batch, g.out_channels, g.out_h, g.out_w}, x.options());
  Tensor col = empty({g.col_rows() * chunk * L}, x.options());
  Tensor product = empty({og * chunk * L}, x.options());
  for (int64_t n0 = 0; n0 < g.batch; n0 += chunk) {
    const int64_t nb = std::min(chunk, g.batch - n0);
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const void* cols = columns(g, x, n0, nb, grp, col);
      const char* weight = static_cast<const char*>(w.data_ptr()) + grp * og * g.col_rows() * es;
      // One image writes straight into the output; several go through `product`.
      char* dst = nb == 1 ? static_cast<char*>(out.data_ptr()) + (n0 * g.out_channels + grp * og) * L * es
                          : static_cast<char*>(product.data_ptr());
      kernels::gemm_kernel.get(x.device())(
          gemm_params(dtype, og, nb * L, g.col_rows(), weight, g.col_rows(), false, cols, nb * L, false, dst, nb * L, 0));
      if (nb > 1) ops::copy_raw(block(out, n0, nb, grp * og, og), product.narrow(0, 0, og * nb * L).view({og, nb, L}));
    }
  }
  if (bias.defined()) out.add_(bias.view({1, g.out_channels, 1, 1}));
  return out;
}

// grad_weight[grp] = sum over chunks of grad_out (og x nb*L) * columns^T (nb*L x K).
Tensor conv_grad_weight(const ConvGeometry& g, const Tensor& x, const Tensor& grad_out, const Shape& weight_shape) {
  const DType dtype = x.dtype();
  const size_t es = element_size(dtype);
  const int64_t og = g.group_out_channels(), L = g.out_plane(), chunk = g.images_per_chunk();
  Tensor gw = zeros(weight_shape, x.options());
  Tensor col = empty({g.col_rows() * chunk * L}, x.options());
  for (int64_t n0 = 0; n0 < g.batch; n0 += chunk) {
    const int64_t nb = std::min(chunk, g.batch - n0);
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const Tensor go = block(grad_out, n0, nb, grp * og, og).contiguous();  // [og, nb, L]
      kernels::gemm_kernel.get(x.device())(gemm_params(
          dtype, og, g.col_rows(), nb * L, go.data_ptr(), nb * L, false, columns(g, x, n0, nb, grp, col), nb * L,
          true, static_cast<char*>(gw.data_ptr()) + grp * og * g.col_rows() * es, g.col_rows(), 1));
    }
  }
  return gw;
}

// grad_input = col2im(W[grp]^T (K x og) * grad_out (og x nb*L)), image by image.
Tensor conv_grad_input(const ConvGeometry& g, const Tensor& w, const Tensor& grad_out, const Shape& input_shape) {
  const DType dtype = w.dtype();
  const size_t es = element_size(dtype);
  const int64_t og = g.group_out_channels(), L = g.out_plane(), chunk = g.images_per_chunk();
  Tensor gx = zeros(input_shape, w.options());
  Tensor col = empty({g.col_rows() * chunk * L}, w.options());
  for (int64_t n0 = 0; n0 < g.batch; n0 += chunk) {
    const int64_t nb = std::min(chunk, g.batch - n0);
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      auto image = [&](int64_t n) {
        return static_cast<char*>(gx.data_ptr()) + (n * g.channels + grp * g.group_channels()) * g.height * g.width * es;
      };
      const Tensor go = block(grad_out, n0, nb, grp * og, og).contiguous();  // [og, nb, L]
      // A 1x1 convolution's columns are the image itself: write there directly.
      void* dst = g.is_pointwise() ? static_cast<void*>(image(n0)) : col.data_ptr();
      kernels::gemm_kernel.get(w.device())(gemm_params(dtype, g.col_rows(), nb * L, og,
                                                       static_cast<const char*>(w.data_ptr()) + grp * og * g.col_rows() * es,
                                                       g.col_rows(), true, go.data_ptr(), nb * L, false, dst, nb * L, 0));
      if (g.is_pointwise()) continue;
      for (int64_t i = 0; i < nb; ++i)
        kernels::col2im_kernel.get(w.device())(
            g.im2col(dtype, image(n0 + i), static_cast<char*>(col.data_ptr()) + i * L * es, nb * L));
    }
  }
  return gx;
}

DType compute_dtype(DType t) { return t == kDouble ? kDouble : kFloat; }

// The shared 2-D implementation. `x4` is [N, C, H, W], `w4` [O, C/g, kH, kW].
Tensor convolution(const char* op, const Tensor& input, const Tensor& x4, const Tensor& w4, const Tensor& bias,
                   const std::array<int64_t, 2>& stride, PaddingMode mode, const std::array<int64_t, 2>& pad,
                   const std::array<int64_t, 2>& dilation, int64_t groups, int spatial_dims) {
  STRIATE_CHECK(is_floating_point(input.dtype()), DTypeError, op, ": expected a floating-point input, got ",
                input.dtype());
  STRIATE_CHECK(w4.dtype() == input.dtype(), DTypeError, op, ": input (", input.dtype(), ") and weight (",
                w4.dtype(), ") must have the same dtype");
  STRIATE_CHECK(!bias.defined() || bias.dtype() == input.dtype(), DTypeError, op, ": input (", input.dtype(),
                ") and bias (", bias.dtype(), ") must have the same dtype");
  ops::check_same_device(input, w4, op);
  if (bias.defined()) ops::check_same_device(input, bias, op);
  const ConvGeometry g = make_geometry(op, x4, w4, bias, stride, mode, pad, dilation, groups, spatial_dims);

  // Compute on contiguous NCHW in f32/f64; the kernels see raw buffers.
  const DType ct = compute_dtype(input.dtype());
  const Tensor x = x4.detach().to(ct).contiguous(), w = w4.detach().to(ct).contiguous();
  const Tensor b = bias.defined() ? bias.detach().to(ct) : Tensor();
  Tensor out = conv_forward(g, x, w, b);
  if (x4.suggest_memory_format() == MemoryFormat::ChannelsLast) out = out.contiguous(MemoryFormat::ChannelsLast);
  out = out.to(input.dtype());

  if (autograd::any_requires_grad({x4, w4, bias})) {
    const bool need_x = x4.requires_grad(), need_w = w4.requires_grad(), need_b = bias.defined() && bias.requires_grad();
    const Shape x_shape = x4.sizes(), w_shape = w4.sizes();
    const DType in_dtype = input.dtype();
    autograd::record(
        "ConvolutionBackward", {x4, w4, bias}, {out},
        [g, need_x, need_w, need_b, x_shape, w_shape, in_dtype, ct, sx = autograd::SavedTensor(need_w ? x : Tensor()),
         sw = autograd::SavedTensor(need_x ? w : Tensor())](const TensorList& grads) {
          const Tensor go = grads[0].to(ct).contiguous();
          TensorList result(3);
          if (need_x) result[0] = conv_grad_input(g, sw.unpack("conv"), go, x_shape).to(in_dtype);
          if (need_w) result[1] = conv_grad_weight(g, sx.unpack("conv"), go, w_shape).to(in_dtype);
          if (need_b) result[2] = go.sum({0, 2, 3}).to(in_dtype);
          return result;
        });
  }
  return out;
}

}  // namespace

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, ExpandingArray<2> stride,
              ConvPadding<2> padding, ExpandingArray<2> dilation, int64_t groups) {
  ops::check_defined(input, "conv2d", "input");
  ops::check_defined(weight, "conv2d", "weight");
  STRIATE_CHECK(input.dim() == 3 || input.dim() == 4, ShapeError,
                "conv2d: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got ", input.dim(), "-D input of shape ",
                input.sizes());
  STRIATE_CHECK(weight.dim() == 4, ShapeError, "conv2d: expected a 4-D weight [out_channels, in_channels / groups, "
                "kH, kW], got shape ", weight.sizes());
  const bool batched = input.dim() == 4;
  const Tensor x4 = batched ? input : input.unsqueeze(0);
  Tensor out = convolution("conv2d", input, x4, weight, bias, stride.values(), padding.mode(),
                           padding.amounts().values(), dilation.values(), groups, 2);
  return batched ? out : out.squeeze(0);
}

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, ExpandingArray<1> stride,
              ConvPadding<1> padding, ExpandingArray<1> dilation, int64_t groups) {
  ops::check_defined(input, "conv1d", "input");
  ops::check_defined(weight, "conv1d", "weight");
  STRIATE_CHECK(input.dim() == 2 || input.dim() == 3, ShapeError,
                "conv1d: expected a 2-D [C, L] or 3-D [N, C, L] input, got ", input.dim(), "-D input of shape ",
                input.sizes());
  STRIATE_CHECK(weight.dim() == 3, ShapeError,
                "conv1d: expected a 3-D weight [out_channels, in_channels / groups, kL], got shape ", weight.sizes());
  const bool batched = input.dim() == 3;
  const Tensor x4 = (batched ? input : input.unsqueeze(0)).unsqueeze(2);  // [N, C, 1, L]
  Tensor out = convolution("conv1d", input, x4, weight.unsqueeze(2), bias, {1, stride[0]}, padding.mode(),
                           {0, padding.amounts()[0]}, {1, dilation[0]}, groups, 1);
  out = out.squeeze(2);
  return batched ? out : out.squeeze(0);
}

}  // namespace striate
