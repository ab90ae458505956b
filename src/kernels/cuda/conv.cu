// Direct CUDA convolutions, the bias gradient, and the choice between the
// direct kernels and the implicit GEMMs (conv_implicit_gemm.cu).
//
// Direct kernels give each thread one output element and loop over its
// receptive field; they read NCHW or NHWC through a layout (Nchw, Nhwc). A
// GEMM tile of 128 output channels is mostly idle when a layer has a handful
// of channels (LeNet's first layer, depthwise layers), while the direct
// kernel keeps every thread busy; with many channels the GEMM's reuse
// through shared memory and registers wins.
#include "kernels/conv.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/channels.cuh"
#include "kernels/cuda/conv_dims.cuh"
#include "kernels/cuda/implicit_gemm.cuh"
#include "kernels/cuda/launch.cuh"

namespace striate::kernels::cuda {
namespace {

// Below this many rows (output channels, or input channels for grad input)
// or this depth of the sum, a GEMM tile would be mostly padding.
constexpr int64_t kMinGemmRows = 32;
constexpr int64_t kMinGemmDepth = 32;

// Where element (n, c, h, w) of a [N, C, H, W] tensor lives: NCHW, or NHWC
// (a weight [O, Cg, kH, kW] is then OHWI), and the element a linear index
// names, so that consecutive threads take consecutive addresses in either.
struct Nchw {
  __device__ static int64_t at(int64_t n, int64_t c, int64_t h, int64_t w, int64_t C, int64_t H, int64_t W) {
    return ((n * C + c) * H + h) * W + w;
  }
  __device__ static void coords(int64_t i, int64_t C, int64_t H, int64_t W, int64_t& n, int64_t& c, int64_t& h,
                                int64_t& w) {
    w = i % W, h = i / W % H, c = i / (W * H) % C, n = i / (W * H * C);
  }
};
struct Nhwc {
  __device__ static int64_t at(int64_t n, int64_t c, int64_t h, int64_t w, int64_t C, int64_t H, int64_t W) {
    return ((n * H + h) * W + w) * C + c;
  }
  __device__ static void coords(int64_t i, int64_t C, int64_t H, int64_t W, int64_t& n, int64_t& c, int64_t& h,
                                int64_t& w) {
    c = i % C, w = i / C % W, h = i / (C * W) % H, n = i / (C * W * H);
  }
};

// y[b, o, oh, ow] = bias[o] + sum over the group's channels and the taps.
template <typename L, typename T>
__global__ void conv_forward_direct_kernel(ConvParams p, const T* x, const T* w, const T* bias, T* y) {
  const int64_t cg = p.channels / p.groups, og = p.out_channels / p.groups;
  const int64_t total = p.batch * p.out_channels * p.out_h * p.out_w;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    int64_t b, o, oh, ow;
    L::coords(i, p.out_channels, p.out_h, p.out_w, b, o, oh, ow);
    const int64_t c0 = o / og * cg;
    T acc = bias != nullptr ? bias[o] : T(0);
    for (int64_t c = 0; c < cg; ++c)
      for (int64_t ki = 0; ki < p.kernel_h; ++ki) {
        const int64_t ih = oh * p.stride_h - p.pad_top + ki * p.dilation_h;
        if (ih < 0 || ih >= p.height) continue;
        for (int64_t kj = 0; kj < p.kernel_w; ++kj) {
          const int64_t iw = ow * p.stride_w - p.pad_left + kj * p.dilation_w;
          if (iw < 0 || iw >= p.width) continue;
          acc += w[L::at(o, c, ki, kj, cg, p.kernel_h, p.kernel_w)] *
                 x[L::at(b, c0 + c, ih, iw, p.channels, p.height, p.width)];
        }
      }
    y[i] = acc;
  }
}

// gx[b, ch, h, w] gathers every (o, ki, kj) whose tap lands on (h, w).
template <typename L, typename T>
__global__ void conv_grad_input_direct_kernel(ConvParams p, const T* w, const T* gy, T* gx) {
  const int64_t cg = p.channels / p.groups, og = p.out_channels / p.groups;
  const int64_t total = p.batch * p.channels * p.height * p.width;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    int64_t b, ch, ih, iw;
    L::coords(i, p.channels, p.height, p.width, b, ch, ih, iw);
    const int64_t g = ch / cg, c = ch % cg;
    T acc = T(0);
    for (int64_t o = g * og; o < (g + 1) * og; ++o)
      for (int64_t ki = 0; ki < p.kernel_h; ++ki) {
        const int64_t th = ih + p.pad_top - ki * p.dilation_h;
        if (th < 0 || th % p.stride_h != 0 || th / p.stride_h >= p.out_h) continue;
        for (int64_t kj = 0; kj < p.kernel_w; ++kj) {
          const int64_t tw = iw + p.pad_left - kj * p.dilation_w;
          if (tw < 0 || tw % p.stride_w != 0 || tw / p.stride_w >= p.out_w) continue;
          acc += w[L::at(o, c, ki, kj, cg, p.kernel_h, p.kernel_w)] *
                 gy[L::at(b, o, th / p.stride_h, tw / p.stride_w, p.out_channels, p.out_h, p.out_w)];
        }
      }
    gx[i] = acc;
  }
}

