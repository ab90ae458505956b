// Direct CUDA convolutions, the bias gradient, and the choice between the
// direct kernels and the implicit GEMMs (conv_implicit_gemm.cu).
//
// Direct kernels give each thread one output element and loop over its
// receptive field. A GEMM tile of 128 output channels is mostly idle when a
// layer has a handful of channels (LeNet's first layer, depthwise layers),
// while the direct kernel keeps every thread busy; with many channels the
// GEMM's reuse through shared memory and registers wins.
#include "kernels/conv.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/conv_dims.cuh"
#include "kernels/cuda/launch.cuh"

namespace striate::kernels::cuda {
namespace {

// Below this many rows (output channels, or input channels for grad input)
// or this depth of the sum, a GEMM tile would be mostly padding.
constexpr int64_t kMinGemmRows = 32;
constexpr int64_t kMinGemmDepth = 32;

// y[b, o, oh, ow] = bias[o] + sum over the group's channels and the taps.
template <typename T>
__global__ void conv_forward_direct_kernel(ConvParams p, const T* x, const T* w, const T* bias, T* y) {
  const int64_t cg = p.channels / p.groups, og = p.out_channels / p.groups;
  const int64_t total = p.batch * p.out_channels * p.out_h * p.out_w;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t ow = i % p.out_w, oh = i / p.out_w % p.out_h, o = i / (p.out_w * p.out_h) % p.out_channels;
    const int64_t b = i / (p.out_w * p.out_h * p.out_channels);
    const T* image = x + (b * p.channels + o / og * cg) * p.height * p.width;
    const T* filter = w + o * cg * p.kernel_h * p.kernel_w;
    T acc = bias != nullptr ? bias[o] : T(0);
    for (int64_t c = 0; c < cg; ++c)
      for (int64_t ki = 0; ki < p.kernel_h; ++ki) {
        const int64_t ih = oh * p.stride_h - p.pad_top + ki * p.dilation_h;
        if (ih < 0 || ih >= p.height) continue;
        for (int64_t kj = 0; kj < p.kernel_w; ++kj) {
          const int64_t iw = ow * p.stride_w - p.pad_left + kj * p.dilation_w;
          if (iw < 0 || iw >= p.width) continue;
          acc += filter[(c * p.kernel_h + ki) * p.kernel_w + kj] * image[(c * p.height + ih) * p.width + iw];
        }
      }
    y[i] = acc;
  }
}

// gx[b, ch, h, w] gathers every (o, ki, kj) whose tap lands on (h, w).
template <typename T>
__global__ void conv_grad_input_direct_kernel(ConvParams p, const T* w, const T* gy, T* gx) {
  const int64_t cg = p.channels / p.groups, og = p.out_channels / p.groups;
  const int64_t total = p.batch * p.channels * p.height * p.width;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t iw = i % p.width, ih = i / p.width % p.height, ch = i / (p.width * p.height) % p.channels;
    const int64_t b = i / (p.width * p.height * p.channels);
    const int64_t g = ch / cg, c = ch % cg;
    T acc = T(0);
    for (int64_t o = g * og; o < (g + 1) * og; ++o) {
      const T* grad = gy + (b * p.out_channels + o) * p.out_h * p.out_w;
      const T* filter = w + (o * cg + c) * p.kernel_h * p.kernel_w;
      for (int64_t ki = 0; ki < p.kernel_h; ++ki) {
        const int64_t th = ih + p.pad_top - ki * p.dilation_h;
        if (th < 0 || th % p.stride_h != 0 || th / p.stride_h >= p.out_h) continue;
        for (int64_t kj = 0; kj < p.kernel_w; ++kj) {
          const int64_t tw = iw + p.pad_left - kj * p.dilation_w;
          if (tw < 0 || tw % p.stride_w != 0 || tw / p.stride_w >= p.out_w) continue;
          acc += filter[ki * p.kernel_w + kj] * grad[th / p.stride_h * p.out_w + tw / p.stride_w];
        }
      }
    }
    gx[i] = acc;
  }
}

// One block per weight element: its threads share the sum over batch and
// output pixels, then fold it.
template <typename T>
__global__ void conv_grad_weight_direct_kernel(ConvParams p, const T* x, const T* gy, T* gw) {
  const int64_t cg = p.channels / p.groups, og = p.out_channels / p.groups;
  const int64_t taps = p.kernel_h * p.kernel_w, weights = p.out_channels * cg * taps;
  const int64_t pixels = p.out_h * p.out_w, count = p.batch * pixels;
  for (int64_t e = blockIdx.x; e < weights; e += gridDim.x) {
    const int64_t kj = e % p.kernel_w, ki = e / p.kernel_w % p.kernel_h, c = e / taps % cg, o = e / (taps * cg);
    const int64_t ch = o / og * cg + c;
    T acc = T(0);
    for (int64_t k = threadIdx.x; k < count; k += blockDim.x) {
      const int64_t b = k / pixels, r = k % pixels;
      const int64_t ih = r / p.out_w * p.stride_h - p.pad_top + ki * p.dilation_h;
      const int64_t iw = r % p.out_w * p.stride_w - p.pad_left + kj * p.dilation_w;
      if (ih < 0 || ih >= p.height || iw < 0 || iw >= p.width) continue;
      acc += gy[(b * p.out_channels + o) * pixels + r] * x[((b * p.channels + ch) * p.height + ih) * p.width + iw];
    }
    acc = block_sum(acc);
    if (threadIdx.x == 0) gw[e] = acc;
  }
}

