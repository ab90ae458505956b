// The three convolution passes as implicit GEMMs (implicit_gemm.cuh): the
// im2col matrix is never formed; each operand element is computed from the
// tensors where the tile is staged. Per channel group g (blockIdx.z):
//
//   forward      y[o, (b,oh,ow)]     = sum over (c,ki,kj) of w[o, (c,ki,kj)] * x(b, c, ih, iw)
//   grad input   gx[c, (b,h,w)]      = sum over (o,ki,kj) of w[o, c, ki, kj] * gy(b, o, oh, ow)
//                                      where h = oh*sh - pt + ki*dh (terms off the stride grid vanish)
//   grad weight  gw[o, (c,ki,kj)]    = sum over (b,oh,ow) of gy[b, o, oh, ow] * x(b, c, ih, iw)
//
// Channels last (x, y NHWC; w OHWI) orders k as (ki, kj, c) with the channel
// fastest, so a run along k is a run of contiguous channels, and puts the
// pixels on M, so that the NHWC stores (channels contiguous) coalesce:
//
//   forward      y[(b,oh,ow), o]     = sum over (ki,kj,c) of x(b, ih, iw, c) * w[o, (ki,kj,c)]
//   grad input   gx[(b,h,w), c]      = sum over (ki,kj,o) of gy(b, oh, ow, o) * w[o, ki, kj, c]
//   grad weight  gw[o, (ki,kj,c)]    = sum over (b,oh,ow) of gy[b, oh, ow, o] * x(b, ih, iw, c)
//
// Grad weight sums over the whole batch, a long K with few output tiles, so
// it splits K across blocks. By default the splits accumulate with atomicAdd
// into a zeroed gw, in whatever order the blocks finish; with deterministic
// algorithms each split stores into its own slice of scratch and
// sum_splits_kernel adds the slices in split order, the same bits every run.
// Indices inside one GEMM are 32-bit (the dispatcher checks they fit); batch
// offsets are 64-bit. Indices are decoded by ConvDims' fast divisors, since
// every staged element needs two or three divisions.
#include "kernels/conv.h"
#include "kernels/cuda/conv_dims.cuh"
#include "kernels/cuda/implicit_gemm.cuh"
#include "kernels/cuda/launch.cuh"

namespace striate::kernels::cuda {
namespace {

// Where a grad-weight block's sum for element `at` of gw goes (see the top).
template <typename T>
__device__ __forceinline__ void store_grad_weight(T* gw, T* partials, int splits, int64_t slice, int64_t at, T v) {
  if (splits == 1) gw[at] = v;
  else if (partials != nullptr) partials[(blockIdx.z % splits) * slice + at] = v;  // blockIdx.z: (group, split)
  else atomicAdd(gw + at, v);
}

// gw[i] = the sum of the splits' slices at i, in split order.
template <typename T>
__global__ void sum_splits_kernel(const T* partials, int splits, int64_t slice, T* gw) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < slice; i += int64_t{gridDim.x} * blockDim.x) {
    T sum = partials[i];
    for (int s = 1; s < splits; ++s) sum += partials[s * slice + i];
    gw[i] = sum;
  }
}

template <typename T_>
struct ForwardProblem {
  using T = T_;
  static constexpr bool kAFastK = true;   // a weight row is contiguous along k
  static constexpr bool kBFastK = false;  // neighbouring outputs read neighbouring inputs
  ConvDims d;
  const T* x;
  const T* w;
  const T* bias;
  T* y;
  int M, N, K;

  struct ACtx { const T* row; };
  __device__ ACtx a_row(int g, int m) const { return {w + (int64_t{g} * d.Og + m) * K}; }
  __device__ T a(const ACtx& c, int k) const { return c.row[k]; }

