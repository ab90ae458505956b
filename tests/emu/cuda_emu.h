// The CUDA emulator's prelude: force-included (-include) before each
// src/kernels/cuda/*.cu file compiled by g++ as C++ for tests/emu, it
// supplies what nvcc would — the execution-space keywords, the built-in
// thread coordinates, barriers, warp shuffles, atomics and the device
// intrinsics the kernels call — so the kernels run on host memory.
//
// The execution model (cuda_emu.cpp): the blocks of a grid run one after
// another; the threads of a block run at once as real OS threads, so
// __syncthreads is a real barrier and a missing one is a real race. Shared
// memory is `static` storage, which is right because blocks do not overlap.
// Warp collectives meet at a per-warp barrier and trade values through a
// per-warp slot array. A thread that returns leaves its barriers, as exited
// GPU threads no longer hold up __syncthreads. Bad launch configurations set
// the error cudaGetLastError returns, as the runtime does.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

// crt/host_defines.h defines these as nothing (or not at all) for a host
// compiler; the emulator needs shared memory to be one object per block.
#undef __shared__
#define __shared__ static
#undef __launch_bounds__
#define __launch_bounds__(...)
#undef __forceinline__
#define __forceinline__ inline

// The built-in coordinates: per OS thread, set by the emulator before each block.
extern thread_local uint3 threadIdx;
extern thread_local uint3 blockIdx;
extern thread_local dim3 blockDim;
extern thread_local dim3 gridDim;
constexpr int warpSize = 32;

namespace striate_emu {

// The launch geometry, checked against CUDA's limits by run_grid.
struct LaunchConfig {
  dim3 grid, block;
  size_t shared_bytes;
};

// Runs body once per thread of every block of the grid (blocks one at a
// time), or sets the launch error when the configuration is invalid.
void run_grid(const LaunchConfig& config, const std::function<void()>& body);

void sync_block();           // __syncthreads
void sync_warp(unsigned mask);  // __syncwarp and the two meetings of a shuffle
int lane_id();
// This lane's slot of its warp's exchange array (16 bytes: any shuffled scalar).
unsigned char* warp_slot(int lane);
constexpr size_t kSlotBytes = 16;

// The launch seam of src/kernels/cuda/launch.cuh: each thread calls the
// kernel with its own copy of the arguments, converted as <<<>>> would.
template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t /*stream*/,
            Args&&... args) {
  const std::tuple<std::decay_t<Params>...> params(std::forward<Args>(args)...);
  run_grid({grid, block, shared_bytes}, [&] { std::apply(kernel, params); });
}

// A shuffle: every lane publishes v, then reads the slot of the lane
// `source(lane)` names (its own when that is out of range), between two
// warp meetings so no lane overwrites a slot before all have read it.
template <typename T, typename Source>
T shuffle(unsigned mask, T v, Source source) {
  static_assert(sizeof(T) <= kSlotBytes && std::is_trivially_copyable_v<T>, "shuffle of an unsupported type");
  const int lane = lane_id();
  std::memcpy(warp_slot(lane), &v, sizeof(T));
  sync_warp(mask);
  T result;
  std::memcpy(&result, warp_slot(source(lane)), sizeof(T));
  sync_warp(mask);
  return result;
}

// Every lane's `mine`, in lane order: a warp collective like a shuffle.
template <typename T>
void warp_all(const T& mine, T (&all)[32]) {
  static_assert(sizeof(T) <= kSlotBytes && std::is_trivially_copyable_v<T>, "warp_all of an unsupported type");
  std::memcpy(warp_slot(lane_id()), &mine, sizeof(T));
  sync_warp(0xffffffffu);
  for (int lane = 0; lane < 32; ++lane) std::memcpy(&all[lane], warp_slot(lane), sizeof(T));
  sync_warp(0xffffffffu);
}

// cvt.rna.tf32.f32: keeps 10 mantissa bits, rounding to nearest with ties
// away from zero (half a TF32 ulp added to the magnitude); Inf and NaN pass.
inline float to_tf32(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  if ((bits & 0x7f800000u) == 0x7f800000u) return x;
  return std::bit_cast<float>((bits + 0x1000u) & ~0x1fffu);
}

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 with d as C and D, on
// the fragment layout src/kernels/cuda/mma.cuh spells out: the lanes trade
// fragments, then each sums its four elements of D over k in order, in f32.
// The operands' 13 low bits are dropped, as the hardware ignores them, so a
// kernel that forgets to_tf32 gets truncated (wrong) products here too.
inline void mma_tf32_m16n8k8(float (&d)[4], const float (&a)[4], const float (&b)[2]) {
  struct A4 { float v[4]; };
  struct B2 { float v[2]; };
  A4 a_of[32];
  B2 b_of[32];
  warp_all(A4{{a[0], a[1], a[2], a[3]}}, a_of);
  warp_all(B2{{b[0], b[1]}}, b_of);
  const auto tf32_bits = [](float v) { return std::bit_cast<float>(std::bit_cast<uint32_t>(v) & ~0x1fffu); };
  float A[16][8], B[8][8];
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4, t = lane % 4;
    A[g][t] = tf32_bits(a_of[lane].v[0]);
    A[g + 8][t] = tf32_bits(a_of[lane].v[1]);
    A[g][t + 4] = tf32_bits(a_of[lane].v[2]);
    A[g + 8][t + 4] = tf32_bits(a_of[lane].v[3]);
    B[t][g] = tf32_bits(b_of[lane].v[0]);
    B[t + 4][g] = tf32_bits(b_of[lane].v[1]);
  }
  const int g = lane_id() / 4, t = lane_id() % 4;
  for (int i = 0; i < 4; ++i) {
    const int row = g + (i >= 2 ? 8 : 0), col = 2 * t + (i & 1);
    float sum = d[i];
    for (int k = 0; k < 8; ++k) sum += A[row][k] * B[k][col];
    d[i] = sum;
  }
}

}  // namespace striate_emu