// One block per weight element: its threads share the sum over batch and
// output pixels, then fold it.
template <typename L, typename T>
__global__ void conv_grad_weight_direct_kernel(ConvParams p, const T* x, const T* gy, T* gw) {
  const int64_t cg = p.channels / p.groups, og = p.out_channels / p.groups;
  const int64_t weights = p.out_channels * cg * p.kernel_h * p.kernel_w;
  const int64_t pixels = p.out_h * p.out_w, count = p.batch * pixels;
  for (int64_t e = blockIdx.x; e < weights; e += gridDim.x) {
    int64_t o, c, ki, kj;
    L::coords(e, cg, p.kernel_h, p.kernel_w, o, c, ki, kj);
    const int64_t ch = o / og * cg + c;
    T acc = T(0);
    for (int64_t k = threadIdx.x; k < count; k += blockDim.x) {
      const int64_t b = k / pixels, oh = k % pixels / p.out_w, ow = k % p.out_w;
      const int64_t ih = oh * p.stride_h - p.pad_top + ki * p.dilation_h;
      const int64_t iw = ow * p.stride_w - p.pad_left + kj * p.dilation_w;
      if (ih < 0 || ih >= p.height || iw < 0 || iw >= p.width) continue;
      acc += gy[L::at(b, o, oh, ow, p.out_channels, p.out_h, p.out_w)] *
             x[L::at(b, ch, ih, iw, p.channels, p.height, p.width)];
    }
    acc = block_sum(acc);
    if (threadIdx.x == 0) gw[e] = acc;
  }
}

// grad_bias[o]: the sum of grad_output's channel o, in double, through the
// per-channel reductions of channels.cuh (NCHW as [N, O, pixels], NHWC as
// [N * pixels, O, 1], whose tiles read whole sectors of each pixel's row).
template <typename T>
struct GradBiasOp : channels::SumDouble {
  const T* grad_out;
  T* grad_bias;

  __device__ double load(int64_t offset, int64_t, int64_t) const { return static_cast<double>(grad_out[offset]); }
  __device__ void finish(double acc, int64_t o) const { grad_bias[o] = static_cast<T>(acc); }
};

// Calls f with the element type and the layout of p.
template <typename F>
void visit_conv(const ConvParams& p, const char* op, F&& f) {
  visit_f32_f64(p.dtype, op, [&]<typename T>() {
    if (p.channels_last) f.template operator()<T, Nhwc>();
    else f.template operator()<T, Nchw>();
  });
}

unsigned blocks_for(int64_t n) { return static_cast<unsigned>(n < 65535 ? (n > 0 ? n : 1) : 65535); }

// Whether the implicit GEMM suits the problem: enough channels (`rows`) and
// depth to fill a tile, 32-bit indices, and M's tiles within the grid (the
// channels-last GEMMs put the pixels on M).
bool gemm_fits(const ConvParams& p, int64_t rows, int64_t depth, int64_t m) {
  const bool grid =
      p.dtype == DType::F64 ? gemm_grid_fits<DoubleTile>(m, p.groups) : gemm_grid_fits<FloatTile>(m, p.groups);
  return rows >= kMinGemmRows && depth >= kMinGemmDepth && fits_int32(p) && grid;
}

}  // namespace

