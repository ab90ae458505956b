// CUDA normalisation kernels (kernels/normalization.h), float32 and float64.
//
// Batch norm statistics: Welford's mean and squared deviations in double,
// each thread folding four values at a time into its running triple and the
// triples merged pairwise (Chan et al.) across the block, so a mean far from
// zero costs no precision (no E[x^2] - E[x]^2). Its backward reduction is two
// double sums. Both use the per-channel layouts of kernels/cuda/channels.cuh:
// a block per channel for NCHW, channel tiles over rows for [N, C] and
// ChannelsLast. The batch-norm apply and backward-input passes and local
// response norm are one thread per element.
//
// Layer norm: a warp per row up to 1024 columns, else a block per row; the
// mean and the spread around it are summed in double, as on the CPU, and
// grad_weight / grad_bias are column sums over the rows (channel tiles again).
//
// The elementwise formulas round every step as the CPU does (channels.cuh),
// so where the per-channel or per-row inputs agree the outputs are the CPU's.
#include <cmath>

#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/channels.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/normalization.h"

namespace striate::kernels::cuda {
namespace {

using namespace channels;

// ---- batch norm: statistics ------------------------------------------------------

// count values with this mean and sum of squared deviations (count as a
// double: exact far beyond any tensor's size, and one shuffle).
struct Welford {
  double count, mean, m2;
};

template <typename T>
struct StatsOp {
  using Value = double;
  using Acc = Welford;
  const T* x;
  double* mean;
  double* var;

  __device__ double load(int64_t offset, int64_t, int64_t) const { return static_cast<double>(x[offset]); }

  // The loaded values as one small batch, merged in.
  __device__ void push(Welford& acc, const double (&v)[kUnroll], int count) const {
    double sum = 0;
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      if (u < count) sum += v[u];
    const double m = count == kUnroll ? sum * (1.0 / kUnroll) : sum / count;
    double m2 = 0;
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      if (u < count) {
        const double d = v[u] - m;
        m2 += d * d;
      }
    acc = merge(acc, {static_cast<double>(count), m, m2});
  }

  __device__ static Welford identity() { return {0, 0, 0}; }

  __device__ static Welford merge(Welford a, Welford b) {
    if (b.count == 0) return a;
    if (a.count == 0) return b;
    const double count = a.count + b.count;
    const double delta = b.mean - a.mean;
    const double wb = b.count / count;
    return {count, a.mean + delta * wb, a.m2 + b.m2 + delta * delta * a.count * wb};
  }

  __device__ static Welford shfl_down(Welford w, int offset) {
    return {__shfl_down_sync(0xffffffffu, w.count, offset), __shfl_down_sync(0xffffffffu, w.mean, offset),
            __shfl_down_sync(0xffffffffu, w.m2, offset)};
  }

  __device__ void finish(const Welford& acc, int64_t c) const {
    const double nan = __longlong_as_double(0x7ff8000000000000ll);
    mean[c] = acc.count > 0 ? acc.mean : nan;
    var[c] = acc.count > 0 ? fmax(0.0, acc.m2 / acc.count) : nan;
  }
};

// ---- batch norm: backward reduction ------------------------------------------------

template <typename T>
struct BackwardReduceOp : SumPair {
  const T* grad_out;
  const T* x;
  const T* center;
  double* sum_grad;
  double* sum_grad_centered;

