// Pooling ops: argument checks, PyTorch's output-size arithmetic, the kernel
// call on a [planes, H, W] block (NCHW, or NHWC for a channels-last input:
// results come back in the input's memory format, as PyTorch's do, without
// a conversion), and one autograd node per op.
//
// 1-D pooling is 2-D pooling of [.., 1, L] with a 1-row window; `dims` tells
// the shared checks how many trailing entries to show in messages, so that a
// 1-D caller reads about its own arguments.
#include "striate/core/ops/pooling.h"

#include <array>
#include <vector>

#include "core/ops/internal.h"
#include "kernels/pooling.h"
#include "striate/core/ops/factory.h"

namespace striate {

using autograd::SavedTensor;

namespace {

using Pair = std::array<int64_t, 2>;  // (H, W) values; H is 1 (or 0) for 1-D ops

struct PoolArgs {
  Pair kernel, stride, padding, dilation{1, 1};
};

struct PoolOp {
  const char* name;
  int dims;  // spatial dims as the caller sees them: 1 or 2
};

// The last `dims` entries, printed as PyTorch prints a list.
std::vector<int64_t> shown(const PoolOp& op, const Pair& v) {
  return op.dims == 1 ? std::vector<int64_t>{v[1]} : std::vector<int64_t>{v[0], v[1]};
}

bool is_half_precision(DType t) { return t == kHalf || t == kBFloat16; }

int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t pooling_output_size(int64_t in, int64_t kernel, int64_t pad, int64_t stride, int64_t dilation,
                            bool ceil_mode) {
  int64_t out = floor_div(in + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0), stride) + 1;
  // ceil_mode must not add a window that starts in the right padding.
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

// Rank and sizes of a 2-D pooling input (3-D unbatched or 4-D batched); the
// 1-D ops check their own rank (as_2d) before adding the H = 1 dim.
void check_pool_input(const Tensor& input, const PoolOp& op) {
  ops::check_defined(input, op.name, "input");
  Shape caller_shape = input.sizes();
  if (op.dims == 1 && caller_shape.size() >= 2) caller_shape.erase(caller_shape.end() - 2);
  const char* expected = op.dims == 1 ? "a 2-D [C, L] or 3-D [N, C, L] input"
                                      : "a 3-D [C, H, W] or 4-D [N, C, H, W] input";
  STRIATE_CHECK(input.dim() == 3 || input.dim() == 4, ShapeError, op.name, ": expected ", expected, ", got shape ",
                caller_shape, " (", caller_shape.size(), " dims)");
  for (int64_t d = input.dim() == 4 ? 1 : 0; d < input.dim(); ++d)
    STRIATE_CHECK(input.size(d) > 0, ShapeError, op.name, ": expected ", expected,
                  " with non-zero sizes except the batch dim, got shape ", caller_shape);
  STRIATE_CHECK(input.is_floating_point(), DTypeError, op.name, ": expected a floating-point input, got ",
                input.dtype());
}

void check_pool_args(const PoolArgs& a, const PoolOp& op, bool has_dilation) {
  for (int i = 2 - op.dims; i < 2; ++i) {
    STRIATE_CHECK(a.kernel[i] > 0, ValueError, op.name, ": kernel_size must be greater than zero, got ",
                  shown(op, a.kernel));
    STRIATE_CHECK(a.stride[i] > 0, ValueError, op.name, ": stride must be greater than zero, got ",
                  shown(op, a.stride));
    STRIATE_CHECK(a.padding[i] >= 0, ValueError, op.name, ": padding must be non-negative, got ",
                  shown(op, a.padding));
    if (has_dilation)
      STRIATE_CHECK(a.dilation[i] > 0, ValueError, op.name, ": dilation must be greater than zero, got ",
                    shown(op, a.dilation));
    STRIATE_CHECK(a.padding[i] <= a.kernel[i] / 2, ValueError, op.name,
                  ": padding should be at most half of kernel_size, got padding ", shown(op, a.padding),
                  " with kernel_size ", shown(op, a.kernel));
  }
}

struct Geometry {
  Shape out_sizes;
  kernels::Pool2dShape shape;
  kernels::Pool2dWindow window;
  MemoryFormat format = MemoryFormat::Contiguous;  // of the block, the output and the gradients
};

// The kernels pool a batched channels-last input where it lies (1-D inputs,
// seen here with an inserted H dim, have no channels-last form); anything
// else is made a contiguous NCHW block.
void set_layout(Geometry& g, const Tensor& input, const PoolOp& op) {
  if (op.dims == 2 && input.dim() == 4 && input.suggest_memory_format() == MemoryFormat::ChannelsLast) {
    g.format = MemoryFormat::ChannelsLast;
    g.shape.pixel_stride = input.size(1);
  }
}

Geometry pool_geometry(const Tensor& input, const PoolArgs& a, bool ceil_mode, const PoolOp& op) {
  Geometry g;
  const Pair in{input.size(-2), input.size(-1)};
  Pair out{};
  for (int i = 0; i < 2; ++i)
    out[i] = pooling_output_size(in[i], a.kernel[i], a.padding[i], a.stride[i], a.dilation[i], ceil_mode);
  STRIATE_CHECK(out[0] > 0 && out[1] > 0, ShapeError, op.name, ": input of spatial size ", shown(op, in),
                " is too small for kernel_size ", shown(op, a.kernel), " with padding ", shown(op, a.padding),
                " and dilation ", shown(op, a.dilation), ": the computed output size is ", shown(op, out));
  g.out_sizes = input.sizes();
  g.out_sizes[g.out_sizes.size() - 2] = out[0];
  g.out_sizes.back() = out[1];
  g.shape = {input.numel() / (in[0] * in[1]), in[0], in[1], out[0], out[1]};
  g.window = {a.kernel[0], a.kernel[1],  a.stride[0],   a.stride[1],
              a.padding[0], a.padding[1], a.dilation[0], a.dilation[1]};
  set_layout(g, input, op);
  return g;
}

// A dilated window can step over the whole input (input 2, kernel 2,
// dilation 3, padding 1: taps at -1 and 2). PyTorch returns -inf with an
// out-of-range index there; we refuse the arguments instead.
void check_windows_reach_input(const Geometry& g, const PoolArgs& a, const PoolOp& op) {
  const Pair in{g.shape.in_h, g.shape.in_w}, out{g.shape.out_h, g.shape.out_w};
  for (int i = 0; i < 2; ++i)
    for (int64_t o = 0; o < out[i]; ++o) {
      const int64_t start = o * a.stride[i] - a.padding[i];
      const int64_t first_tap = start >= 0 ? 0 : (-start + a.dilation[i] - 1) / a.dilation[i];
      STRIATE_CHECK(first_tap < a.kernel[i] && start + first_tap * a.dilation[i] < in[i], ValueError, op.name,
                    ": the window of output position ", o, " covers no input element (input size ",
                    shown(op, in), ", kernel_size ", shown(op, a.kernel), ", padding ", shown(op, a.padding),
                    ", dilation ", shown(op, a.dilation), ")");
    }
}

PoolArgs make_args(const Pair& kernel, const std::optional<Pair>& stride, const Pair& padding, const Pair& dilation) {
  return {kernel, stride ? *stride : kernel, padding, dilation};
}

// ---- max pooling -------------------------------------------------------------

// Whether cuDNN may run this pooling of a CUDA input: under the Library
// backend, or (with `under_auto`) under Auto, which measures it; the
// backward it takes then needs the forward's x and y kept.
bool library_may_pool(const Tensor& input, const Geometry& g, int64_t divisor_override, bool under_auto) {
  if (!input.is_cuda() || kernels::avg_pool2d_kernel.library == nullptr) return false;
  const KernelBackend backend = kernel_backend(OpFamily::Pooling);
  return (backend == KernelBackend::Library || (under_auto && backend == KernelBackend::Auto)) &&
         kernels::library_pool_limit(g.shape, g.window, divisor_override) == nullptr;
}

// Indices are computed when asked for or when the native backward needs
// them. Under the Library backend cuDNN's backward finds the maxima again
// from x and y, so those are kept instead (Auto keeps indices: it cannot time
// a backward that has only one implementation).
std::tuple<Tensor, Tensor> max_pool(const Tensor& input, const PoolArgs& a, bool ceil_mode, bool want_indices,
                                    const PoolOp& op) {
  check_pool_input(input, op);
  check_pool_args(a, op, true);
  if (is_half_precision(input.dtype())) {
    auto [out, indices] = max_pool(input.to(kFloat), a, ceil_mode, want_indices, op);
    return {out.to(input.dtype()), indices};
  }
  const Geometry g = pool_geometry(input, a, ceil_mode, op);
  check_windows_reach_input(g, a, op);
  const Tensor x = input.detach().contiguous(g.format);
  const bool needs_grad = autograd::any_requires_grad({input});
  const bool library_backward = needs_grad && !want_indices && library_may_pool(input, g, 0, false);
  Tensor out = empty(g.out_sizes, input.options(), g.format);
  const bool keep_indices = want_indices || (needs_grad && !library_backward);
  Tensor indices = keep_indices ? empty(g.out_sizes, input.options().dtype(kLong), g.format) : Tensor();
  const kernels::MaxPool2dParams params{x.data_ptr(), out.data_ptr(),
                                        indices.defined() ? indices.data_ptr<int64_t>() : nullptr, g.shape, g.window,
                                        input.dtype()};
  if (indices.defined())
    kernels::max_pool2d_kernel.get(input.device())(params);
  else
    kernels::max_pool2d_kernel.run(input.device(), kernels::pool_key(g.shape, g.window, input.dtype()), params);
  const char* node = op.dims == 1 ? "MaxPool1DBackward" : "MaxPool2DBackward";
  if (needs_grad && library_backward) {
    autograd::record(node, {input}, {out},
                     [sx = SavedTensor(x), sy = SavedTensor(out), in_sizes = input.sizes(),
                      g](const TensorList& grads) {
                       const Tensor xs = sx.unpack("max_pool"), ys = sy.unpack("max_pool");
                       const Tensor go = grads[0].contiguous(g.format);
                       Tensor gi = empty(in_sizes, go.options(), g.format);
                       kernels::max_pool2d_library_backward_kernel.get(go.device())(
                           {go.data_ptr(), xs.data_ptr(), ys.data_ptr(), gi.data_ptr(), g.shape, g.window,
                            go.dtype()});
                       return TensorList{gi};
                     });
  } else if (needs_grad) {
    autograd::record(node, {input}, {out},
                     [si = SavedTensor(indices), in_sizes = input.sizes(), g](const TensorList& grads) {
                       const Tensor idx = si.unpack("max_pool");
                       const Tensor go = grads[0].contiguous(g.format);
                       Tensor gi = empty(in_sizes, go.options(), g.format);
                       kernels::max_pool_backward_kernel.get(go.device())(
                           {go.data_ptr(), idx.data_ptr<int64_t>(), gi.data_ptr(), g.shape, go.dtype(), g.window,
                            /*adaptive=*/false});
                       return TensorList{gi};
                     });
  }
  return {out, want_indices ? indices : Tensor()};
}

// ---- average pooling ---------------------------------------------------------

Tensor avg_pool(const Tensor& input, const PoolArgs& a, bool ceil_mode, bool count_include_pad,
                std::optional<int64_t> divisor_override, const PoolOp& op) {
  check_pool_input(input, op);
  check_pool_args(a, op, false);
  STRIATE_CHECK(!divisor_override || *divisor_override != 0, ValueError, op.name,
                ": divisor_override must not be zero");
  if (is_half_precision(input.dtype()))
    return avg_pool(input.to(kFloat), a, ceil_mode, count_include_pad, divisor_override, op).to(input.dtype());
  const Geometry g = pool_geometry(input, a, ceil_mode, op);
  const int64_t divisor = divisor_override.value_or(0);
  const Tensor x = input.detach().contiguous(g.format);
  Tensor out = empty(g.out_sizes, input.options(), g.format);
  kernels::avg_pool2d_kernel.run(input.device(),
                                 kernels::pool_key(g.shape, g.window, input.dtype(), count_include_pad, divisor),
                                 kernels::AvgPool2dParams{x.data_ptr(), out.data_ptr(), g.shape, g.window,
                                                          count_include_pad, divisor, input.dtype()});
  if (autograd::any_requires_grad({input})) {
    // cuDNN's backward reads x and y as well: kept only when it may run.
    const bool keep = library_may_pool(input, g, divisor, true);
    autograd::record(op.dims == 1 ? "AvgPool1DBackward" : "AvgPool2DBackward", {input}, {out},
                     [in_sizes = input.sizes(), g, count_include_pad, divisor,
                      sx = keep ? SavedTensor(x) : SavedTensor(),
                      sy = keep ? SavedTensor(out) : SavedTensor()](const TensorList& grads) {
                       const Tensor go = grads[0].contiguous(g.format);
                       Tensor gi = empty(in_sizes, go.options(), g.format);
                       kernels::AvgPool2dBackwardParams p{go.data_ptr(), gi.data_ptr(), g.shape, g.window,
                                                          count_include_pad, divisor, go.dtype()};
                       const Tensor xs = sx.defined() ? sx.unpack("avg_pool") : Tensor();
                       const Tensor ys = sy.defined() ? sy.unpack("avg_pool") : Tensor();
                       if (xs.defined()) {
                         p.input = xs.data_ptr();
                         p.output = ys.data_ptr();
                       }
                       kernels::avg_pool2d_backward_kernel.run(
                           go.device(), kernels::pool_key(g.shape, g.window, go.dtype(), count_include_pad, divisor),
                           p);
                       return TensorList{gi};
                     });
  }
  return out;
}

// ---- adaptive pooling --------------------------------------------------------

Geometry adaptive_geometry(const Tensor& input, const Pair& output_size, const PoolOp& op) {
  for (int i = 2 - op.dims; i < 2; ++i)
    STRIATE_CHECK(output_size[i] >= 0, ValueError, op.name, ": output_size must be non-negative, got ",
                  shown(op, output_size));
  Geometry g;
  const int64_t in_h = input.size(-2), in_w = input.size(-1);
  g.out_sizes = input.sizes();
  g.out_sizes[g.out_sizes.size() - 2] = output_size[0];
  g.out_sizes.back() = output_size[1];
  g.shape = {input.numel() / (in_h * in_w), in_h, in_w, output_size[0], output_size[1]};
  set_layout(g, input, op);
  return g;
}

Tensor adaptive_avg_pool(const Tensor& input, const Pair& output_size, const PoolOp& op) {
  check_pool_input(input, op);
  if (is_half_precision(input.dtype())) return adaptive_avg_pool(input.to(kFloat), output_size, op).to(input.dtype());
  const Geometry g = adaptive_geometry(input, output_size, op);
  const Tensor x = input.detach().contiguous(g.format);
  Tensor out = empty(g.out_sizes, input.options(), g.format);
  kernels::adaptive_avg_pool2d_kernel.get(input.device())(
      {x.data_ptr(), out.data_ptr(), nullptr, g.shape, input.dtype()});
  if (autograd::any_requires_grad({input})) {
    autograd::record(op.dims == 1 ? "AdaptiveAvgPool1DBackward" : "AdaptiveAvgPool2DBackward", {input}, {out},
                     [in_sizes = input.sizes(), g](const TensorList& grads) {
                       const Tensor go = grads[0].contiguous(g.format);
                       Tensor gi = empty(in_sizes, go.options(), g.format);
                       kernels::adaptive_avg_pool2d_backward_kernel.get(go.device())(
                           {go.data_ptr(), gi.data_ptr(), g.shape, go.dtype()});
                       return TensorList{gi};
                     });
  }
  return out;
}

std::tuple<Tensor, Tensor> adaptive_max_pool(const Tensor& input, const Pair& output_size, const PoolOp& op) {
  check_pool_input(input, op);
  if (is_half_precision(input.dtype())) {
    auto [out, indices] = adaptive_max_pool(input.to(kFloat), output_size, op);
    return {out.to(input.dtype()), indices};
  }
  const Geometry g = adaptive_geometry(input, output_size, op);
  const Tensor x = input.detach().contiguous(g.format);
  Tensor out = empty(g.out_sizes, input.options(), g.format);
  Tensor indices = empty(g.out_sizes, input.options().dtype(kLong), g.format);
  kernels::adaptive_max_pool2d_kernel.get(input.device())(
      {x.data_ptr(), out.data_ptr(), indices.data_ptr<int64_t>(), g.shape, input.dtype()});
  if (autograd::any_requires_grad({input})) {
    autograd::record(op.dims == 1 ? "AdaptiveMaxPool1DBackward" : "AdaptiveMaxPool2DBackward", {input}, {out},
                     [si = SavedTensor(indices), in_sizes = input.sizes(), g](const TensorList& grads) {
                       const Tensor idx = si.unpack("adaptive_max_pool");
                       const Tensor go = grads[0].contiguous(g.format);
                       Tensor gi = empty(in_sizes, go.options(), g.format);
                       kernels::max_pool_backward_kernel.get(go.device())(
                           {go.data_ptr(), idx.data_ptr<int64_t>(), gi.data_ptr(), g.shape, go.dtype(),
                            kernels::Pool2dWindow{}, /*adaptive=*/true});
                       return TensorList{gi};
                     });
  }
  return {out, indices};
}

// ---- 1-D forms ------------------------------------------------------------------

// [.., L] -> [.., 1, L], after checking the caller's rank (2 or 3).
Tensor as_2d(const Tensor& input, const char* op) {
  ops::check_defined(input, op, "input");
  STRIATE_CHECK(input.dim() == 2 || input.dim() == 3, ShapeError, op,
                ": expected a 2-D [C, L] or 3-D [N, C, L] input, got shape ", input.sizes(), " (", input.dim(),
                " dims)");
  return input.unsqueeze(-2);
}

Pair pair1(const ExpandingArray<1>& v, int64_t h) { return {h, v[0]}; }
Pair pair2(const ExpandingArray<2>& v) { return {v[0], v[1]}; }
std::optional<Pair> stride1(const OptionalExpandingArray<1>& s) {
  return s ? std::optional<Pair>(pair1(*s, 1)) : std::nullopt;
}
std::optional<Pair> stride2(const OptionalExpandingArray<2>& s) {
  return s ? std::optional<Pair>(pair2(*s)) : std::nullopt;
}

}  // namespace

namespace {
std::tuple<Tensor, Tensor> max_pool1d_impl(const Tensor& input, const ExpandingArray<1>& kernel_size,
                                           const OptionalExpandingArray<1>& stride, const ExpandingArray<1>& padding,
                                           const ExpandingArray<1>& dilation, bool ceil_mode, bool want_indices) {
  const PoolOp op{"max_pool1d", 1};
  const Tensor x = as_2d(input, op.name);
  const auto args = make_args(pair1(kernel_size, 1), stride1(stride), pair1(padding, 0), pair1(dilation, 1));
  auto [out, indices] = max_pool(x, args, ceil_mode, want_indices, op);
  return {out.squeeze(-2), want_indices ? indices.squeeze(-2) : Tensor()};
}
}  // namespace

std::tuple<Tensor, Tensor> max_pool1d_with_indices(const Tensor& input, ExpandingArray<1> kernel_size,
                                                   OptionalExpandingArray<1> stride, ExpandingArray<1> padding,
                                                   ExpandingArray<1> dilation, bool ceil_mode) {
  return max_pool1d_impl(input, kernel_size, stride, padding, dilation, ceil_mode, true);
}

Tensor max_pool1d(const Tensor& input, ExpandingArray<1> kernel_size, OptionalExpandingArray<1> stride,
                  ExpandingArray<1> padding, ExpandingArray<1> dilation, bool ceil_mode) {
  return std::get<0>(max_pool1d_impl(input, kernel_size, stride, padding, dilation, ceil_mode, false));
}

std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, ExpandingArray<2> kernel_size,
                                                   OptionalExpandingArray<2> stride, ExpandingArray<2> padding,
                                                   ExpandingArray<2> dilation, bool ceil_mode) {
  return max_pool(input, make_args(pair2(kernel_size), stride2(stride), pair2(padding), pair2(dilation)), ceil_mode,
                  true, {"max_pool2d", 2});
}

