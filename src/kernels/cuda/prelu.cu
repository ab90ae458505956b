// CUDA prelu (kernels/activation.h): forward and grad_input one thread per
// element of the [outer, channels, inner] input; grad_weight a per-channel
// sum in double (kernels/cuda/channels.cuh: a block per channel, or channel
// tiles when inner == 1), written straight into the weight's dtype. Each
// float dtype computes in its arithmetic type, as on the CPU.
#include "kernels/activation.h"
#include "kernels/cuda/channels.cuh"
#include "kernels/cuda/launch.cuh"

namespace striate::kernels::cuda {
namespace {

using namespace channels;

template <typename T, typename Index>
__global__ void prelu_kernel(const T* __restrict__ x, const T* __restrict__ w, T* __restrict__ y, Index n,
                             ChannelIndexer<Index> ix) {
  using A = device_acc_t<T>;
  for (Index e = first_index<Index>(); e < n; e += grid_stride<Index>()) {
    const A v = load_acc(x[e]);
    y[e] = store_acc<T>(v > A(0) ? v : load_acc(w[ix.channel(e)]) * v);
  }
}

template <typename T, typename Index>
__global__ void prelu_backward_input_kernel(const T* __restrict__ g, const T* __restrict__ x,
                                            const T* __restrict__ w, T* __restrict__ gx, Index n,
                                            ChannelIndexer<Index> ix) {
  using A = device_acc_t<T>;
  for (Index e = first_index<Index>(); e < n; e += grid_stride<Index>()) {
    const A gv = load_acc(g[e]);
    gx[e] = store_acc<T>(load_acc(x[e]) > A(0) ? gv : load_acc(w[ix.channel(e)]) * gv);
  }
}

// grad_weight[c] = sum over the channel of (x > 0 ? 0 : x * grad_out).
template <typename T>
struct WeightGradOp : SumDouble {
  using A = device_acc_t<T>;
  const T* grad_out;
  const T* x;
  T* grad_weight;

  __device__ double load(int64_t offset, int64_t, int64_t) const {
    const A v = load_acc(x[offset]);
    return v > A(0) ? 0.0 : static_cast<double>(v * load_acc(grad_out[offset]));
  }
  __device__ void finish(double acc, int64_t c) const { grad_weight[c] = store_acc<T>(static_cast<A>(acc)); }
};

ChannelShape channel_shape(const PreluShape& s) { return {s.outer, s.channels, s.inner}; }

template <typename F>
void visit_device_floating(DType dtype, const char* name, F&& f) {
  visit_device_dtype(dtype, [&]<typename T>() {
    if constexpr (std::is_floating_point_v<device_acc_t<T>>) f.template operator()<T>();
    else
      throw DTypeError(::striate::detail::concat(name, ": expected a floating-point tensor, got ", dtype_name(dtype)));
  });
}

}  // namespace

void prelu(const PreluParams& p) {
  visit_device_floating(p.dtype, "prelu", [&]<typename T>() {
    const ChannelShape shape = channel_shape(p.shape);
    const int64_t n = shape.outer * shape.channels * shape.inner;
    if (n == 0) return;
    visit_index(shape, [&]<typename Index>() {
      launch("prelu", prelu_kernel<T, Index>, grid_for(n), kThreads, 0, static_cast<const T*>(p.input),
             static_cast<const T*>(p.weight), static_cast<T*>(p.output), static_cast<Index>(n),
             ChannelIndexer<Index>(shape));
    });
  });
}

void prelu_backward(const PreluBackwardParams& p) {
  visit_device_floating(p.dtype, "prelu backward", [&]<typename T>() {
    const ChannelShape shape = channel_shape(p.shape);
    const int64_t n = shape.outer * shape.channels * shape.inner;
    if (p.grad_input && n > 0) {
      visit_index(shape, [&]<typename Index>() {
        launch("prelu backward", prelu_backward_input_kernel<T, Index>, grid_for(n), kThreads, 0,
               static_cast<const T*>(p.grad_out), static_cast<const T*>(p.input), static_cast<const T*>(p.weight),
               static_cast<T*>(p.grad_input), static_cast<Index>(n), ChannelIndexer<Index>(shape));
      });
    }
    if (p.grad_weight) {
      WeightGradOp<T> op;
      op.grad_out = static_cast<const T*>(p.grad_out);
      op.x = static_cast<const T*>(p.input);
      op.grad_weight = static_cast<T*>(p.grad_weight);
      reduce_channels(op, shape, sizeof(T), "prelu backward (weight)");
    }
  });
}

}  // namespace striate::kernels::cuda