  __device__ Pair load(int64_t offset, int64_t, int64_t c) const {
    const double g = static_cast<double>(grad_out[offset]);
    return {g, g * static_cast<double>(x[offset] - center[c])};
  }
  __device__ void finish(const Pair& acc, int64_t c) const {
    sum_grad[c] = acc.a;
    sum_grad_centered[c] = acc.b;
  }
};

// ---- batch norm: elementwise passes ---------------------------------------------------

template <typename T, typename Index>
__global__ void batch_norm_apply_kernel(const T* __restrict__ x, T* __restrict__ y, const T* __restrict__ center,
                                        const T* __restrict__ scale, const T* __restrict__ shift, Index n,
                                        ChannelIndexer<Index> ix) {
  for (Index e = first_index<Index>(); e < n; e += grid_stride<Index>()) {
    const Index c = ix.channel(e);
    y[e] = add_rn(mul_rn(sub_rn(x[e], center[c]), scale[c]), shift[c]);
  }
}

// kTrain: grad_out * k_grad + (x - center) * k_centered + k_const; else grad_out * k_grad.
template <typename T, typename Index, bool kTrain>
__global__ void batch_norm_backward_input_kernel(const T* __restrict__ g, const T* __restrict__ x,
                                                 const T* __restrict__ center, const T* __restrict__ k_grad,
                                                 const T* __restrict__ k_centered, const T* __restrict__ k_const,
                                                 T* __restrict__ gx, Index n, ChannelIndexer<Index> ix) {
  for (Index e = first_index<Index>(); e < n; e += grid_stride<Index>()) {
    const Index c = ix.channel(e);
    if constexpr (kTrain)
      gx[e] = add_rn(add_rn(mul_rn(g[e], k_grad[c]), mul_rn(sub_rn(x[e], center[c]), k_centered[c])), k_const[c]);
    else
      gx[e] = mul_rn(g[e], k_grad[c]);
  }
}

int64_t numel(const ChannelShape& s) { return s.outer * s.channels * s.inner; }

// ---- layer norm ----------------------------------------------------------------------------

constexpr int64_t kWarpRowMaxCols = 1024;
constexpr int kRowThreads = 256;    // a block of warp-rows
constexpr int kBlockRowThreads = 512;  // in __launch_bounds__, as in row_layout.cuh

// The sum over the row's group (a warp, or the block), in every thread of it.
template <bool kWarp>
__device__ __forceinline__ double group_sum(double v) {
  if constexpr (kWarp) return warp_reduce_all(v, SumOp{});
  else return block_reduce_all(v, SumOp{}, 0.0);
}

// The rows this thread's group takes part in: r = first, first + step, ...
template <bool kWarp>
struct RowGroup {
  int lane, size;
  int64_t first, step;
  __device__ RowGroup() {
    const int64_t per_block = kWarp ? blockDim.x / 32 : 1;
    lane = kWarp ? threadIdx.x % 32 : threadIdx.x;
    size = kWarp ? 32 : blockDim.x;
    first = blockIdx.x * per_block + (kWarp ? threadIdx.x / 32 : 0);
    step = gridDim.x * per_block;
  }
};

template <typename T, bool kWarp>
__global__ void __launch_bounds__(kBlockRowThreads, 1)
    layer_norm_forward_kernel(const T* __restrict__ input, const T* __restrict__ weight,
                              const T* __restrict__ bias, T* __restrict__ output, T* __restrict__ mean,
                              T* __restrict__ rstd, int64_t rows, int64_t cols, double eps) {
  const RowGroup<kWarp> group;
  for (int64_t r = group.first; r < rows; r += group.step) {
    const T* x = input + r * cols;
    T* y = output + r * cols;
    double sum = 0;
    for (int64_t j = group.lane; j < cols; j += group.size) sum += static_cast<double>(x[j]);
    const double mu = group_sum<kWarp>(sum) / static_cast<double>(cols);
    double sq = 0;
    for (int64_t j = group.lane; j < cols; j += group.size) {
      const double d = static_cast<double>(x[j]) - mu;
      sq += d * d;
    }
    sq = group_sum<kWarp>(sq);
    const T m = static_cast<T>(mu);
    const T rs = static_cast<T>(1.0 / sqrt(sq / static_cast<double>(cols) + eps));
    if (group.lane == 0) mean[r] = m, rstd[r] = rs;
    for (int64_t j = group.lane; j < cols; j += group.size) {
      T v = mul_rn(sub_rn(x[j], m), rs);
      if (weight) v = mul_rn(v, weight[j]);
      if (bias) v = add_rn(v, bias[j]);
      y[j] = v;
    }
  }
}

// grad_input = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)), gh = grad_out * weight.
template <typename T, bool kWarp>
__global__ void __launch_bounds__(kBlockRowThreads, 1)
    layer_norm_backward_input_kernel(const T* __restrict__ grad_out, const T* __restrict__ input,
                                     const T* __restrict__ weight, const T* __restrict__ mean,
                                     const T* __restrict__ rstd, T* __restrict__ grad_input,
                                     int64_t rows, int64_t cols) {
  const RowGroup<kWarp> group;
  for (int64_t r = group.first; r < rows; r += group.step) {
    const T* x = input + r * cols;
    const T* g = grad_out + r * cols;
    T* gx = grad_input + r * cols;
    const T m = mean[r], rs = rstd[r];
    double s1 = 0, s2 = 0;
    for (int64_t j = group.lane; j < cols; j += group.size) {
      const T xhat = mul_rn(sub_rn(x[j], m), rs);
      const T gh = weight ? mul_rn(g[j], weight[j]) : g[j];
      s1 += static_cast<double>(gh);
      s2 += static_cast<double>(gh) * static_cast<double>(xhat);
    }
    const T mean_gh = static_cast<T>(group_sum<kWarp>(s1) / static_cast<double>(cols));
    const T mean_gh_xhat = static_cast<T>(group_sum<kWarp>(s2) / static_cast<double>(cols));
    for (int64_t j = group.lane; j < cols; j += group.size) {
      const T xhat = mul_rn(sub_rn(x[j], m), rs);
      const T gh = weight ? mul_rn(g[j], weight[j]) : g[j];
      gx[j] = mul_rn(rs, sub_rn(sub_rn(gh, mean_gh), mul_rn(xhat, mean_gh_xhat)));
    }
  }
}

// grad_weight[j] = sum over rows of grad_out * xhat, grad_bias[j] = sum of grad_out.
template <typename T>
struct LayerNormParamGradOp : SumPair {
  const T* grad_out;
  const T* x;
  const T* mean;
  const T* rstd;
  T* grad_weight;
  T* grad_bias;