  struct BCtx { const T* image; int ih0, iw0; };
  __device__ BCtx b_col(int g, int n) const {
    const auto [b, r] = d.by.oHW.divmod(n);
    const auto [oh, ow] = d.by.oW.divmod(r);
    return {x + (int64_t{b} * d.C + int64_t{g} * d.Cg) * d.HW, oh * d.sh - d.pt, ow * d.sw - d.pl};
  }
  __device__ T b(const BCtx& c, int k) const {
    const auto [ch, tap] = d.by.kHW.divmod(k);
    const auto [ki, kj] = d.by.kW.divmod(tap);
    const int ih = c.ih0 + ki * d.dh, iw = c.iw0 + kj * d.dw;
    return (static_cast<unsigned>(ih) < static_cast<unsigned>(d.H) && static_cast<unsigned>(iw) < static_cast<unsigned>(d.W))
               ? c.image[int64_t{ch} * d.HW + ih * d.W + iw]
               : T(0);
  }

  __device__ void store(int g, int m, int n, T v) const {
    const int o = g * d.Og + m;
    const auto [b, r] = d.by.oHW.divmod(n);
    y[(int64_t{b} * d.O + o) * d.oHW + r] = bias != nullptr ? v + bias[o] : v;
  }
};

template <typename T_>
struct GradInputProblem {
  using T = T_;
  static constexpr bool kAFastK = true;   // w[o, c, :, :] is a contiguous run of kHW
  static constexpr bool kBFastK = false;  // neighbouring input pixels read neighbouring output gradients
  ConvDims d;
  const T* w;
  const T* gy;
  T* gx;
  int M, N, K;

  struct ACtx { const T* first; };  // w[g*Og, c, 0, 0]
  __device__ ACtx a_row(int g, int c) const { return {w + (int64_t{g} * d.Og * d.Cg + c) * d.kHW}; }
  __device__ T a(const ACtx& ctx, int k) const {
    const auto [o, tap] = d.by.kHW.divmod(k);
    return ctx.first[int64_t{o} * d.Cg * d.kHW + tap];
  }

  struct BCtx { const T* grad; int hp, wp; };  // hp, wp: the pixel in padded coordinates
  __device__ BCtx b_col(int g, int n) const {
    const auto [b, r] = d.by.HW.divmod(n);
    const auto [ih, iw] = d.by.W.divmod(r);
    return {gy + (int64_t{b} * d.O + int64_t{g} * d.Og) * d.oHW, ih + d.pt, iw + d.pl};
  }
  __device__ T b(const BCtx& c, int k) const {
    const auto [o, tap] = d.by.kHW.divmod(k);
    const auto [ki, kj] = d.by.kW.divmod(tap);
    const int th = c.hp - ki * d.dh, tw = c.wp - kj * d.dw;
    if (th < 0 || tw < 0) return T(0);
    const auto [oh, h_off_grid] = d.by.sh.divmod(th);
    const auto [ow, w_off_grid] = d.by.sw.divmod(tw);
    if (h_off_grid != 0 || w_off_grid != 0) return T(0);
    return (oh < d.oH && ow < d.oW) ? c.grad[int64_t{o} * d.oHW + oh * d.oW + ow] : T(0);
  }

  __device__ void store(int g, int c, int n, T v) const {
    const auto [b, r] = d.by.HW.divmod(n);
    gx[(int64_t{b} * d.C + int64_t{g} * d.Cg + c) * d.HW + r] = v;
  }
};

template <typename T_>
struct GradWeightProblem {
  using T = T_;
  static constexpr bool kAFastK = true;  // gy[b, o, :] runs along k
  static constexpr bool kBFastK = true;  // so do the input pixels of consecutive output positions
  ConvDims d;
  const T* x;
  const T* gy;
  T* gw;
  int M, N, K;
  int splits = 1;         // K splits (run_gemm_as sets it)
  T* partials = nullptr;  // deterministic split K: one slice of gw's size per split

  struct ACtx { const T* plane; };  // gy[0, g*Og + o]
  __device__ ACtx a_row(int g, int o) const { return {gy + (int64_t{g} * d.Og + o) * d.oHW}; }
  __device__ T a(const ACtx& c, int k) const {
    const auto [b, r] = d.by.oHW.divmod(k);
    return c.plane[int64_t{b} * d.O * d.oHW + r];
  }

