// CUDA class losses (kernels/loss.h): cross entropy from logits and nll_loss
// from log-probabilities, forward and backward, f32 and f64, with the CPU's
// formulas (kernels/cpu/loss.cpp): -log p_y = m + log(s) - x_y with
// m = max_c x_c and s = sum_c exp(x_c - m), and the smoothing term
// sum_c w_c (m - x_c) + W log(s), so large logits lose no precision.
//
// Forward, cross entropy: one sample's classes are reduced like a softmax
// slice (see softmax.cu). For [N, C] a warp owns a row of up to
// kWarpRowLimit classes and a block a longer one; for [N, C, d1, ...] a
// thread owns one (n, d) column, walking the classes at a stride of `inner`
// so that neighbouring threads read neighbouring addresses, with the block
// split over the classes when there are few columns. nll_loss reads one
// score per sample: a thread per sample.
//
// totals (sum of the losses, sum of w[y] over kept samples) is overwritten,
// as on the CPU: each block leaves its two partial sums, folded in double, in
// a scratch slot of its own, and one more block sums the slots in a fixed
// order. No atomics, so totals come out the same to the last bit every run
// (an atomicAdd per block would add in whatever order blocks finish).
//
// Backward: a thread per score, each recomputing its sample's coefficients
// (a few cached loads), which fills the GPU whatever the shape.
//
// W = sum_c w_c is summed by every block for itself (grids are capped to
// keep that cheap) when a weight is given and W is used.
#include <cmath>

#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/row_layout.cuh"
#include "kernels/loss.h"