  __device__ Pair load(int64_t offset, int64_t r, int64_t) const {
    const T xhat = mul_rn(sub_rn(x[offset], mean[r]), rstd[r]);
    const double g = static_cast<double>(grad_out[offset]);
    return {g * static_cast<double>(xhat), g};
  }
  __device__ void finish(const Pair& acc, int64_t c) const {
    if (grad_weight) grad_weight[c] = static_cast<T>(acc.a);
    if (grad_bias) grad_bias[c] = static_cast<T>(acc.b);
  }
};

// Launches kernel<kWarp> over `rows` with the row grouping that suits `cols`.
template <typename Launch>
void launch_rows(int64_t rows, int64_t cols, Launch&& launch) {
  if (cols <= kWarpRowMaxCols) {
    constexpr int64_t per_block = kRowThreads / 32;
    launch.template operator()<true>(capped_grid((rows + per_block - 1) / per_block), kRowThreads);
  } else {
    launch.template operator()<false>(capped_grid(rows), kBlockRowThreads);
  }
}

// ---- local response norm ----------------------------------------------------------------------

// d^-beta, as on the CPU: beta = 0.75 as two square roots.
template <typename T>
__device__ __forceinline__ T inverse_power(T d, T beta) {
  if (beta == T(0.75)) {
    const T r = sqrt_rn(d);
    return div_rn(T(1), mul_rn(r, sqrt_rn(r)));
  }
  return pow(d, -beta);
}

// The window of channel c is [c - before, c + after]; in backward, channel j
// collects from the channels whose window holds it, [j - after, j + before].
template <typename T, typename Index>
__global__ void lrn_forward_kernel(const T* __restrict__ x, T* __restrict__ y, T* __restrict__ denom, Index n,
                                   ChannelIndexer<Index> ix, int64_t before, int64_t after, T coef, T k, T beta) {
  for (Index e = first_index<Index>(); e < n; e += grid_stride<Index>()) {
    Index o, c, i;
    ix.split(e, o, c, i);
    const int64_t channels = ix.channels, inner = ix.inner;
    const int64_t lo = c >= before ? c - before : 0;
    const int64_t hi = c + after < channels ? c + after : channels - 1;
    const T* column = x + (static_cast<int64_t>(o) * channels * inner + i);
    T acc = 0;
    for (int64_t j = lo; j <= hi; ++j) {
      const T v = column[j * inner];
      acc = add_rn(acc, mul_rn(v, v));
    }
    const T d = add_rn(k, mul_rn(coef, acc));
    denom[e] = d;
    y[e] = mul_rn(x[e], inverse_power(d, beta));
  }
}

//   grad_x_j = g_j d_j^-beta - cross x_j * sum_{c : j in W(c)} g_c x_c d_c^-beta / d_c
template <typename T, typename Index>
__global__ void lrn_backward_kernel(const T* __restrict__ g, const T* __restrict__ x, const T* __restrict__ denom,
                                    T* __restrict__ gx, Index n, ChannelIndexer<Index> ix, int64_t before,
                                    int64_t after, T beta, T cross) {
  for (Index e = first_index<Index>(); e < n; e += grid_stride<Index>()) {
    Index o, j, i;
    ix.split(e, o, j, i);
    const int64_t channels = ix.channels, inner = ix.inner;
    const int64_t lo = j >= after ? j - after : 0;
    const int64_t hi = j + before < channels ? j + before : channels - 1;
    const int64_t base = static_cast<int64_t>(o) * channels * inner + i;
    T acc = 0;
    for (int64_t c = lo; c <= hi; ++c) {
      const int64_t off = base + c * inner;
      const T d = denom[off];
      acc = add_rn(acc, div_rn(mul_rn(mul_rn(g[off], x[off]), inverse_power(d, beta)), d));
    }
    gx[e] = sub_rn(mul_rn(g[e], inverse_power(denom[e], beta)), mul_rn(mul_rn(cross, x[e]), acc));
  }
}

}  // namespace

void batch_norm_stats(const BatchNormStatsParams& p) {
  visit_f32_f64(p.dtype, "batch_norm", [&]<typename T>() {
    reduce_channels(StatsOp<T>{static_cast<const T*>(p.input), p.mean, p.var}, p.shape, sizeof(T),
                    "batch_norm statistics");
  });
}

void batch_norm_apply(const BatchNormApplyParams& p) {
  visit_f32_f64(p.dtype, "batch_norm", [&]<typename T>() {
    const int64_t n = numel(p.shape);
    if (n == 0) return;
    visit_index(p.shape, [&]<typename Index>() {
      launch("batch_norm", batch_norm_apply_kernel<T, Index>, grid_for(n), kThreads, 0, static_cast<const T*>(p.input),
             static_cast<T*>(p.output), static_cast<const T*>(p.center), static_cast<const T*>(p.scale),
             static_cast<const T*>(p.shift), static_cast<Index>(n), ChannelIndexer<Index>(p.shape));
    });
  });
}

void batch_norm_backward_reduce(const BatchNormBackwardReduceParams& p) {
  visit_f32_f64(p.dtype, "batch_norm backward", [&]<typename T>() {
    BackwardReduceOp<T> op;
    op.grad_out = static_cast<const T*>(p.grad_out);
    op.x = static_cast<const T*>(p.input);
    op.center = static_cast<const T*>(p.center);
    op.sum_grad = p.sum_grad;
    op.sum_grad_centered = p.sum_grad_centered;
    reduce_channels(op, p.shape, sizeof(T), "batch_norm backward (reduce)");
  });
}

void batch_norm_backward_input(const BatchNormBackwardInputParams& p) {
  visit_f32_f64(p.dtype, "batch_norm backward", [&]<typename T>() {
    const int64_t n = numel(p.shape);
    if (n == 0) return;
    visit_index(p.shape, [&]<typename Index>() {
      const auto run = [&](auto kernel) {
        launch("batch_norm backward (input)", kernel, grid_for(n), kThreads, 0, static_cast<const T*>(p.grad_out),
               static_cast<const T*>(p.input), static_cast<const T*>(p.center), static_cast<const T*>(p.k_grad),
               static_cast<const T*>(p.k_centered), static_cast<const T*>(p.k_const), static_cast<T*>(p.grad_input),
               static_cast<Index>(n), ChannelIndexer<Index>(p.shape));
      };
      if (p.k_centered) run(batch_norm_backward_input_kernel<T, Index, true>);
      else run(batch_norm_backward_input_kernel<T, Index, false>);
    });
  });
}

void layer_norm_forward(const LayerNormForwardParams& p) {
  visit_f32_f64(p.dtype, "layer_norm", [&]<typename T>() {
    if (p.rows <= 0 || p.cols <= 0) return;
    launch_rows(p.rows, p.cols, [&]<bool kWarp>(unsigned grid, int threads) {
      launch("layer_norm", layer_norm_forward_kernel<T, kWarp>, grid, threads, 0, static_cast<const T*>(p.input),
             static_cast<const T*>(p.weight), static_cast<const T*>(p.bias), static_cast<T*>(p.output),
             static_cast<T*>(p.mean), static_cast<T*>(p.rstd), p.rows, p.cols, p.eps);
    });
  });
}

void layer_norm_backward(const LayerNormBackwardParams& p) {
  visit_f32_f64(p.dtype, "layer_norm backward", [&]<typename T>() {
    if (p.cols <= 0) return;
    if (p.grad_input && p.rows > 0) {
      launch_rows(p.rows, p.cols, [&]<bool kWarp>(unsigned grid, int threads) {
        launch("layer_norm backward", layer_norm_backward_input_kernel<T, kWarp>, grid, threads, 0,
               static_cast<const T*>(p.grad_out), static_cast<const T*>(p.input), static_cast<const T*>(p.weight),
               static_cast<const T*>(p.mean), static_cast<const T*>(p.rstd), static_cast<T*>(p.grad_input), p.rows,
               p.cols);
      });
    }
    if (p.grad_weight || p.grad_bias) {
      LayerNormParamGradOp<T> op;
      op.grad_out = static_cast<const T*>(p.grad_out);
      op.x = static_cast<const T*>(p.input);
      op.mean = static_cast<const T*>(p.mean);
      op.rstd = static_cast<const T*>(p.rstd);
      op.grad_weight = static_cast<T*>(p.grad_weight);
      op.grad_bias = static_cast<T*>(p.grad_bias);
      // Rows of `cols` values: the columns are the channels of an inner-1 layout.
      reduce_channels(op, ChannelShape{p.rows, p.cols, 1}, sizeof(T), "layer_norm backward (weight, bias)");
    }
  });
}

void lrn_forward(const LrnForwardParams& p) {
  visit_f32_f64(p.dtype, "local_response_norm", [&]<typename T>() {
    const int64_t n = numel(p.shape);
    if (n == 0) return;
    const int64_t before = p.size / 2, after = p.size - 1 - before;
    const T coef = static_cast<T>(p.alpha / static_cast<double>(p.size));
    visit_index(p.shape, [&]<typename Index>() {
      launch("local_response_norm", lrn_forward_kernel<T, Index>, grid_for(n), kThreads, 0,
             static_cast<const T*>(p.input), static_cast<T*>(p.output), static_cast<T*>(p.denom), static_cast<Index>(n),
             ChannelIndexer<Index>(p.shape), before, after, coef, static_cast<T>(p.k), static_cast<T>(p.beta));
    });
  });
}

void lrn_backward(const LrnBackwardParams& p) {
  visit_f32_f64(p.dtype, "local_response_norm backward", [&]<typename T>() {
    const int64_t n = numel(p.shape);
    if (n == 0) return;
    const int64_t before = p.size / 2, after = p.size - 1 - before;
    const T coef = static_cast<T>(p.alpha / static_cast<double>(p.size));
    const T beta = static_cast<T>(p.beta);
    const T cross = T(2) * coef * beta;  // as the CPU rounds it
    visit_index(p.shape, [&]<typename Index>() {
      launch("local_response_norm backward", lrn_backward_kernel<T, Index>, grid_for(n), kThreads, 0,
             static_cast<const T*>(p.grad_out), static_cast<const T*>(p.input), static_cast<const T*>(p.denom),
             static_cast<T*>(p.grad_input), static_cast<Index>(n), ChannelIndexer<Index>(p.shape), before, after, beta,
             cross);
    });
  });
}

}  // namespace striate::kernels::cuda