  struct BCtx { const T* plane; int dh0, dw0; };  // x[0, g*Cg + c] and the tap's offset
  __device__ BCtx b_col(int g, int n) const {
    const auto [c, tap] = d.by.kHW.divmod(n);
    const auto [ki, kj] = d.by.kW.divmod(tap);
    return {x + (int64_t{g} * d.Cg + c) * d.HW, ki * d.dh - d.pt, kj * d.dw - d.pl};
  }
  __device__ T b(const BCtx& c, int k) const {
    const auto [b, r] = d.by.oHW.divmod(k);
    const auto [oh, ow] = d.by.oW.divmod(r);
    const int ih = oh * d.sh + c.dh0, iw = ow * d.sw + c.dw0;
    return (static_cast<unsigned>(ih) < static_cast<unsigned>(d.H) && static_cast<unsigned>(iw) < static_cast<unsigned>(d.W))
               ? c.plane[int64_t{b} * d.C * d.HW + ih * d.W + iw]
               : T(0);
  }

  __device__ void store(int g, int o, int n, T v) const {
    store_grad_weight(gw, partials, splits, int64_t{d.O} * N, (int64_t{g} * d.Og + o) * N + n, v);
  }
};

// ---- channels last -------------------------------------------------------

template <typename T_>
struct ForwardNhwcProblem {
  using T = T_;
  static constexpr bool kAFastK = true;  // a pixel's channels are contiguous
  static constexpr bool kBFastK = true;  // so is a filter's (ki, kj, c) run
  ConvDims d;
  const T* x;
  const T* w;
  const T* bias;
  T* y;
  int M, N, K;

  struct ACtx { const T* image; int ih0, iw0; };  // x[b, 0, 0, g*Cg] and the window's corner
  __device__ ACtx a_row(int g, int m) const {
    const auto [b, r] = d.by.oHW.divmod(m);
    const auto [oh, ow] = d.by.oW.divmod(r);
    return {x + int64_t{b} * d.HW * d.C + int64_t{g} * d.Cg, oh * d.sh - d.pt, ow * d.sw - d.pl};
  }
  __device__ T a(const ACtx& c, int k) const {
    const auto [tap, ch] = d.by.Cg.divmod(k);
    const auto [ki, kj] = d.by.kW.divmod(tap);
    const int ih = c.ih0 + ki * d.dh, iw = c.iw0 + kj * d.dw;
    return (static_cast<unsigned>(ih) < static_cast<unsigned>(d.H) && static_cast<unsigned>(iw) < static_cast<unsigned>(d.W))
               ? c.image[int64_t{ih * d.W + iw} * d.C + ch]
               : T(0);
  }

  struct BCtx { const T* filter; };
  __device__ BCtx b_col(int g, int n) const { return {w + (int64_t{g} * d.Og + n) * K}; }
  __device__ T b(const BCtx& c, int k) const { return c.filter[k]; }

  __device__ void store(int g, int m, int n, T v) const {
    const int o = g * d.Og + n;
    y[int64_t{m} * d.O + o] = bias != nullptr ? v + bias[o] : v;
  }
};

template <typename T_>
struct GradInputNhwcProblem {
  using T = T_;
  static constexpr bool kAFastK = true;   // a pixel's output gradients are contiguous along o
  static constexpr bool kBFastK = false;  // neighbouring input channels are neighbours in w
  ConvDims d;
  const T* w;
  const T* gy;
  T* gx;
  int M, N, K;

  struct ACtx { const T* grad; int hp, wp; };  // gy[b, 0, 0, g*Og]; the pixel in padded coordinates
  __device__ ACtx a_row(int g, int m) const {
    const auto [b, r] = d.by.HW.divmod(m);
    const auto [ih, iw] = d.by.W.divmod(r);
    return {gy + int64_t{b} * d.oHW * d.O + int64_t{g} * d.Og, ih + d.pt, iw + d.pl};
  }
  __device__ T a(const ACtx& c, int k) const {
    const auto [tap, o] = d.by.Og.divmod(k);
    const auto [ki, kj] = d.by.kW.divmod(tap);
    const int th = c.hp - ki * d.dh, tw = c.wp - kj * d.dw;
    if (th < 0 || tw < 0) return T(0);
    const auto [oh, h_off_grid] = d.by.sh.divmod(th);
    const auto [ow, w_off_grid] = d.by.sw.divmod(tw);
    if (h_off_grid != 0 || w_off_grid != 0) return T(0);
    return (oh < d.oH && ow < d.oW) ? c.grad[int64_t{oh * d.oW + ow} * d.O + o] : T(0);
  }