inline void __syncthreads() { striate_emu::sync_block(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { striate_emu::sync_warp(mask); }

// Lane arithmetic as the PTX shfl instruction: `width` splits the warp into
// segments; a source outside the caller's segment yields the caller's value.
template <typename T>
T __shfl_sync(unsigned mask, T v, int src_lane, int width = warpSize) {
  return striate_emu::shuffle(mask, v, [&](int lane) { return (lane & ~(width - 1)) + (src_lane & (width - 1)); });
}
template <typename T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = warpSize) {
  return striate_emu::shuffle(mask, v, [&](int lane) {
    const int in_segment = lane & (width - 1);
    return in_segment >= static_cast<int>(delta) ? lane - static_cast<int>(delta) : lane;
  });
}
template <typename T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = warpSize) {
  return striate_emu::shuffle(mask, v, [&](int lane) {
    const int in_segment = lane & (width - 1);
    return in_segment + static_cast<int>(delta) < width ? lane + static_cast<int>(delta) : lane;
  });
}
template <typename T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = warpSize) {
  return striate_emu::shuffle(mask, v, [&](int lane) {
    const int source = lane ^ lane_mask;
    return (source & ~(width - 1)) == (lane & ~(width - 1)) ? source : lane;
  });
}

// Atomics: the overloads CUDA has, on host memory through std::atomic_ref
// (threads of a block really do race for them).
inline int atomicAdd(int* a, int v) { return std::atomic_ref<int>(*a).fetch_add(v); }
inline unsigned atomicAdd(unsigned* a, unsigned v) { return std::atomic_ref<unsigned>(*a).fetch_add(v); }
inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) {
  return std::atomic_ref<unsigned long long>(*a).fetch_add(v);
}
inline float atomicAdd(float* a, float v) { return std::atomic_ref<float>(*a).fetch_add(v); }
inline double atomicAdd(double* a, double v) { return std::atomic_ref<double>(*a).fetch_add(v); }
inline int atomicMax(int* a, int v) {
  std::atomic_ref<int> r(*a);
  int old = r.load();
  while (old < v && !r.compare_exchange_weak(old, v)) {}
  return old;
}
inline int atomicCAS(int* a, int expected, int desired) {
  std::atomic_ref<int>(*a).compare_exchange_strong(expected, desired);
  return expected;
}
inline unsigned long long atomicCAS(unsigned long long* a, unsigned long long expected, unsigned long long desired) {
  std::atomic_ref<unsigned long long>(*a).compare_exchange_strong(expected, desired);
  return expected;
}

// Device intrinsics. The _rn forms round to nearest even, which is what
// host IEEE arithmetic does (no contraction into FMA: see the CMake flags).
template <typename T>
inline T __ldg(const T* p) { return *p; }
inline unsigned __umulhi(unsigned a, unsigned b) {
  return static_cast<unsigned>((static_cast<unsigned long long>(a) * b) >> 32);
}
inline double __longlong_as_double(long long v) { return std::bit_cast<double>(v); }
inline long long __double_as_longlong(double v) { return std::bit_cast<long long>(v); }
inline float __int_as_float(int v) { return std::bit_cast<float>(v); }
inline int __float_as_int(float v) { return std::bit_cast<int>(v); }
inline float __uint_as_float(unsigned v) { return std::bit_cast<float>(v); }
inline unsigned __float_as_uint(float v) { return std::bit_cast<unsigned>(v); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline double __dsqrt_rn(double a) { return std::sqrt(a); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }

// The CUDA math library's overloads in the global namespace: float in,
// float out (as in device code), not the C library's double versions.
using std::exp;
using std::expm1;
using std::fabs;
using std::isinf;
using std::isnan;
using std::log;
using std::log1p;
using std::pow;
using std::sqrt;
using std::tanh;
using std::erf;
using std::floor;
using std::ceil;
using std::fmax;
using std::fmin;

// Device min/max: CUDA declares them for mixed integer types too.
template <typename A, typename B>
inline std::common_type_t<A, B> min(A a, B b) {
  return b < a ? b : a;
}
template <typename A, typename B>
inline std::common_type_t<A, B> max(A a, B b) {
  return a < b ? b : a;
}