Tensor max_pool2d(const Tensor& input, ExpandingArray<2> kernel_size, OptionalExpandingArray<2> stride,
                  ExpandingArray<2> padding, ExpandingArray<2> dilation, bool ceil_mode) {
  return std::get<0>(max_pool(input,
                              make_args(pair2(kernel_size), stride2(stride), pair2(padding), pair2(dilation)),
                              ceil_mode, false, {"max_pool2d", 2}));
}

Tensor avg_pool1d(const Tensor& input, ExpandingArray<1> kernel_size, OptionalExpandingArray<1> stride,
                  ExpandingArray<1> padding, bool ceil_mode, bool count_include_pad) {
  const PoolOp op{"avg_pool1d", 1};
  const Tensor x = as_2d(input, op.name);
  const auto args = make_args(pair1(kernel_size, 1), stride1(stride), pair1(padding, 0), {1, 1});
  return avg_pool(x, args, ceil_mode, count_include_pad, std::nullopt, op).squeeze(-2);
}

Tensor avg_pool2d(const Tensor& input, ExpandingArray<2> kernel_size, OptionalExpandingArray<2> stride,
                  ExpandingArray<2> padding, bool ceil_mode, bool count_include_pad,
                  std::optional<int64_t> divisor_override) {
  return avg_pool(input, make_args(pair2(kernel_size), stride2(stride), pair2(padding), {1, 1}), ceil_mode,
                  count_include_pad, divisor_override, {"avg_pool2d", 2});
}

Tensor adaptive_avg_pool1d(const Tensor& input, ExpandingArray<1> output_size) {
  const PoolOp op{"adaptive_avg_pool1d", 1};
  return adaptive_avg_pool(as_2d(input, op.name), pair1(output_size, 1), op).squeeze(-2);
}

Tensor adaptive_avg_pool2d(const Tensor& input, ExpandingArray<2> output_size) {
  return adaptive_avg_pool(input, pair2(output_size), {"adaptive_avg_pool2d", 2});
}

std::tuple<Tensor, Tensor> adaptive_max_pool1d(const Tensor& input, ExpandingArray<1> output_size) {
  const PoolOp op{"adaptive_max_pool1d", 1};
  auto [out, indices] = adaptive_max_pool(as_2d(input, op.name), pair1(output_size, 1), op);
  return {out.squeeze(-2), indices.squeeze(-2)};
}

std::tuple<Tensor, Tensor> adaptive_max_pool2d(const Tensor& input, ExpandingArray<2> output_size) {
  return adaptive_max_pool(input, pair2(output_size), {"adaptive_max_pool2d", 2});
}

}  // namespace striate
