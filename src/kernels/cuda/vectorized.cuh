// The elementwise engine's fast path: 16-byte loads and stores when every
// operand is one contiguous, aligned run.
//
// Elementwise kernels and activations are memory-bound (issue 7 asks them
// for 85% of a device-to-device copy's bandwidth): with one scalar access
// per element a warp issues several memory instructions where one 16-byte
// access per thread would do. So when the op layer's coalesced loop is a
// single run in which every operand is contiguous (byte stride == element
// size: no broadcasting, no transposition) and aligned, each thread takes
// V = 16 / (widest element size) consecutive elements: it loads V elements
// of each input with one aligned access (16 bytes for the widest operand,
// V * size for narrower ones: 4 bytes of bool beside 4 floats), applies the
// same per-element functor to each lane in registers, and stores the output
// the same way. A scalar tail takes the last n % V elements. Anything else
// (strides, broadcasting, a misaligned view, a 0-dim tensor) runs through
// for_each_element, element by element; the functor is the same, so both
// paths compute identical bits.
#pragma once

#include <cstdint>
#include <cstring>
#include <utility>

#include "kernels/cuda/launch.cuh"

namespace striate::kernels::cuda {

// The element types of a functor's operands, output first, in Loop order:
// a functor for for_each_element_vectorized declares `using Operands = ...`.
template <typename... Ts>
struct Operands {};

constexpr int kVectorBytes = 16;

namespace vectorized_detail {

// The unsigned type of each access width, so each is one instruction.
template <int Bytes> struct word;
template <> struct word<16> { using type = uint4; };
template <> struct word<8> { using type = uint2; };
template <> struct word<4> { using type = uint32_t; };
template <> struct word<2> { using type = uint16_t; };
template <> struct word<1> { using type = uint8_t; };

// memcpy between the word and the lane bytes keeps the type punning well
// defined; it compiles to register moves.
template <int Bytes>
__device__ __forceinline__ void load_word(unsigned char* lanes, const char* src) {
  const typename word<Bytes>::type w = *reinterpret_cast<const typename word<Bytes>::type*>(src);
  memcpy(lanes, &w, Bytes);
}

template <int Bytes>
__device__ __forceinline__ void store_word(char* dst, const unsigned char* lanes) {
  typename word<Bytes>::type w;
  memcpy(&w, lanes, Bytes);
  *reinterpret_cast<typename word<Bytes>::type*>(dst) = w;
}

template <typename... Ts>
__host__ __device__ constexpr int lanes_per_vector() {
  size_t widest = 1;
  ((widest = sizeof(Ts) > widest ? sizeof(Ts) : widest), ...);
  return static_cast<int>(kVectorBytes / widest);
}

// Vector `v` of every operand: inputs loaded into `lanes`, f applied lane by
// lane, the output (operand 0) stored.
template <int V, typename... Ts, typename F, size_t... K>
__device__ __forceinline__ void apply_vector(char* const* data, int64_t v, const F& f, std::index_sequence<K...>) {
  constexpr int N = sizeof...(Ts);
  constexpr int kSize[N] = {static_cast<int>(sizeof(Ts))...};
  alignas(kVectorBytes) unsigned char lanes[N][kVectorBytes];
  ((K > 0 ? load_word<V * sizeof(Ts)>(lanes[K], data[K] + v * (V * sizeof(Ts))) : void()), ...);
#pragma unroll
  for (int j = 0; j < V; ++j) {
    char* p[N];
#pragma unroll
    for (int k = 0; k < N; ++k) p[k] = reinterpret_cast<char*>(lanes[k]) + j * kSize[k];
    f(p);
  }
  store_word<V * kSize[0]>(data[0] + v * (V * kSize[0]), lanes[0]);
}

// n contiguous elements of each operand: whole vectors first, then the tail
// element by element, both grid-stride.
template <typename F, typename... Ts>
__global__ void for_each_vector_kernel(Loop<sizeof...(Ts)> loop, int64_t n, F f) {
  constexpr int N = sizeof...(Ts);
  constexpr int V = lanes_per_vector<Ts...>();
  constexpr int kSize[N] = {static_cast<int>(sizeof(Ts))...};
  const int64_t first = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  const int64_t step = int64_t{gridDim.x} * blockDim.x;
  const int64_t vectors = n / V;
  for (int64_t v = first; v < vectors; v += step)
    apply_vector<V, Ts...>(loop.data, v, f, std::make_index_sequence<N>{});
  for (int64_t i = vectors * V + first; i < n; i += step) {
    char* p[N];
    for (int k = 0; k < N; ++k) p[k] = loop.data[k] + i * kSize[k];
    f(p);
  }
}

// True when the loop is one run, every operand contiguous and its base
// aligned to its access width (V elements of its type).
template <int V, typename... Ts>
bool is_contiguous_and_aligned(const Loop<sizeof...(Ts)>& loop) {
  constexpr int64_t kSize[] = {static_cast<int64_t>(sizeof(Ts))...};
  if (loop.ndim != 1) return false;  // 0: one element; > 1: strided somewhere
  for (size_t k = 0; k < sizeof...(Ts); ++k) {
    if (loop.strides[k][0] != kSize[k]) return false;  // broadcast (0), strided or reversed
    if (reinterpret_cast<uintptr_t>(loop.data[k]) % (V * kSize[k]) != 0) return false;
  }
  return true;
}

template <typename F, typename... Ts>
void run(const Loop<sizeof...(Ts)>& loop, const F& f, const char* name, Operands<Ts...>) {
  constexpr int V = lanes_per_vector<Ts...>();
  const int64_t n = loop.numel();
  if (n == 0) return;
  if (!is_contiguous_and_aligned<V, Ts...>(loop)) return for_each_element(loop, f, name);
  launch(name, for_each_vector_kernel<F, Ts...>, grid_for((n + V - 1) / V), kThreads, 0, loop, n, f);
}

}  // namespace vectorized_detail

// for_each_element with the vector fast path: f is a functor as there, with
// `using Operands = Operands<Out, In...>` naming each operand's element type.
template <int N, typename F>
void for_each_element_vectorized(const Loop<N>& loop, F f, const char* name) {
  vectorized_detail::run(loop, f, name, typename F::Operands{});
}

}  // namespace striate::kernels::cuda