namespace striate::kernels::cuda {
namespace {

using namespace rows;  // the row and column layouts (row_layout.cuh)

constexpr int64_t kMaxGridSummingWeights = 1024;  // each block reads the whole weight

// What every kernel reads; T is float or double.
template <typename T>
struct LossArgs {
  const T* x = nullptr;
  const int64_t* target = nullptr;
  const T* weight = nullptr;  // null: all ones
  int64_t outer = 1, classes = 1, inner = 1;
  int64_t ignore_index = -100;
  T smoothing = 0;          // label_smoothing, 0 for nll_loss
  T smooth_per_class = 0;   // smoothing / classes
  T weight_total = 0;       // W when no block has to sum it (no weight: classes)
  bool sum_weight = false;  // each block sums W from `weight`
};

template <typename T>
__device__ __forceinline__ T class_weight(const T* weight, int64_t c) {
  return weight ? weight[c] : T(1);
}

// W, summed by the whole block (every thread calls it) when sum_weight.
template <typename T>
__device__ T weight_total(const LossArgs<T>& a) {
  if (!a.sum_weight) return a.weight_total;
  double acc = 0;
  for (int64_t c = threadIdx.x; c < a.classes; c += blockDim.x) acc += a.weight[c];
  return static_cast<T>(block_reduce_all(acc, SumOp{}, 0.0));
}

// Leaves the block's partial sums in its slot of block_totals; every thread calls it.
__device__ void add_totals(double loss, double weight, double* block_totals) {
  loss = block_sum(loss);
  weight = block_sum(weight);
  if (threadIdx.x == 0) {
    block_totals[2 * blockIdx.x] = loss;
    block_totals[2 * blockIdx.x + 1] = weight;
  }
}

// totals = the sums of the forward blocks' slots: one block, a fixed order.
__global__ void sum_block_totals_kernel(const double* block_totals, int blocks, double* totals) {
  double loss = 0, weight = 0;
  for (int b = threadIdx.x; b < blocks; b += blockDim.x) {
    loss += block_totals[2 * b];
    weight += block_totals[2 * b + 1];
  }
  loss = block_sum(loss);
  weight = block_sum(weight);
  if (threadIdx.x == 0) {
    totals[0] = loss;
    totals[1] = weight;
  }
}

// The loss of a kept sample from its statistics, as on the CPU.
template <typename T>
__device__ __forceinline__ T sample_loss(const LossArgs<T>& a, int64_t y, T x_y, T lse, T log_sum, T below_max,
                                         T w_total) {
  const T wy = class_weight(a.weight, y);
  T l = (1 - a.smoothing) * wy * (lse - x_y);
  if (a.smoothing > 0) l += a.smooth_per_class * (below_max + w_total * log_sum);
  return l;
}

// ---- forward -----------------------------------------------------------------

template <typename T, bool kWarp>
__global__ void __launch_bounds__(kBlockRowThreads, 1)
    cross_entropy_rows_kernel(LossArgs<T> a, T* loss, T* lse_out, double* block_totals) {
  using G = RowGroup<kWarp>;
  const T w_total = weight_total(a);
  const bool smoothing = a.smoothing > 0;
  double part_loss = 0, part_weight = 0;
  for (int64_t r = G::first(); r < a.outer; r += G::stride()) {
    const T* xr = a.x + r * a.classes;
    T m = neg_inf<T>();
    for (int64_t c = G::lane(); c < a.classes; c += G::size()) m = RunningMax{}(m, xr[c]);
    m = G::reduce(m, RunningMax{}, neg_inf<T>());
    T sum = 0, below = 0;
    for (int64_t c = G::lane(); c < a.classes; c += G::size()) {
      sum += exp(xr[c] - m);
      if (smoothing) below += class_weight(a.weight, c) * (m - xr[c]);
    }
    sum = G::reduce(sum, SumOp{}, T(0));
    if (smoothing) below = G::reduce(below, SumOp{}, T(0));
    if (G::lane() == 0) {
      const T log_sum = log(sum);
      const T lse = m + log_sum;
      lse_out[r] = lse;
      const int64_t y = a.target[r];
      if (y == a.ignore_index) {
        loss[r] = 0;
      } else {
        const T l = sample_loss(a, y, xr[y], lse, log_sum, below, w_total);
        loss[r] = l;
        part_loss += l;
        part_weight += class_weight(a.weight, y);
      }
    }
  }
  add_totals(part_loss, part_weight, block_totals);
}

template <typename T>
__global__ void cross_entropy_columns_kernel(LossArgs<T> a, int split, T* loss, T* lse_out, double* block_totals) {
  alignas(8) __shared__ unsigned char buffer[kThreads * sizeof(double)];
  T* shared = reinterpret_cast<T*>(buffer);
  const T w_total = weight_total(a);
  const bool smoothing = a.smoothing > 0;
  const ColumnTile tile(split);
  const int64_t samples = a.outer * a.inner, stride = a.inner;
  double part_loss = 0, part_weight = 0;
  for (int64_t group = blockIdx.x * int64_t{tile.width}; group < samples; group += int64_t{gridDim.x} * tile.width) {
    const int64_t k = group + tile.tx;
    const bool live = k < samples;
    const T* xs = a.x + (live ? (k / a.inner) * a.classes * a.inner + k % a.inner : 0);
    const int64_t end = live ? a.classes : 0;
    T m = neg_inf<T>();
    for (int64_t c = tile.ty; c < end; c += split) m = RunningMax{}(m, xs[c * stride]);
    m = tile.fold(m, RunningMax{}, shared);
    T sum = 0, below = 0;
    for (int64_t c = tile.ty; c < end; c += split) {
      sum += exp(xs[c * stride] - m);
      if (smoothing) below += class_weight(a.weight, c) * (m - xs[c * stride]);
    }
    sum = tile.fold(sum, SumOp{}, shared);
    if (smoothing) below = tile.fold(below, SumOp{}, shared);
    if (live && tile.ty == 0) {
      const T log_sum = log(sum);
      const T lse = m + log_sum;
      lse_out[k] = lse;
      const int64_t y = a.target[k];
      if (y == a.ignore_index) {
        loss[k] = 0;
      } else {
        const T l = sample_loss(a, y, xs[y * stride], lse, log_sum, below, w_total);
        loss[k] = l;
        part_loss += l;
        part_weight += class_weight(a.weight, y);
      }
    }
  }
  add_totals(part_loss, part_weight, block_totals);
}

// loss = -w[y] * x[y]: one score per sample.
template <typename T>
__global__ void nll_forward_kernel(LossArgs<T> a, T* loss, double* block_totals) {
  const int64_t samples = a.outer * a.inner;
  double part_loss = 0, part_weight = 0;
  for (int64_t k = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; k < samples; k += int64_t{gridDim.x} * blockDim.x) {
    const int64_t y = a.target[k];
    if (y == a.ignore_index) {
      loss[k] = 0;
      continue;
    }
    const T wy = class_weight(a.weight, y);
    const T l = -wy * a.x[((k / a.inner) * a.classes + y) * a.inner + k % a.inner];
    loss[k] = l;
    part_loss += l;
    part_weight += wy;
  }
  add_totals(part_loss, part_weight, block_totals);
}

// ---- backward ----------------------------------------------------------------
// d loss / d x_c for a sample with upstream gradient g, as on the CPU:
//   cross entropy: g ((1-ls) w_y + ls/C W) p_c - g (1-ls) w_y [c == y] - g ls/C w_c
//   nll:           -g w_y [c == y]
// An ignored sample has every coefficient 0 (cross entropy still multiplies
// them by p_c and w_c, so a NaN there stays NaN, as on the CPU).

template <typename T>
__global__ void class_loss_backward_kernel(LossArgs<T> a, bool from_logits, const T* lse, const T* grad,
                                           int64_t grad_stride, T* grad_input) {
  const T w_total = weight_total(a);
  const int64_t n = a.outer * a.classes * a.inner;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < n; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t i = e % a.inner, oc = e / a.inner;
    const int64_t c = oc % a.classes, o = oc / a.classes;
    const int64_t s = o * a.inner + i;
    const int64_t y = a.target[s];
    const bool kept = y != a.ignore_index;
    T coef_target = 0, coef_class = 0, coef_prob = 0;
    if (kept) {
      const T g = grad[s * grad_stride];
      const T wy = class_weight(a.weight, y);
      coef_target = from_logits ? (1 - a.smoothing) * wy * g : wy * g;
      coef_class = a.smooth_per_class * g;
      coef_prob = coef_target + coef_class * w_total;
    }
    T v = 0;
    if (from_logits) v = coef_prob * exp(a.x[e] - lse[s]) - coef_class * class_weight(a.weight, c);
    if (kept && c == y) v -= coef_target;
    grad_input[e] = v;
  }
}

// ---- launching ---------------------------------------------------------------

template <typename T>
LossArgs<T> loss_args(const ClassLossArgs& p, bool need_weight_total) {
  LossArgs<T> a;
  a.x = static_cast<const T*>(p.input);
  a.target = p.target;
  a.weight = static_cast<const T*>(p.weight);
  a.outer = p.shape.outer;
  a.classes = p.shape.classes;
  a.inner = p.shape.inner;
  a.ignore_index = p.ignore_index;
  a.smoothing = p.from_logits ? static_cast<T>(p.label_smoothing) : T(0);
  a.smooth_per_class = a.smoothing / static_cast<T>(a.classes);
  a.weight_total = static_cast<T>(a.classes);
  a.sum_weight = need_weight_total && a.weight != nullptr;
  return a;
}

// Runs a forward kernel over `blocks` blocks, its last argument the blocks'
// slots, then sums the slots into totals.
template <typename... Params, typename... Args>
void launch_forward(cudaStream_t stream, void (*kernel)(Params...), unsigned blocks, int threads, double* totals,
                    Args... args) {
  const auto slots = scratch(2 * size_t{blocks} * sizeof(double));
  double* block_totals = static_cast<double*>(slots->data());
  launch_on(stream, "class_loss_forward", kernel, blocks, threads, 0, args..., block_totals);
  launch_on(stream, "class_loss_forward", sum_block_totals_kernel, 1, kThreads, 0, block_totals,
            static_cast<int>(blocks), totals);
}

}  // namespace

