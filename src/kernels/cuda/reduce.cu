// CUDA reductions over [outer, reduce, inner] (kernels/reduce.h), with the
// CPU's accumulators: double for f32/f64, float for f16/bf16, wrapping
// 64-bit integers otherwise.
//
// Two shapes of work. When inner == 1 each output folds one contiguous run:
// a block per output strides over the run and combines through warp shuffles
// and shared memory. When inner > 1 each thread owns one output, and
// consecutive threads read consecutive elements of every row, so the loads
// coalesce. (A reduction with few outputs and a long strided run, or one
// output over a huge run, leaves the GPU underused: a split-reduce pass is
// the next step there.)
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/reduce.h"

namespace striate::kernels::cuda {
namespace {

template <typename T>
using sum_acc_t = std::conditional_t<std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>, float,
                                     std::conditional_t<std::is_floating_point_v<T>, double, unsigned long long>>;
template <typename T>
using sum_out_t = std::conditional_t<std::is_floating_point_v<device_acc_t<T>>, T, int64_t>;

template <typename T>
__device__ __forceinline__ sum_acc_t<T> widen(T v) {
  return static_cast<sum_acc_t<T>>(load_acc(v));
}

template <typename Out, typename Acc>
__device__ __forceinline__ Out finish_sum(Acc s, double scale) {
  if constexpr (std::is_floating_point_v<Acc>) return store_acc<Out>(static_cast<device_acc_t<Out>>(s * scale));
  else return static_cast<Out>(static_cast<int64_t>(s));
}

// The first element folded into output k = (o, i) when inner > 1; the rest
// follow at a stride of `inner`.
template <typename T>
__device__ __forceinline__ const T* column_start(const T* in, const ReduceShape& s, int64_t k) {
  return in + (k / s.inner) * s.reduce * s.inner + k % s.inner;
}

template <typename T>
__global__ void sum_rows_kernel(const T* in, sum_out_t<T>* out, ReduceShape s, double scale) {
  using Acc = sum_acc_t<T>;
  for (int64_t o = blockIdx.x; o < s.outer; o += gridDim.x) {
    const T* row = in + o * s.reduce;
    Acc acc = 0;
    for (int64_t r = threadIdx.x; r < s.reduce; r += blockDim.x) acc += widen(row[r]);
    acc = block_sum(acc);
    if (threadIdx.x == 0) out[o] = finish_sum<sum_out_t<T>>(acc, scale);
  }
}

template <typename T>
__global__ void sum_columns_kernel(const T* in, sum_out_t<T>* out, ReduceShape s, double scale) {
  using Acc = sum_acc_t<T>;
  const int64_t outputs = s.outer * s.inner;
  for (int64_t k = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; k < outputs; k += int64_t{gridDim.x} * blockDim.x) {
    const T* column = column_start(in, s, k);
    Acc acc = 0;
    for (int64_t r = 0; r < s.reduce; ++r) acc += widen(column[r * s.inner]);
    out[k] = finish_sum<sum_out_t<T>>(acc, scale);
  }
}

// Two passes, mean then squared deviations, as on the CPU.
template <typename T>
__global__ void var_rows_kernel(const T* in, T* out, ReduceShape s, double divisor) {
  using Acc = sum_acc_t<T>;
  __shared__ Acc mean;
  for (int64_t o = blockIdx.x; o < s.outer; o += gridDim.x) {
    const T* row = in + o * s.reduce;
    Acc acc = 0;
    for (int64_t r = threadIdx.x; r < s.reduce; r += blockDim.x) acc += widen(row[r]);
    acc = block_sum(acc);
    if (threadIdx.x == 0) mean = acc / static_cast<Acc>(s.reduce);
    __syncthreads();
    const Acc mu = mean;
    Acc sq = 0;
    for (int64_t r = threadIdx.x; r < s.reduce; r += blockDim.x) {
      const Acc d = widen(row[r]) - mu;
      sq += d * d;
    }
    sq = block_sum(sq);
    if (threadIdx.x == 0) out[o] = store_acc<T>(static_cast<device_acc_t<T>>(sq / static_cast<Acc>(divisor)));
    __syncthreads();  // `mean` is rewritten for the next output
  }
}

template <typename T>
__global__ void var_columns_kernel(const T* in, T* out, ReduceShape s, double divisor) {
  using Acc = sum_acc_t<T>;
  const int64_t outputs = s.outer * s.inner;
  for (int64_t k = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; k < outputs; k += int64_t{gridDim.x} * blockDim.x) {
    const T* column = column_start(in, s, k);
    Acc acc = 0;
    for (int64_t r = 0; r < s.reduce; ++r) acc += widen(column[r * s.inner]);
    const Acc mu = acc / static_cast<Acc>(s.reduce);
    Acc sq = 0;
    for (int64_t r = 0; r < s.reduce; ++r) {
      const Acc d = widen(column[r * s.inner]) - mu;
      sq += d * d;
    }
    out[k] = store_acc<T>(static_cast<device_acc_t<T>>(sq / static_cast<Acc>(divisor)));
  }
}

template <typename V>
__device__ __forceinline__ bool is_nan(V v) {
  if constexpr (std::is_floating_point_v<V>) return isnan(v);
  else return false;
}

// Whether (v, i) beats (best, best_i): NaN is the extreme, ties go to the
// first index, as on the CPU.
template <typename V>
__device__ __forceinline__ bool beats(V v, int64_t i, V best, int64_t best_i, bool is_max) {
  const bool nan_v = is_nan(v), nan_best = is_nan(best);
  if (nan_v || nan_best) return nan_v && (!nan_best || i < best_i);
  if (v == best) return i < best_i;
  return is_max ? v > best : v < best;
}

template <typename T>
__global__ void arg_rows_kernel(ArgReduceParams p) {
  using V = device_acc_t<T>;
  const T* in = static_cast<const T*>(p.in);
  alignas(8) __shared__ unsigned char value_buffer[32 * 8];
  __shared__ int64_t index_buffer[32];
  V* warp_values = reinterpret_cast<V*>(value_buffer);
  for (int64_t o = blockIdx.x; o < p.shape.outer; o += gridDim.x) {
    const T* row = in + o * p.shape.reduce;
    V best = load_acc(row[0]);
    int64_t best_i = 0;
    for (int64_t r = threadIdx.x; r < p.shape.reduce; r += blockDim.x) {
      const V v = load_acc(row[r]);
      if (beats(v, r, best, best_i, p.is_max)) best = v, best_i = r;
    }
    for (int offset = 16; offset > 0; offset /= 2) {
      const V v = shfl_down(best, offset);
      const int64_t i = shfl_down(best_i, offset);
      if (beats(v, i, best, best_i, p.is_max)) best = v, best_i = i;
    }
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    __syncthreads();
    if (lane == 0) warp_values[warp] = best, index_buffer[warp] = best_i;
    __syncthreads();
    if (warp == 0) {
      const bool live = lane < static_cast<int>(blockDim.x / 32);
      best = live ? warp_values[lane] : warp_values[0];
      best_i = live ? index_buffer[lane] : index_buffer[0];
      for (int offset = 16; offset > 0; offset /= 2) {
        const V v = shfl_down(best, offset);
        const int64_t i = shfl_down(best_i, offset);
        if (beats(v, i, best, best_i, p.is_max)) best = v, best_i = i;
      }
      if (lane == 0) {
        if (p.values) static_cast<T*>(p.values)[o] = row[best_i];
        if (p.indices) p.indices[o] = best_i;
      }
    }
  }
}

template <typename T>
__global__ void arg_columns_kernel(ArgReduceParams p) {
  using V = device_acc_t<T>;
  const T* in = static_cast<const T*>(p.in);
  const ReduceShape s = p.shape;
  const int64_t outputs = s.outer * s.inner;
  for (int64_t k = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; k < outputs; k += int64_t{gridDim.x} * blockDim.x) {
    const T* column = column_start(in, s, k);
    V best = load_acc(column[0]);
    int64_t best_i = 0;
    for (int64_t r = 1; r < s.reduce && !is_nan(best); ++r) {
      const V v = load_acc(column[r * s.inner]);
      if (beats(v, r, best, best_i, p.is_max)) best = v, best_i = r;
    }
    if (p.values) static_cast<T*>(p.values)[k] = column[best_i * s.inner];
    if (p.indices) p.indices[k] = best_i;
  }
}

unsigned row_grid(int64_t outer) { return static_cast<unsigned>(outer < 65535 ? (outer > 0 ? outer : 1) : 65535); }

}  // namespace

void reduce(const ReduceParams& p) {
  const ReduceShape s = p.shape;
  if (s.outer * s.inner == 0) return;
  const bool rows = s.inner == 1;
  const cudaStream_t stream = current_stream();
  visit_device_dtype(p.dtype, [&]<typename T>() {
    const T* in = static_cast<const T*>(p.in);
    if (p.op == ReduceOp::Sum) {
      auto* out = static_cast<sum_out_t<T>*>(p.out);
      if (rows)
        launch_on(stream, "reduce", sum_rows_kernel<T>, row_grid(s.outer), kThreads, 0, in, out, s, p.scale);
      else
        launch_on(stream, "reduce", sum_columns_kernel<T>, grid_for(s.outer * s.inner), kThreads, 0, in, out, s,
                  p.scale);
    } else if constexpr (std::is_floating_point_v<device_acc_t<T>>) {
      const double divisor = static_cast<double>(s.reduce - p.correction > 0 ? s.reduce - p.correction : 0);
      auto* out = static_cast<T*>(p.out);
      if (rows)
        launch_on(stream, "reduce", var_rows_kernel<T>, row_grid(s.outer), kThreads, 0, in, out, s, divisor);
      else
        launch_on(stream, "reduce", var_columns_kernel<T>, grid_for(s.outer * s.inner), kThreads, 0, in, out, s,
                  divisor);
    } else {
      throw DTypeError(::striate::detail::concat("var: expected a floating-point tensor, got ", dtype_name(p.dtype)));
    }
  });
}

void arg_reduce(const ArgReduceParams& p) {
  const ReduceShape s = p.shape;
  if (s.outer * s.inner == 0) return;
  const cudaStream_t stream = current_stream();
  visit_device_dtype(p.dtype, [&]<typename T>() {
    if (s.inner == 1)
      launch_on(stream, "arg_reduce", arg_rows_kernel<T>, row_grid(s.outer), kThreads, 0, p);
    else
      launch_on(stream, "arg_reduce", arg_columns_kernel<T>, grid_for(s.outer * s.inner), kThreads, 0, p);
  });
}

}  // namespace striate::kernels::cuda
