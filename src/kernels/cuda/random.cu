// The CUDA fill: one thread per Philox counter, writing the V elements that
// counter serves (kernels/random.h). It computes each value with the same
// host/device functions as the CPU backend, so the two give the same tensor.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "kernels/cuda/launch.cuh"
#include "kernels/random.h"

namespace striate::kernels::cuda {

using namespace random_detail;

namespace {

// Rounds as the CPU does: double -> float -> 16-bit float, to nearest even.
template <typename Out>
__device__ Out from_double(double v) {
  if constexpr (std::is_same_v<Out, __half>) return __float2half_rn(static_cast<float>(v));
  else if constexpr (std::is_same_v<Out, __nv_bfloat16>) return __float2bfloat16_rn(static_cast<float>(v));
  else if constexpr (std::is_same_v<Out, double>) return v;
  else return static_cast<Out>(static_cast<float>(v));
}

template <typename Out>
__device__ double to_double(Out v) {
  if constexpr (std::is_same_v<Out, __half>) return __half2float(v);
  else if constexpr (std::is_same_v<Out, __nv_bfloat16>) return __bfloat162float(v);
  else return static_cast<double>(v);
}

template <typename Out>
__device__ Out from_int(int64_t v) {
  if constexpr (std::is_same_v<Out, bool>) return v != 0;
  else if constexpr (std::is_same_v<Out, __half> || std::is_same_v<Out, __nv_bfloat16>)
    return from_double<Out>(static_cast<double>(static_cast<float>(v)));
  else return static_cast<Out>(v);
}

template <typename Out>
__device__ Out element(const RandomParams& p, const philox::Block& b, int lane, bool wide) {
  constexpr bool kFloating = std::is_same_v<Out, float> || std::is_same_v<Out, double> ||
                             std::is_same_v<Out, __half> || std::is_same_v<Out, __nv_bfloat16>;
  switch (p.dist) {
    case Distribution::Uniform:
      if constexpr (kFloating) {
        const double v = wide ? uniform_wide(p, b, lane) : uniform_narrow(p, b, lane);
        Out out = from_double<Out>(v);
        if (to_double(out) >= p.b && p.b > p.a) out = from_double<Out>(p.a);  // keep [from, to)
        return out;
      }
      break;
    case Distribution::Normal:
      if constexpr (kFloating) return from_double<Out>(wide ? normal_wide(p, b, lane) : normal_narrow(p, b, lane));
      break;
    case Distribution::Bernoulli: return from_int<Out>(bernoulli(p, b, lane) ? 1 : 0);
    case Distribution::RandomInt: return from_int<Out>(random_int(p, b, lane, wide));
  }
  return Out{};
}

// Consecutive threads take consecutive counters, so a warp writes one
// contiguous span of 32 * V elements.
template <typename Out>
__global__ void fill_random_kernel(RandomParams p, int per_counter) {
  const int64_t counters = (p.numel + per_counter - 1) / per_counter;
  Out* out = static_cast<Out*>(p.out);
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < counters; k += step) {
    const philox::Block b = philox::philox4x32_10(p.offset + static_cast<uint64_t>(k), 0, p.seed);
    const int64_t first = k * per_counter;
    const int64_t left = p.numel - first;
    const int lanes = left < per_counter ? static_cast<int>(left) : per_counter;
    for (int lane = 0; lane < lanes; ++lane) out[first + lane] = element<Out>(p, b, lane, per_counter == 2);
  }
}

template <typename Out>
void fill(const RandomParams& p, int per_counter) {
  constexpr int kThreads = 256;
  const int64_t counters = (p.numel + per_counter - 1) / per_counter;
  // Enough blocks to fill the GPU several times over; the grid-stride loop covers the rest.
  const int64_t blocks = (counters + kThreads - 1) / kThreads;
  const unsigned grid = static_cast<unsigned>(blocks < 65536 ? blocks : 65536);
  // On the current stream, as every other kernel: the pool's streams do not
  // wait for the legacy default stream.
  launch("random", fill_random_kernel<Out>, grid, kThreads, 0, p, per_counter);
}

}  // namespace

void random(const RandomParams& p) {
  if (p.numel == 0) return;
  const int per_counter = values_per_counter(p.dist, p.dtype, p.range);
  switch (p.dtype) {
    case DType::Bool: return fill<bool>(p, per_counter);
    case DType::U8: return fill<uint8_t>(p, per_counter);
    case DType::I32: return fill<int32_t>(p, per_counter);
    case DType::I64: return fill<int64_t>(p, per_counter);
    case DType::F16: return fill<__half>(p, per_counter);
    case DType::BF16: return fill<__nv_bfloat16>(p, per_counter);
    case DType::F32: return fill<float>(p, per_counter);
    case DType::F64: return fill<double>(p, per_counter);
  }
}

}  // namespace striate::kernels::cuda