void class_loss_forward(const ClassLossForwardParams& p) {
  const ClassLossArgs& args = p.args;
  const cudaStream_t stream = current_stream();
  visit_f32_f64(args.dtype, "class_loss_forward", [&]<typename T>() {
    const int64_t samples = args.shape.outer * args.shape.inner;
    if (samples == 0 || args.shape.classes == 0) {
      STRIATE_CUDA_CHECK(cudaMemsetAsync(p.totals, 0, 2 * sizeof(double), stream));
      return;
    }
    // W is read only by the smoothing term.
    const LossArgs<T> a = loss_args<T>(args, args.from_logits && args.label_smoothing > 0);
    const int64_t cap = a.sum_weight ? kMaxGridSummingWeights : kMaxGrid;
    T* loss = static_cast<T*>(p.loss);
    if (!args.from_logits) {
      launch_forward(stream, nll_forward_kernel<T>, capped_grid((samples + kThreads - 1) / kThreads, cap), kThreads,
                     p.totals, a, loss);
      return;
    }
    T* lse = static_cast<T*>(p.logsumexp);
    if (a.inner == 1 && a.classes <= kWarpRowLimit) {
      const int64_t rows_per_block = kThreads / 32;
      launch_forward(stream, cross_entropy_rows_kernel<T, true>,
                     capped_grid((a.outer + rows_per_block - 1) / rows_per_block, cap), kThreads, p.totals, a, loss,
                     lse);
    } else if (a.inner == 1) {
      launch_forward(stream, cross_entropy_rows_kernel<T, false>, capped_grid(a.outer, cap), kBlockRowThreads,
                     p.totals, a, loss, lse);
    } else {
      const int split = column_split(samples, a.classes);
      const int64_t width = kThreads / split;
      launch_forward(stream, cross_entropy_columns_kernel<T>, capped_grid((samples + width - 1) / width, cap),
                     kThreads, p.totals, a, split, loss, lse);
    }
  });
}

void class_loss_backward(const ClassLossBackwardParams& p) {
  const ClassLossArgs& args = p.args;
  const cudaStream_t stream = current_stream();
  visit_f32_f64(args.dtype, "class_loss_backward", [&]<typename T>() {
    const int64_t n = args.shape.outer * args.shape.classes * args.shape.inner;
    if (n == 0) return;
    // The CPU forms coef_prob = coef_target + coef_class * W for every kept sample.
    const LossArgs<T> a = loss_args<T>(args, args.from_logits);
    const int64_t cap = a.sum_weight ? kMaxGridSummingWeights : kMaxGrid;
    launch_on(stream, "class_loss_backward", class_loss_backward_kernel<T>,
              capped_grid((n + kThreads - 1) / kThreads, cap), kThreads, 0, a, args.from_logits,
              static_cast<const T*>(p.logsumexp), static_cast<const T*>(p.grad_loss), p.grad_stride,
              static_cast<T*>(p.grad_input));
  });
}

}  // namespace striate::kernels::cuda
