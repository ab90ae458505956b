// CUDA pooling kernels over [planes, H, W] blocks, NCHW or channels-last
// (kernels/pooling.h), f32 and f64 (the op layer computes f16/bf16 in f32).
// Threads take elements in memory order, so consecutive threads read
// neighbouring pixels of one plane (NCHW) or neighbouring channels of one
// pixel (NHWC): coalesced either way.
//
// The window rules are the CPU's (kernels/cpu/pooling.cpp), computed per
// element instead of once per call:
// - forward: one thread per output element, walking its window in the CPU's
//   order (rows, then columns), so sums and maxima (ties: the first; NaN: the
//   last one) come out bit for bit as on the CPU;
// - backward (average and max, plain and adaptive): a gather, one thread per
//   input element summing over the outputs whose window covers it (for max,
//   those whose recorded index is this element), from zero in the order the
//   CPU's scatter adds them. No atomics and no zeroing: every element is
//   written once, deterministically, and equal to the CPU's bit for bit, also
//   where overlapping windows send three or more gradients to one input.
//
// The per-element functions are __host__ __device__ so that they read as the
// CPU code does and can be checked against it without a GPU.
#include <cmath>

#include "kernels/cuda/launch.cuh"
#include "kernels/pool_plane.h"
#include "kernels/pooling.h"