void conv2d_forward_direct(const ConvParams& p, const void* input, const void* weight, const void* bias,
                           void* output) {
  const int64_t n = p.batch * p.out_channels * p.out_h * p.out_w;
  if (n == 0) return;
  visit_conv(p, "conv2d", [&]<typename T, typename L>() {
    launch("conv2d_forward_direct", conv_forward_direct_kernel<L, T>, grid_for(n), kThreads, 0, p,
           static_cast<const T*>(input), static_cast<const T*>(weight), static_cast<const T*>(bias),
           static_cast<T*>(output));
  });
}

void conv2d_grad_input_direct(const ConvParams& p, const void* weight, const void* grad_output, void* grad_input) {
  const int64_t n = p.batch * p.channels * p.height * p.width;
  if (n == 0) return;
  visit_conv(p, "conv2d backward", [&]<typename T, typename L>() {
    launch("conv2d_grad_input_direct", conv_grad_input_direct_kernel<L, T>, grid_for(n), kThreads, 0, p,
           static_cast<const T*>(weight), static_cast<const T*>(grad_output), static_cast<T*>(grad_input));
  });
}

void conv2d_grad_bias(const ConvParams& p, const void* grad_output, void* grad_bias) {
  const int64_t pixels = p.out_h * p.out_w;
  const ChannelShape shape = p.channels_last ? ChannelShape{p.batch * pixels, p.out_channels, 1}
                                             : ChannelShape{p.batch, p.out_channels, pixels};
  visit_f32_f64(p.dtype, "conv2d backward", [&]<typename T>() {
    channels::reduce_channels(GradBiasOp<T>{{}, static_cast<const T*>(grad_output), static_cast<T*>(grad_bias)},
                              shape, sizeof(T), "conv2d_grad_bias");
  });
}

void conv2d_grad_weight_direct(const ConvParams& p, const void* input, const void* grad_output, void* grad_weight,
                               void* grad_bias) {
  if (grad_bias != nullptr) conv2d_grad_bias(p, grad_output, grad_bias);
  if (grad_weight == nullptr) return;
  const int64_t weights = p.out_channels * (p.channels / p.groups) * p.kernel_h * p.kernel_w;
  visit_conv(p, "conv2d backward", [&]<typename T, typename L>() {
    launch("conv2d_grad_weight_direct", conv_grad_weight_direct_kernel<L, T>, blocks_for(weights), kThreads, 0, p,
           static_cast<const T*>(input), static_cast<const T*>(grad_output), static_cast<T*>(grad_weight));
  });
}

void conv2d_forward(const ConvParams& p, const void* input, const void* weight, const void* bias, void* output) {
  const int64_t depth = p.channels / p.groups * p.kernel_h * p.kernel_w, rows = p.out_channels / p.groups;
  if (gemm_fits(p, rows, depth, p.channels_last ? p.batch * p.out_h * p.out_w : rows))
    conv2d_forward_implicit_gemm(p, input, weight, bias, output);
  else
    conv2d_forward_direct(p, input, weight, bias, output);
}

void conv2d_grad_input(const ConvParams& p, const void* weight, const void* grad_output, void* grad_input) {
  const int64_t depth = p.out_channels / p.groups * p.kernel_h * p.kernel_w, rows = p.channels / p.groups;
  if (gemm_fits(p, rows, depth, p.channels_last ? p.batch * p.height * p.width : rows))
    conv2d_grad_input_implicit_gemm(p, weight, grad_output, grad_input);
  else
    conv2d_grad_input_direct(p, weight, grad_output, grad_input);
}

void conv2d_grad_weight(const ConvParams& p, const void* input, const void* grad_output, void* grad_weight,
                        void* grad_bias) {
  const int64_t columns = p.channels / p.groups * p.kernel_h * p.kernel_w, rows = p.out_channels / p.groups;
  if (gemm_fits(p, rows, columns, rows))
    conv2d_grad_weight_implicit_gemm(p, input, grad_output, grad_weight, grad_bias);
  else
    conv2d_grad_weight_direct(p, input, grad_output, grad_weight, grad_bias);
}

}  // namespace striate::kernels::cuda