// grad_bias[o]: a block per channel sums its planes in double.
template <typename T>
__global__ void conv_grad_bias_kernel(ConvParams p, const T* gy, T* gb) {
  const int64_t pixels = p.out_h * p.out_w, count = p.batch * pixels;
  for (int64_t o = blockIdx.x; o < p.out_channels; o += gridDim.x) {
    double acc = 0;
    for (int64_t k = threadIdx.x; k < count; k += blockDim.x)
      acc += static_cast<double>(gy[(k / pixels * p.out_channels + o) * pixels + k % pixels]);
    acc = block_sum(acc);
    if (threadIdx.x == 0) gb[o] = static_cast<T>(acc);
  }
}

unsigned blocks_for(int64_t n) { return static_cast<unsigned>(n < 65535 ? (n > 0 ? n : 1) : 65535); }

bool gemm_fits(const ConvParams& p, int64_t rows, int64_t depth) {
  return rows >= kMinGemmRows && depth >= kMinGemmDepth && fits_int32(p);
}

}  // namespace

void conv2d_forward_direct(const ConvParams& p, const void* input, const void* weight, const void* bias,
                           void* output) {
  const int64_t n = p.batch * p.out_channels * p.out_h * p.out_w;
  if (n == 0) return;
  visit_f32_f64(p.dtype, "conv2d", [&]<typename T>() {
    launch("conv2d_forward_direct", conv_forward_direct_kernel<T>, grid_for(n), kThreads, 0, p,
           static_cast<const T*>(input), static_cast<const T*>(weight), static_cast<const T*>(bias),
           static_cast<T*>(output));
  });
}

void conv2d_grad_input_direct(const ConvParams& p, const void* weight, const void* grad_output, void* grad_input) {
  const int64_t n = p.batch * p.channels * p.height * p.width;
  if (n == 0) return;
  visit_f32_f64(p.dtype, "conv2d backward", [&]<typename T>() {
    launch("conv2d_grad_input_direct", conv_grad_input_direct_kernel<T>, grid_for(n), kThreads, 0, p,
           static_cast<const T*>(weight), static_cast<const T*>(grad_output), static_cast<T*>(grad_input));
  });
}

void conv2d_grad_bias(const ConvParams& p, const void* grad_output, void* grad_bias) {
  visit_f32_f64(p.dtype, "conv2d backward", [&]<typename T>() {
    launch("conv2d_grad_bias", conv_grad_bias_kernel<T>, blocks_for(p.out_channels), kThreads, 0, p,
           static_cast<const T*>(grad_output), static_cast<T*>(grad_bias));
  });
}

void conv2d_grad_weight_direct(const ConvParams& p, const void* input, const void* grad_output, void* grad_weight,
                               void* grad_bias) {
  if (grad_bias != nullptr) conv2d_grad_bias(p, grad_output, grad_bias);
  if (grad_weight == nullptr) return;
  const int64_t weights = p.out_channels * (p.channels / p.groups) * p.kernel_h * p.kernel_w;
  visit_f32_f64(p.dtype, "conv2d backward", [&]<typename T>() {
    launch("conv2d_grad_weight_direct", conv_grad_weight_direct_kernel<T>, blocks_for(weights), kThreads, 0, p,
           static_cast<const T*>(input), static_cast<const T*>(grad_output), static_cast<T*>(grad_weight));
  });
}

void conv2d_forward(const ConvParams& p, const void* input, const void* weight, const void* bias, void* output) {
  const int64_t depth = p.channels / p.groups * p.kernel_h * p.kernel_w;
  if (gemm_fits(p, p.out_channels / p.groups, depth)) conv2d_forward_implicit_gemm(p, input, weight, bias, output);
  else conv2d_forward_direct(p, input, weight, bias, output);
}

void conv2d_grad_input(const ConvParams& p, const void* weight, const void* grad_output, void* grad_input) {
  const int64_t depth = p.out_channels / p.groups * p.kernel_h * p.kernel_w;
  if (gemm_fits(p, p.channels / p.groups, depth)) conv2d_grad_input_implicit_gemm(p, weight, grad_output, grad_input);
  else conv2d_grad_input_direct(p, weight, grad_output, grad_input);
}

void conv2d_grad_weight(const ConvParams& p, const void* input, const void* grad_output, void* grad_weight,
                        void* grad_bias) {
  const int64_t columns = p.channels / p.groups * p.kernel_h * p.kernel_w;
  if (gemm_fits(p, p.out_channels / p.groups, columns))
    conv2d_grad_weight_implicit_gemm(p, input, grad_output, grad_weight, grad_bias);
  else
    conv2d_grad_weight_direct(p, input, grad_output, grad_weight, grad_bias);
}

}  // namespace striate::kernels::cuda