namespace striate::kernels::cuda {
namespace {

// ---- the window of one output position along one axis ------------------------

struct Span {
  int64_t begin, end;      // input positions begin, begin + step, ... < end
  int64_t padded_length;   // average pooling: the window counted with padding
};

// Max pooling: dilated taps, the first in-bounds one found by stepping.
__host__ __device__ __forceinline__ Span max_span(int64_t o, int64_t in, int64_t kernel, int64_t stride,
                                                  int64_t pad, int64_t dilation) {
  int64_t start = o * stride - pad;
  const int64_t full_end = start + (kernel - 1) * dilation + 1;
  const int64_t end = full_end < in ? full_end : in;
  if (start < 0) start += (-start + dilation - 1) / dilation * dilation;
  return {start, end, 0};
}

// Average pooling: clipped to the padded input for the count, to the input for the sum.
__host__ __device__ __forceinline__ Span avg_span(int64_t o, int64_t in, int64_t kernel, int64_t stride,
                                                  int64_t pad) {
  const int64_t start = o * stride - pad;
  const int64_t end = start + kernel < in + pad ? start + kernel : in + pad;
  return {start > 0 ? start : 0, end < in ? end : in, end - start};
}

// Adaptive bins: [floor(o * in / out), ceil((o + 1) * in / out)).
__host__ __device__ __forceinline__ Span adaptive_span(int64_t o, int64_t in, int64_t out) {
  const int64_t begin = o * in / out, end = ((o + 1) * in + out - 1) / out;
  return {begin, end, end - begin};
}

__host__ __device__ __forceinline__ int64_t avg_divisor(const Span& h, const Span& w, bool count_include_pad,
                                                        int64_t divisor_override) {
  if (divisor_override != 0) return divisor_override;
  if (count_include_pad) return h.padded_length * w.padded_length;
  return (h.end - h.begin) * (w.end - w.begin);
}

template <typename T>
__host__ __device__ __forceinline__ bool is_nan(T v) {
  return v != v;
}

// ---- the layout of a block (Pool2dShape::pixel_stride; Plane in pool_plane.h) ---

// Element i (in memory order) of a [planes, height, width] block: its
// plane and pixel. NCHW is the channels-last formula with C = 1.
struct Element {
  int64_t plane, y, x;
};

__host__ __device__ __forceinline__ Element element_at(const Pool2dShape& s, int64_t i, int64_t height,
                                                       int64_t width) {
  const int64_t c = s.pixel_stride, pixel = i / c;
  const int64_t image = pixel / (height * width);
  return {image * c + i % c, pixel / width % height, pixel % width};
}

// ---- per-element work (host and device) ----------------------------------------

// The maximum over rows/columns of hs x ws stepping by (dh, dw): a NaN wins
// and a later NaN replaces an earlier one; with nothing above -inf the first
// position is reported.
template <typename T>
__host__ __device__ __forceinline__ void window_max(const Plane<const T>& in, const Span& hs, const Span& ws,
                                                    int64_t dh, int64_t dw, T& best, int64_t& best_index) {
  best = -static_cast<T>(INFINITY);
  best_index = hs.begin * in.width + ws.begin;
  for (int64_t h = hs.begin; h < hs.end; h += dh)
    for (int64_t w = ws.begin; w < ws.end; w += dw) {
      const T v = in.at(h, w);
      if (v > best || is_nan(v)) {
        best = v;
        best_index = h * in.width + w;
      }
    }
}

// Output element i (in memory order) of max_pool2d.
template <typename T>
__host__ __device__ __forceinline__ void max_pool_at(const MaxPool2dParams& p, int64_t i) {
  const auto& s = p.shape;
  const auto& k = p.window;
  const Element o = element_at(s, i, s.out_h, s.out_w);
  const Span hs = max_span(o.y, s.in_h, k.kernel_h, k.stride_h, k.pad_h, k.dilation_h);
  const Span ws = max_span(o.x, s.in_w, k.kernel_w, k.stride_w, k.pad_w, k.dilation_w);
  T best;
  int64_t best_index;
  window_max(plane_of(static_cast<const T*>(p.input), s, o.plane, s.in_h, s.in_w), hs, ws, k.dilation_h,
             k.dilation_w, best, best_index);
  static_cast<T*>(p.output)[i] = best;
  if (p.indices) p.indices[i] = best_index;
}

template <typename T>
__host__ __device__ __forceinline__ void adaptive_max_pool_at(const AdaptivePool2dParams& p, int64_t i) {
  const auto& s = p.shape;
  const Element o = element_at(s, i, s.out_h, s.out_w);
  const Span hs = adaptive_span(o.y, s.in_h, s.out_h), ws = adaptive_span(o.x, s.in_w, s.out_w);
  T best;
  int64_t best_index;
  window_max(plane_of(static_cast<const T*>(p.input), s, o.plane, s.in_h, s.in_w), hs, ws, 1, 1, best, best_index);
  static_cast<T*>(p.output)[i] = best;
  if (p.indices) p.indices[i] = best_index;
}

template <typename T>
__host__ __device__ __forceinline__ T window_sum(const Plane<const T>& in, const Span& hs, const Span& ws) {
  T sum = 0;
  for (int64_t h = hs.begin; h < hs.end; ++h)
    for (int64_t w = ws.begin; w < ws.end; ++w) sum += in.at(h, w);
  return sum;
}

template <typename T>
__host__ __device__ __forceinline__ void avg_pool_at(const AvgPool2dParams& p, int64_t i) {
  const auto& s = p.shape;
  const auto& k = p.window;
  const Element o = element_at(s, i, s.out_h, s.out_w);
  const Span hs = avg_span(o.y, s.in_h, k.kernel_h, k.stride_h, k.pad_h);
  const Span ws = avg_span(o.x, s.in_w, k.kernel_w, k.stride_w, k.pad_w);
  const T sum = window_sum(plane_of(static_cast<const T*>(p.input), s, o.plane, s.in_h, s.in_w), hs, ws);
  // A window lying wholly in the padding averages to 0, as in PyTorch.
  const bool empty = hs.begin >= hs.end || ws.begin >= ws.end;
  static_cast<T*>(p.output)[i] =
      empty ? T(0) : sum / static_cast<T>(avg_divisor(hs, ws, p.count_include_pad, p.divisor_override));
}

template <typename T>
__host__ __device__ __forceinline__ void adaptive_avg_pool_at(const AdaptivePool2dParams& p, int64_t i) {
  const auto& s = p.shape;
  const Element o = element_at(s, i, s.out_h, s.out_w);
  const Span hs = adaptive_span(o.y, s.in_h, s.out_h), ws = adaptive_span(o.x, s.in_w, s.out_w);
  const T sum = window_sum(plane_of(static_cast<const T*>(p.input), s, o.plane, s.in_h, s.in_w), hs, ws);
  static_cast<T*>(p.output)[i] = sum / static_cast<T>(hs.padded_length * ws.padded_length);
}

// The outputs [first, last) along one axis whose average window
// [o * stride - pad, o * stride - pad + kernel) holds input position x
// (x < in <= in + pad, so clipping the window to the padded input changes nothing).
struct OutRange {
  int64_t first, last;
};

__host__ __device__ __forceinline__ OutRange avg_outputs_covering(int64_t x, int64_t out, int64_t kernel,
                                                                  int64_t stride, int64_t pad) {
  const int64_t first = x + pad < kernel ? 0 : (x + pad - kernel) / stride + 1;
  const int64_t last = (x + pad) / stride + 1;
  return {first, last < out ? last : out};
}

// Adaptive bins holding x: [floor(x * out / in), ceil((x + 1) * out / in)).
__host__ __device__ __forceinline__ OutRange adaptive_outputs_covering(int64_t x, int64_t in, int64_t out) {
  return {x * out / in, ((x + 1) * out + in - 1) / in};
}

// The outputs along one axis whose dilated max window may hold input position
// x: those with o * stride - pad <= x <= o * stride - pad + (kernel - 1) *
// dilation, the average rule over the dilated extent (x + pad >= 0, so no
// division rounds a negative number).
__host__ __device__ __forceinline__ OutRange max_outputs_covering(int64_t x, int64_t out, int64_t kernel,
                                                                  int64_t stride, int64_t pad, int64_t dilation) {
  return avg_outputs_covering(x, out, (kernel - 1) * dilation + 1, stride, pad);
}

// Whether x is one of output o's taps (o in max_outputs_covering's range):
// with dilation the window skips the positions between its taps.
__host__ __device__ __forceinline__ bool max_tap_at(int64_t x, int64_t o, int64_t stride, int64_t pad,
                                                    int64_t dilation) {
  return (x + pad - o * stride) % dilation == 0;
}

// Input element i (in memory order) of max backward: the gradients of the
// outputs whose window (or adaptive bin) holds it and whose recorded index is
// its position, added from zero in output order, which is the order the CPU's
// scatter adds them. A recorded index is always a tap of its own window (the
// op layer refuses windows without an in-bounds tap), so no output is missed.
template <typename T>
__host__ __device__ __forceinline__ void max_pool_backward_at(const MaxPoolBackwardParams& p, int64_t i) {
  const auto& s = p.shape;
  const auto& k = p.window;
  const Element e = element_at(s, i, s.in_h, s.in_w);
  const auto go = plane_of(static_cast<const T*>(p.grad_out), s, e.plane, s.out_h, s.out_w);
  const auto idx = plane_of(p.indices, s, e.plane, s.out_h, s.out_w);
  const int64_t position = e.y * s.in_w + e.x;
  const OutRange rows = p.adaptive ? adaptive_outputs_covering(e.y, s.in_h, s.out_h)
                                   : max_outputs_covering(e.y, s.out_h, k.kernel_h, k.stride_h, k.pad_h, k.dilation_h);
  const OutRange cols = p.adaptive ? adaptive_outputs_covering(e.x, s.in_w, s.out_w)
                                   : max_outputs_covering(e.x, s.out_w, k.kernel_w, k.stride_w, k.pad_w, k.dilation_w);
  T sum = 0;
  for (int64_t oh = rows.first; oh < rows.last; ++oh) {
    if (!p.adaptive && !max_tap_at(e.y, oh, k.stride_h, k.pad_h, k.dilation_h)) continue;
    for (int64_t ow = cols.first; ow < cols.last; ++ow) {
      if (!p.adaptive && !max_tap_at(e.x, ow, k.stride_w, k.pad_w, k.dilation_w)) continue;
      if (idx.at(oh, ow) == position) sum += go.at(oh, ow);
    }
  }
  static_cast<T*>(p.grad_input)[i] = sum;
}

// Input element i (in memory order) of avg_pool2d backward: the
// CPU's shares go_o / divisor_o, added from zero in output order.
template <typename T>
__host__ __device__ __forceinline__ void avg_pool_backward_at(const AvgPool2dBackwardParams& p, int64_t i) {
  const auto& s = p.shape;
  const auto& k = p.window;
  const Element e = element_at(s, i, s.in_h, s.in_w);
  const auto go = plane_of(static_cast<const T*>(p.grad_out), s, e.plane, s.out_h, s.out_w);
  const OutRange rows = avg_outputs_covering(e.y, s.out_h, k.kernel_h, k.stride_h, k.pad_h);
  const OutRange cols = avg_outputs_covering(e.x, s.out_w, k.kernel_w, k.stride_w, k.pad_w);
  T sum = 0;
  for (int64_t oh = rows.first; oh < rows.last; ++oh) {
    const Span hs = avg_span(oh, s.in_h, k.kernel_h, k.stride_h, k.pad_h);
    for (int64_t ow = cols.first; ow < cols.last; ++ow) {
      const Span ws = avg_span(ow, s.in_w, k.kernel_w, k.stride_w, k.pad_w);
      sum += go.at(oh, ow) / static_cast<T>(avg_divisor(hs, ws, p.count_include_pad, p.divisor_override));
    }
  }
  static_cast<T*>(p.grad_input)[i] = sum;
}

template <typename T>
__host__ __device__ __forceinline__ void adaptive_avg_pool_backward_at(const AdaptiveAvgPool2dBackwardParams& p,
                                                                       int64_t i) {
  const auto& s = p.shape;
  const Element e = element_at(s, i, s.in_h, s.in_w);
  const auto go = plane_of(static_cast<const T*>(p.grad_out), s, e.plane, s.out_h, s.out_w);
  const OutRange rows = adaptive_outputs_covering(e.y, s.in_h, s.out_h);
  const OutRange cols = adaptive_outputs_covering(e.x, s.in_w, s.out_w);
  T sum = 0;
  for (int64_t oh = rows.first; oh < rows.last; ++oh) {
    const Span hs = adaptive_span(oh, s.in_h, s.out_h);
    for (int64_t ow = cols.first; ow < cols.last; ++ow) {
      const Span ws = adaptive_span(ow, s.in_w, s.out_w);
      sum += go.at(oh, ow) / static_cast<T>(hs.padded_length * ws.padded_length);
    }
  }
  static_cast<T*>(p.grad_input)[i] = sum;
}

// ---- kernels ---------------------------------------------------------------------

// Each pass as a type for the one grid-stride kernel: at<T>(params, i) does
// element i (an output element in forward, an input element in the gathers).
struct MaxPoolForward {
  template <typename T>
  __device__ static void at(const MaxPool2dParams& p, int64_t i) { max_pool_at<T>(p, i); }
};
struct AdaptiveMaxPoolForward {
  template <typename T>
  __device__ static void at(const AdaptivePool2dParams& p, int64_t i) { adaptive_max_pool_at<T>(p, i); }
};
struct AvgPoolForward {
  template <typename T>
  __device__ static void at(const AvgPool2dParams& p, int64_t i) { avg_pool_at<T>(p, i); }
};
struct AdaptiveAvgPoolForward {
  template <typename T>
  __device__ static void at(const AdaptivePool2dParams& p, int64_t i) { adaptive_avg_pool_at<T>(p, i); }
};
struct AvgPoolBackward {
  template <typename T>
  __device__ static void at(const AvgPool2dBackwardParams& p, int64_t i) { avg_pool_backward_at<T>(p, i); }
};
struct AdaptiveAvgPoolBackward {
  template <typename T>
  __device__ static void at(const AdaptiveAvgPool2dBackwardParams& p, int64_t i) {
    adaptive_avg_pool_backward_at<T>(p, i);
  }
};

struct MaxPoolBackward {
  template <typename T>
  __device__ static void at(const MaxPoolBackwardParams& p, int64_t i) { max_pool_backward_at<T>(p, i); }
};

template <typename Pass, typename T, typename Params>
__global__ void pool_kernel(Params p, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    Pass::template at<T>(p, i);
}

int64_t output_numel(const Pool2dShape& s) { return s.planes * s.out_h * s.out_w; }
int64_t input_numel(const Pool2dShape& s) { return s.planes * s.in_h * s.in_w; }

// Pass over n elements on the current stream.
template <typename Pass, typename Params>
void run_pool(const Params& p, int64_t n, const char* name) {
  visit_f32_f64(p.dtype, name, [&]<typename T>() {
    if (n == 0) return;
    launch(name, pool_kernel<Pass, T, Params>, grid_for(n), kThreads, 0, p, n);
  });
}

}  // namespace

void max_pool2d(const MaxPool2dParams& p) { run_pool<MaxPoolForward>(p, output_numel(p.shape), "max_pool2d"); }

void max_pool_backward(const MaxPoolBackwardParams& p) {
  run_pool<MaxPoolBackward>(p, input_numel(p.shape), "max_pool backward");
}

void avg_pool2d(const AvgPool2dParams& p) { run_pool<AvgPoolForward>(p, output_numel(p.shape), "avg_pool2d"); }

void avg_pool2d_backward(const AvgPool2dBackwardParams& p) {
  run_pool<AvgPoolBackward>(p, input_numel(p.shape), "avg_pool2d backward");
}

void adaptive_avg_pool2d(const AdaptivePool2dParams& p) {
  run_pool<AdaptiveAvgPoolForward>(p, output_numel(p.shape), "adaptive_avg_pool2d");
}

void adaptive_avg_pool2d_backward(const AdaptiveAvgPool2dBackwardParams& p) {
  run_pool<AdaptiveAvgPoolBackward>(p, input_numel(p.shape), "adaptive_avg_pool2d backward");
}

void adaptive_max_pool2d(const AdaptivePool2dParams& p) {
  run_pool<AdaptiveMaxPoolForward>(p, output_numel(p.shape), "adaptive_max_pool2d");
}

}  // namespace striate::kernels::cuda
