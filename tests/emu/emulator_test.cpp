// The emulator itself (cuda_emu.h): a block's threads really meet at
// __syncthreads, shuffles move values between the right lanes, atomics
// from many threads add up, threads that return early do not hold up the
// others, bad launch configurations throw from check_launch as on a GPU,
// and the TF32 MMA follows PTX's fragment layout and rounding.
#define STRIATE_CUDA_EMULATION 1
#include "cuda_emu.h"
// (the prelude first, as the force-include puts it in a kernel file)

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/mma.cuh"
#include "striate/core/error.h"

namespace {

using striate::kernels::cuda::launch;

// Sums 1..n over each block through shared memory, shuffles and an atomic.
__global__ void block_sum_kernel(const int* values, int* block_sums, int* total) {
  __shared__ int warp_sums[32];
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  int v = values[blockIdx.x * blockDim.x + tid];
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  if (tid == 0) {
    int sum = 0;
    for (int w = 0; w < static_cast<int>(blockDim.x / 32); ++w) sum += warp_sums[w];
    block_sums[blockIdx.x] = sum;
    atomicAdd(total, sum);
  }
}

TEST(Emulator, SharedMemoryBarriersShufflesAndAtomicsGiveTheKnownSum) {
  const int blocks = 3, threads = 256;
  std::vector<int> values(blocks * threads);
  std::iota(values.begin(), values.end(), 1);
  std::vector<int> block_sums(blocks, -1);
  int total = 0;
  launch("block_sum", block_sum_kernel, blocks, threads, 0, values.data(), block_sums.data(), &total);
  for (int b = 0; b < blocks; ++b) {
    const int first = b * threads + 1, last = (b + 1) * threads;
    EXPECT_EQ(block_sums[b], (first + last) * threads / 2) << "block " << b;
  }
  EXPECT_EQ(total, blocks * threads * (blocks * threads + 1) / 2);
}

// Every lane records what each shuffle form hands it.
__global__ void shuffle_kernel(int* down, int* up, int* xor_, int* indexed) {
  const int lane = threadIdx.x;
  down[lane] = __shfl_down_sync(0xffffffffu, lane * 10, 3);
  up[lane] = __shfl_up_sync(0xffffffffu, lane * 10, 2, 8);
  xor_[lane] = __shfl_xor_sync(0xffffffffu, lane * 10, 5);
  indexed[lane] = __shfl_sync(0xffffffffu, lane * 10, 3, 16);
}

TEST(Emulator, ShufflesFollowThePtxLaneRules) {
  std::vector<int> down(32), up(32), xor_(32), indexed(32);
  launch("shuffle", shuffle_kernel, 1, 32, 0, down.data(), up.data(), xor_.data(), indexed.data());
  for (int lane = 0; lane < 32; ++lane) {
    EXPECT_EQ(down[lane], (lane + 3 < 32 ? lane + 3 : lane) * 10) << lane;
    EXPECT_EQ(up[lane], (lane % 8 >= 2 ? lane - 2 : lane) * 10) << lane;
    EXPECT_EQ(xor_[lane], (lane ^ 5) * 10) << lane;
    EXPECT_EQ(indexed[lane], (lane / 16 * 16 + 3) * 10) << lane;
  }
}

// Threads past `active` return at once; the rest still pass their barriers
// and reverse their values through shared memory.
__global__ void early_exit_kernel(int active, int* out) {
  __shared__ int staged[1024];
  const int tid = threadIdx.x;
  if (tid >= active) return;
  staged[tid] = tid;
  __syncthreads();
  out[tid] = staged[active - 1 - tid];
  __syncthreads();
}

TEST(Emulator, ThreadsThatReturnEarlyDoNotHoldUpTheBlock) {
  const int active = 100;
  std::vector<int> out(256, -1);
  launch("early_exit", early_exit_kernel, 2, 256, 0, active, out.data());
  for (int t = 0; t < 256; ++t) EXPECT_EQ(out[t], t < active ? active - 1 - t : -1) << t;
}

// Three-dimensional coordinates: every (block, thread) writes its own slot once.
__global__ void coordinates_kernel(int* hits) {
  const unsigned block = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
  const unsigned thread = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  atomicAdd(hits + block * blockDim.x * blockDim.y * blockDim.z + thread, 1);
}

TEST(Emulator, EveryThreadOfAThreeDimensionalGridRunsOnce) {
  const dim3 grid(3, 2, 2), block(8, 4, 2);
  std::vector<int> hits(3 * 2 * 2 * 8 * 4 * 2, 0);
  launch("coordinates", coordinates_kernel, grid, block, 0, hits.data());
  for (size_t i = 0; i < hits.size(); ++i) EXPECT_EQ(hits[i], 1) << i;
}

__global__ void store_kernel(int* out) { out[threadIdx.x] = 1; }

TEST(Emulator, BadLaunchConfigurationsThrowAsOnAGpu) {
  std::vector<int> out(1024, 0);
  EXPECT_THROW(launch("too many threads", store_kernel, 1, 1025, 0, out.data()), striate::DeviceError);
  EXPECT_THROW(launch("block z over 64", store_kernel, 1, dim3(1, 1, 65), 0, out.data()), striate::DeviceError);
  EXPECT_THROW(launch("grid y over 65535", store_kernel, dim3(1, 65536), 1, 0, out.data()), striate::DeviceError);
  EXPECT_THROW(launch("empty grid", store_kernel, 0, 32, 0, out.data()), striate::DeviceError);
  EXPECT_THROW(launch("too much shared memory", store_kernel, 1, 32, 64 * 1024, out.data()), striate::DeviceError);
  EXPECT_EQ(out[0], 0);  // nothing ran
  // The error does not stick: the next good launch runs.
  launch("1024 threads", store_kernel, 1, 1024, 0, out.data());
  EXPECT_EQ(std::accumulate(out.begin(), out.end(), 0), 1024);
}

// One warp: D = A (16x8) * B (8x8) + C, row-major in global memory, each
// lane loading and storing its fragments where PTX's layout puts them.
__global__ void mma_kernel(const float* a, const float* b, const float* c, float* d) {
  const int g = threadIdx.x / 4, t = threadIdx.x % 4;
  using striate::kernels::cuda::to_tf32;
  const float a_frag[4] = {to_tf32(a[g * 8 + t]), to_tf32(a[(g + 8) * 8 + t]), to_tf32(a[g * 8 + t + 4]),
                           to_tf32(a[(g + 8) * 8 + t + 4])};
  const float b_frag[2] = {to_tf32(b[t * 8 + g]), to_tf32(b[(t + 4) * 8 + g])};
  float acc[4] = {c[g * 8 + 2 * t], c[g * 8 + 2 * t + 1], c[(g + 8) * 8 + 2 * t], c[(g + 8) * 8 + 2 * t + 1]};
  striate::kernels::cuda::mma_tf32_m16n8k8(acc, a_frag, b_frag);
  d[g * 8 + 2 * t] = acc[0];
  d[g * 8 + 2 * t + 1] = acc[1];
  d[(g + 8) * 8 + 2 * t] = acc[2];
  d[(g + 8) * 8 + 2 * t + 1] = acc[3];
}

TEST(Emulator, Tf32RoundsToNearestWithTiesAwayFromZero) {
  using striate_emu::to_tf32;
  const float ulp = std::ldexp(1.0f, -10);  // of TF32 at 1
  EXPECT_EQ(to_tf32(1.0f + ulp / 2), 1.0f + ulp);                            // a tie: away from zero
  EXPECT_EQ(to_tf32(-(1.0f + ulp / 2)), -(1.0f + ulp));
  EXPECT_EQ(to_tf32(1.0f + ulp / 2 - std::ldexp(1.0f, -23)), 1.0f);          // just below the tie
  EXPECT_EQ(to_tf32(1.0f + 3 * ulp / 2), 1.0f + 2 * ulp);                    // ties go away, not to even
  EXPECT_EQ(to_tf32(3.0f), 3.0f);
  EXPECT_TRUE(std::isinf(to_tf32(INFINITY)));
  EXPECT_TRUE(std::isnan(to_tf32(NAN)));
}

TEST(Emulator, Tf32MmaMultipliesTheFragmentsPtxDescribes) {
  std::vector<float> a(16 * 8), b(8 * 8), c(16 * 8), d(16 * 8, NAN);
  // Distinct values with bits below TF32's precision, so a misplaced element
  // or a missing rounding shows.
  for (size_t i = 0; i < a.size(); ++i) a[i] = 1.0f + static_cast<float>(i) / 64 + std::ldexp(1.0f, -14);
  for (size_t i = 0; i < b.size(); ++i) b[i] = 0.5f - static_cast<float>(i) / 128 + std::ldexp(1.0f, -15);
  for (size_t i = 0; i < c.size(); ++i) c[i] = static_cast<float>(i % 7) - 3;
  launch("mma", mma_kernel, 1, 32, 0, a.data(), b.data(), c.data(), d.data());
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 8; ++n) {
      float want = c[m * 8 + n];  // products of TF32 values are exact in f32; k summed in order
      for (int k = 0; k < 8; ++k) want += striate_emu::to_tf32(a[m * 8 + k]) * striate_emu::to_tf32(b[k * 8 + n]);
      EXPECT_EQ(d[m * 8 + n], want) << "D[" << m << "][" << n << "]";
    }
}

}  // namespace