  struct BCtx { const T* first; };  // w[g*Og, 0, 0, c]
  __device__ BCtx b_col(int g, int n) const { return {w + int64_t{g} * d.Og * d.kHW * d.Cg + n}; }
  __device__ T b(const BCtx& c, int k) const {
    const auto [tap, o] = d.by.Og.divmod(k);
    return c.first[(int64_t{o} * d.kHW + tap) * d.Cg];
  }

  __device__ void store(int g, int m, int n, T v) const { gx[int64_t{m} * d.C + int64_t{g} * d.Cg + n] = v; }
};

template <typename T_>
struct GradWeightNhwcProblem {
  using T = T_;
  static constexpr bool kAFastK = false;  // neighbouring output channels are neighbours in gy
  static constexpr bool kBFastK = false;  // neighbouring input channels are neighbours in x
  ConvDims d;
  const T* x;
  const T* gy;
  T* gw;
  int M, N, K;
  int splits = 1;         // K splits (run_gemm_as sets it)
  T* partials = nullptr;  // deterministic split K: one slice of gw's size per split

  struct ACtx { const T* channel; };  // gy[0, 0, 0, g*Og + o]
  __device__ ACtx a_row(int g, int o) const { return {gy + int64_t{g} * d.Og + o}; }
  __device__ T a(const ACtx& c, int k) const { return c.channel[int64_t{k} * d.O]; }

  struct BCtx { const T* channel; int dh0, dw0; };  // x[0, 0, 0, g*Cg + c] and the tap's offset
  __device__ BCtx b_col(int g, int n) const {
    const auto [tap, c] = d.by.Cg.divmod(n);
    const auto [ki, kj] = d.by.kW.divmod(tap);
    return {x + int64_t{g} * d.Cg + c, ki * d.dh - d.pt, kj * d.dw - d.pl};
  }
  __device__ T b(const BCtx& c, int k) const {
    const auto [b, r] = d.by.oHW.divmod(k);
    const auto [oh, ow] = d.by.oW.divmod(r);
    const int ih = oh * d.sh + c.dh0, iw = ow * d.sw + c.dw0;
    return (static_cast<unsigned>(ih) < static_cast<unsigned>(d.H) && static_cast<unsigned>(iw) < static_cast<unsigned>(d.W))
               ? c.channel[(int64_t{b} * d.HW + ih * d.W + iw) * d.C]
               : T(0);
  }

  __device__ void store(int g, int o, int n, T v) const {
    store_grad_weight(gw, partials, splits, int64_t{d.O} * N, (int64_t{g} * d.Og + o) * N + n, v);
  }
};

template <typename Shape, typename Problem>
void run_gemm_as(const Problem& problem, const ConvParams& params, bool split_k, const char* name) {
  STRIATE_CHECK(gemm_grid_fits<Shape>(problem.M, params.groups), NotImplementedError, name, ": ", problem.M,
                " GEMM rows in ", params.groups, " groups exceed CUDA's grid; use the direct kernel");
  const GemmGrid grid = gemm_grid<Shape>(problem.M, problem.N, problem.K, params.groups, split_k);
  Problem p = problem;
  std::shared_ptr<Storage> partials;  // held until both kernels are queued
  if constexpr (requires { p.partials; }) {
    p.splits = grid.splits;
    if (grid.splits > 1 && params.deterministic) {
      partials = scratch(static_cast<size_t>(int64_t{p.d.O} * p.N * grid.splits) * sizeof(typename Problem::T));
      p.partials = static_cast<typename Problem::T*>(partials->data());
    }
  }
  launch(name, implicit_gemm_kernel<Shape, Problem>, grid.blocks, Shape::kThreads, 0, p, grid.k_chunk, grid.splits);
  if constexpr (requires { p.partials; }) {
    const int64_t slice = int64_t{p.d.O} * p.N;
    if (p.partials != nullptr)
      launch(name, sum_splits_kernel<typename Problem::T>, grid_for(slice), kThreads, 0, p.partials, grid.splits,
             slice, p.gw);
  }
}

// The TF32 tiles where the params allow it and this GPU runs their MMA code,
// else the f32 (f64) ones; of a family, the tile that fits M x N.
template <typename Problem>
void run_gemm(const Problem& problem, const ConvParams& params, bool split_k, const char* name) {
  const auto run = [&]<typename Shape>() { run_gemm_as<Shape>(problem, params, split_k, name); };
  if constexpr (std::is_same_v<typename Problem::T, float>) {
    if (params.allow_tf32 && runs_tf32_mma(implicit_gemm_kernel<Tf32Tile, Problem>))
      return tile_for(Tf32Tiles{}, problem.M, problem.N, run);
    tile_for(FloatTiles{}, problem.M, problem.N, run);
  } else {
    run.template operator()<DoubleTile>();
  }
}

}  // namespace

void conv2d_forward_implicit_gemm(const ConvParams& p, const void* input, const void* weight, const void* bias,
                                  void* output) {
  const ConvDims d = conv_dims(p, "conv2d_forward_implicit_gemm");
  if (p.batch == 0) return;
  visit_f32_f64(p.dtype, "conv2d", [&]<typename T>() {
    const auto x = static_cast<const T*>(input), w = static_cast<const T*>(weight), b = static_cast<const T*>(bias);
    const auto y = static_cast<T*>(output);
    const int pixels = d.batch * d.oHW, depth = d.Cg * d.kHW;
    if (p.channels_last)
      run_gemm(ForwardNhwcProblem<T>{d, x, w, b, y, pixels, d.Og, depth}, p, false, "conv2d_forward_implicit_gemm");
    else
      run_gemm(ForwardProblem<T>{d, x, w, b, y, d.Og, pixels, depth}, p, false, "conv2d_forward_implicit_gemm");
  });
}

void conv2d_grad_input_implicit_gemm(const ConvParams& p, const void* weight, const void* grad_output,
                                     void* grad_input) {
  const ConvDims d = conv_dims(p, "conv2d_grad_input_implicit_gemm");
  if (p.batch == 0) return;
  visit_f32_f64(p.dtype, "conv2d backward", [&]<typename T>() {
    const auto w = static_cast<const T*>(weight), gy = static_cast<const T*>(grad_output);
    const auto gx = static_cast<T*>(grad_input);
    const int pixels = d.batch * d.HW, depth = d.Og * d.kHW;
    if (p.channels_last)
      run_gemm(GradInputNhwcProblem<T>{d, w, gy, gx, pixels, d.Cg, depth}, p, false, "conv2d_grad_input_implicit_gemm");
    else
      run_gemm(GradInputProblem<T>{d, w, gy, gx, d.Cg, pixels, depth}, p, false, "conv2d_grad_input_implicit_gemm");
  });
}

void conv2d_grad_weight_implicit_gemm(const ConvParams& p, const void* input, const void* grad_output,
                                      void* grad_weight, void* grad_bias) {
  const ConvDims d = conv_dims(p, "conv2d_grad_weight_implicit_gemm");
  if (grad_bias != nullptr) conv2d_grad_bias(p, grad_output, grad_bias);
  if (grad_weight == nullptr) return;
  visit_f32_f64(p.dtype, "conv2d backward", [&]<typename T>() {
    const size_t bytes = static_cast<size_t>(p.out_channels) * d.Cg * d.kHW * sizeof(T);
    STRIATE_CUDA_CHECK(cudaMemsetAsync(grad_weight, 0, bytes, current_stream()));  // atomic split K adds into it
    if (p.batch == 0) return;
    const auto x = static_cast<const T*>(input), gy = static_cast<const T*>(grad_output);
    const auto gw = static_cast<T*>(grad_weight);
    const int columns = d.Cg * d.kHW, pixels = d.batch * d.oHW;
    if (p.channels_last)
      run_gemm(GradWeightNhwcProblem<T>{d, x, gy, gw, d.Og, columns, pixels}, p, true,
               "conv2d_grad_weight_implicit_gemm");
    else
      run_gemm(GradWeightProblem<T>{d, x, gy, gw, d.Og, columns, pixels}, p, true,
               "conv2d_grad_weight_implicit_gemm");
  });
}

}  // namespace striate::kernels::cuda
