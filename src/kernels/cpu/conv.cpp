// CPU convolution: im2col + GEMM for all three passes.
//
// The work is cut into tiles whose column matrix stays within a budget
// (about 1 MiB of floats): im2col writes it and the GEMM packs it while it is
// still in cache, and memory stays bounded for any batch. Small images are
// grouped several to a tile (LeNet's layers would otherwise be dozens of tiny
// GEMMs); a large image is cut into bands of output rows. A 1x1 convolution
// with stride 1 and no padding needs no im2col: the image is the column
// matrix.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

#include "kernels/conv.h"
#include "kernels/gemm.h"

namespace striate::kernels::cpu {
namespace {

constexpr int64_t kColumnBudget = int64_t{1} << 18;  // elements of a tile's column matrix (1 MiB of f32)

// A per-thread buffer that keeps its memory between calls: a fresh
// multi-megabyte allocation per call costs page faults comparable to the
// GEMM itself. Bounded by the tile budget.
class Scratch {
 public:
  template <typename T>
  T* get(int64_t count) {
    const size_t bytes = static_cast<size_t>(std::max<int64_t>(count, 1)) * sizeof(T);
    if (bytes > size_) {
      data_.reset(static_cast<std::byte*>(::operator new(bytes, std::align_val_t{64})));
      size_ = bytes;
    }
    return reinterpret_cast<T*>(data_.get());
  }

 private:
  struct Free {
    void operator()(std::byte* p) const { ::operator delete(p, std::align_val_t{64}); }
  };
  std::unique_ptr<std::byte, Free> data_;
  size_t size_ = 0;
};

thread_local Scratch column_scratch;  // the column matrix of a tile
thread_local Scratch block_scratch;   // a tile's output or output gradient, when it spans images

// Sizes derived from ConvParams, per channel group.
struct Dims {
  int64_t group_channels, group_out, col_rows, out_plane, in_plane;
  bool pointwise;

  explicit Dims(const ConvParams& p)
      : group_channels(p.channels / p.groups),
        group_out(p.out_channels / p.groups),
        col_rows(group_channels * p.kernel_h * p.kernel_w),
        out_plane(p.out_h * p.out_w),
        in_plane(p.height * p.width),
        pointwise(p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 &&
                  p.pad_left == 0 && p.out_h == p.height && p.out_w == p.width) {}
};

// Images [image0, image0 + images) and, of each, output rows [row0, row0 + rows).
// Either one image or whole images.
struct Tile {
  int64_t image0, images, row0, rows;
  int64_t columns(const ConvParams& p) const { return images * rows * p.out_w; }
};

template <typename Fn>
void for_each_tile(const ConvParams& p, const Dims& d, Fn&& fn) {
  const int64_t per_image = std::max<int64_t>(d.col_rows * d.out_plane, 1);
  if (per_image <= kColumnBudget) {
    const int64_t images = std::clamp<int64_t>(kColumnBudget / per_image, 1, std::max<int64_t>(p.batch, 1));
    for (int64_t n = 0; n < p.batch; n += images) fn(Tile{n, std::min(images, p.batch - n), 0, p.out_h});
    return;
  }
  const int64_t rows = std::clamp<int64_t>(kColumnBudget / std::max<int64_t>(d.col_rows * p.out_w, 1), 1, p.out_h);
  for (int64_t n = 0; n < p.batch; ++n)
    for (int64_t r = 0; r < p.out_h; r += rows) fn(Tile{n, 1, r, std::min(rows, p.out_h - r)});
}

// im2col (or, with `adjoint`, col2im) of one tile and channel group.
template <typename T>
void tile_columns(const ConvParams& p, const Dims& d, const Tile& t, int64_t group, T* images, T* col, bool adjoint) {
  const int64_t band = t.rows * p.out_w;
  for (int64_t i = 0; i < t.images; ++i) {
    T* image = images + ((t.image0 + i) * p.channels + group * d.group_channels) * d.in_plane;
    const Im2colParams ip{p.dtype,    d.group_channels, p.height,     p.width,      p.kernel_h,
                          p.kernel_w, p.pad_top - t.row0 * p.stride_h, p.pad_left, p.stride_h,
                          p.stride_w, p.dilation_h,     p.dilation_w, t.rows,       p.out_w,
                          t.columns(p), image,          col + i * band};
    if (adjoint) col2im(ip);
    else im2col(ip);
  }
}

// Where rows [row0, row0 + rows) of channel `channel` of image `image` start in an NCHW output-shaped tensor.
template <typename T>
T* out_at(const ConvParams& p, const Dims& d, T* base, int64_t image, int64_t channel, int64_t row0) {
  return base + (image * p.out_channels + channel) * d.out_plane + row0 * p.out_w;
}

// A tile's slice of an output-shaped tensor for one group, as a matrix
// [group_out, columns]: in place for one image, else gathered into a buffer.
template <typename T>
std::pair<const T*, int64_t> gather_tile(const ConvParams& p, const Dims& d, const Tile& t, int64_t group,
                                         const T* grad_out) {
  const int64_t c0 = group * d.group_out;
  if (t.images == 1) return {out_at(p, d, grad_out, t.image0, c0, t.row0), d.out_plane};
  const int64_t n = t.columns(p);
  T* block = block_scratch.get<T>(d.group_out * n);
  for (int64_t o = 0; o < d.group_out; ++o)
    for (int64_t i = 0; i < t.images; ++i)
      std::memcpy(block + o * n + i * d.out_plane, out_at(p, d, grad_out, t.image0 + i, c0 + o, 0),
                  d.out_plane * sizeof(T));
  return {block, n};
}

// C [m, n] (row stride ldc) = op(A) op(B) + beta * C.
template <typename T>
void gemm(const ConvParams& p, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, bool trans_a, const T* b,
          int64_t ldb, bool trans_b, T* c, int64_t ldc, double beta) {
  GemmParams g{};
  g.dtype = p.dtype;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = {a, std::max<int64_t>(lda, 1), 0, trans_a};
  g.b = {b, std::max<int64_t>(ldb, 1), 0, trans_b};
  g.c = c;
  g.ldc = std::max<int64_t>(ldc, 1);
  g.beta = beta;
  cpu::gemm(g);
}

// Each row of C [rows, cols] set to its bias (or zero): the GEMM then
// accumulates with beta = 1, which spares BLAS a separate pass over C.
template <typename T>
void fill_rows(T* c, int64_t ldc, int64_t rows, int64_t cols, const T* bias) {
  for (int64_t r = 0; r < rows; ++r) std::fill(c + r * ldc, c + r * ldc + cols, bias ? bias[r] : T(0));
}

template <typename T>
void forward(const ConvParams& p, const T* input, const T* weight, const T* bias, T* output) {
  const Dims d(p);
  auto group_bias = [&](int64_t g) { return bias ? bias + g * d.group_out : nullptr; };
  if (d.pointwise) {
    for (int64_t n = 0; n < p.batch; ++n)
      for (int64_t g = 0; g < p.groups; ++g) {
        T* c = out_at(p, d, output, n, g * d.group_out, 0);
        fill_rows(c, d.out_plane, d.group_out, d.out_plane, group_bias(g));
        gemm(p, d.group_out, d.out_plane, d.group_channels, weight + g * d.group_out * d.col_rows, d.col_rows, false,
             input + (n * p.channels + g * d.group_channels) * d.in_plane, d.out_plane, false, c, d.out_plane, 1);
      }
    return;
  }
  for_each_tile(p, d, [&](const Tile& t) {
    const int64_t n = t.columns(p);
    T* col = column_scratch.get<T>(d.col_rows * n);
    for (int64_t g = 0; g < p.groups; ++g) {
      tile_columns(p, d, t, g, const_cast<T*>(input), col, false);
      // One image: the GEMM writes into the output. Several: into a block
      // [group_out, images * plane] that is then scattered image by image.
      const bool direct = t.images == 1;
      T* c = direct ? out_at(p, d, output, t.image0, g * d.group_out, t.row0) : block_scratch.get<T>(d.group_out * n);
      const int64_t ldc = direct ? d.out_plane : n;
      fill_rows(c, ldc, d.group_out, n, group_bias(g));
      gemm(p, d.group_out, n, d.col_rows, weight + g * d.group_out * d.col_rows, d.col_rows, false, col, n, false, c,
           ldc, 1);
      if (direct) continue;
      for (int64_t o = 0; o < d.group_out; ++o)
        for (int64_t i = 0; i < t.images; ++i)
          std::memcpy(out_at(p, d, output, t.image0 + i, g * d.group_out + o, 0), c + o * n + i * d.out_plane,
                      d.out_plane * sizeof(T));
    }
  });
}

// grad_input = col2im(W^T grad_out), per tile and group.
template <typename T>
void grad_input(const ConvParams& p, const T* weight, const T* grad_out, T* grad_in) {
  const Dims d(p);
  if (d.pointwise) {  // each image and group block is written exactly once
    for (int64_t n = 0; n < p.batch; ++n)
      for (int64_t g = 0; g < p.groups; ++g)
        gemm(p, d.group_channels, d.out_plane, d.group_out, weight + g * d.group_out * d.col_rows, d.col_rows, true,
             out_at(p, d, grad_out, n, g * d.group_out, 0), d.out_plane, false,
             grad_in + (n * p.channels + g * d.group_channels) * d.in_plane, d.in_plane, 0);
    return;
  }
  std::fill(grad_in, grad_in + p.batch * p.channels * d.in_plane, T(0));
  for_each_tile(p, d, [&](const Tile& t) {
    const int64_t n = t.columns(p);
    T* col = column_scratch.get<T>(d.col_rows * n);
    for (int64_t g = 0; g < p.groups; ++g) {
      const auto [go, ldg] = gather_tile(p, d, t, g, grad_out);
      gemm(p, d.col_rows, n, d.group_out, weight + g * d.group_out * d.col_rows, d.col_rows, true, go, ldg, false, col,
           n, 0);
      tile_columns(p, d, t, g, grad_in, col, true);
    }
  });
}

// Sum of v[0..count), eight independent partial sums so the adds pipeline.
template <typename T>
double sum(const T* v, int64_t count) {
  T lanes[8] = {};
  int64_t i = 0;
  for (; i + 8 <= count; i += 8)
    for (int k = 0; k < 8; ++k) lanes[k] += v[i + k];
  double total = 0;
  for (; i < count; ++i) total += v[i];
  for (T lane : lanes) total += lane;
  return total;
}

// grad_weight = sum over tiles of grad_out columns^T; grad_bias = grad_out summed over N, H, W.
template <typename T>
void grad_weight(const ConvParams& p, const T* input, const T* grad_out, T* grad_w, T* grad_b) {
  const Dims d(p);
  if (grad_b) {
    for (int64_t o = 0; o < p.out_channels; ++o) {
      double total = 0;
      for (int64_t n = 0; n < p.batch; ++n) total += sum(out_at(p, d, grad_out, n, o, 0), d.out_plane);
      grad_b[o] = static_cast<T>(total);
    }
  }
  if (!grad_w) return;
  std::fill(grad_w, grad_w + p.out_channels * d.col_rows, T(0));
  if (d.pointwise) {
    for (int64_t n = 0; n < p.batch; ++n)
      for (int64_t g = 0; g < p.groups; ++g)
        gemm(p, d.group_out, d.group_channels, d.out_plane, out_at(p, d, grad_out, n, g * d.group_out, 0),
             d.out_plane, false, input + (n * p.channels + g * d.group_channels) * d.in_plane, d.in_plane, true,
             grad_w + g * d.group_out * d.col_rows, d.col_rows, 1);
    return;
  }
  for_each_tile(p, d, [&](const Tile& t) {
    const int64_t n = t.columns(p);
    T* col = column_scratch.get<T>(d.col_rows * n);
    for (int64_t g = 0; g < p.groups; ++g) {
      tile_columns(p, d, t, g, const_cast<T*>(input), col, false);
      const auto [go, ldg] = gather_tile(p, d, t, g, grad_out);
      gemm(p, d.group_out, d.col_rows, n, go, ldg, false, col, n, true, grad_w + g * d.group_out * d.col_rows,
           d.col_rows, 1);
    }
  });
}

template <typename F>
void visit_compute(DType dtype, const char* op, F&& f) {
  visit_floating(dtype, op, [&]<typename T>() {
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) f.template operator()<T>();
    else throw DTypeError(detail::concat(op, ": the CPU kernels compute in float32 or float64, got ", dtype_name(dtype)));
  });
}

// Channels-last tensors go through the NCHW loops on transposed copies:
// the CPU backend is the reference the GPU's native NHWC kernels are checked
// against, so it keeps one set of loops; the copies cost a fraction of the
// GEMMs.
//
// [outer, rows, cols] -> [outer, cols, rows].
template <typename T>
std::vector<T> transposed(const T* src, int64_t outer, int64_t rows, int64_t cols) {
  std::vector<T> dst(static_cast<size_t>(outer * rows * cols));
  for (int64_t n = 0; n < outer; ++n) {
    const T* s = src + n * rows * cols;
    T* d = dst.data() + n * rows * cols;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) d[c * rows + r] = s[r * cols + c];
  }
  return dst;
}

// NHWC [n, hw, c] -> NCHW [n, c, hw], and back.
template <typename T>
std::vector<T> to_nchw(const T* nhwc, int64_t n, int64_t c, int64_t hw) { return transposed(nhwc, n, hw, c); }
template <typename T>
void store_nhwc(const std::vector<T>& nchw, T* nhwc, int64_t n, int64_t c, int64_t hw) {
  const std::vector<T> t = transposed(nchw.data(), n, c, hw);
  std::copy(t.begin(), t.end(), nhwc);
}

struct ChannelsLastShapes {
  int64_t input_hw, output_hw, filter_hw, filter_channels;
  explicit ChannelsLastShapes(const ConvParams& p)
      : input_hw(p.height * p.width),
        output_hw(p.out_h * p.out_w),
        filter_hw(p.kernel_h * p.kernel_w),
        filter_channels(p.channels / p.groups) {}
};

}  // namespace

void conv2d_forward(const ConvParams& p, const void* input, const void* weight, const void* bias, void* output) {
  visit_compute(p.dtype, "conv2d_forward", [&]<typename T>() {
    const auto x = static_cast<const T*>(input), w = static_cast<const T*>(weight), b = static_cast<const T*>(bias);
    const auto y = static_cast<T*>(output);
    if (!p.channels_last) return forward<T>(p, x, w, b, y);
    const ChannelsLastShapes s(p);
    std::vector<T> out(static_cast<size_t>(p.batch * p.out_channels * s.output_hw));
    forward<T>(p, to_nchw(x, p.batch, p.channels, s.input_hw).data(),
               to_nchw(w, p.out_channels, s.filter_channels, s.filter_hw).data(), b, out.data());
    store_nhwc(out, y, p.batch, p.out_channels, s.output_hw);
  });
}

void conv2d_grad_input(const ConvParams& p, const void* weight, const void* grad_output, void* grad_in) {
  visit_compute(p.dtype, "conv2d_grad_input", [&]<typename T>() {
    const auto w = static_cast<const T*>(weight), gy = static_cast<const T*>(grad_output);
    const auto gx = static_cast<T*>(grad_in);
    if (!p.channels_last) return grad_input<T>(p, w, gy, gx);
    const ChannelsLastShapes s(p);
    std::vector<T> g(static_cast<size_t>(p.batch * p.channels * s.input_hw));
    grad_input<T>(p, to_nchw(w, p.out_channels, s.filter_channels, s.filter_hw).data(),
                  to_nchw(gy, p.batch, p.out_channels, s.output_hw).data(), g.data());
    store_nhwc(g, gx, p.batch, p.channels, s.input_hw);
  });
}

void conv2d_grad_weight(const ConvParams& p, const void* input, const void* grad_output, void* grad_w,
                        void* grad_b) {
  visit_compute(p.dtype, "conv2d_grad_weight", [&]<typename T>() {
    const auto x = static_cast<const T*>(input), gy = static_cast<const T*>(grad_output);
    const auto gw = static_cast<T*>(grad_w), gb = static_cast<T*>(grad_b);
    if (!p.channels_last) return grad_weight<T>(p, x, gy, gw, gb);
    const ChannelsLastShapes s(p);
    std::vector<T> g(gw != nullptr ? static_cast<size_t>(p.out_channels * s.filter_channels * s.filter_hw) : 0);
    grad_weight<T>(p, x != nullptr ? to_nchw(x, p.batch, p.channels, s.input_hw).data() : nullptr,
                   to_nchw(gy, p.batch, p.out_channels, s.output_hw).data(), gw != nullptr ? g.data() : nullptr, gb);
    if (gw != nullptr) store_nhwc(g, gw, p.out_channels, s.filter_channels, s.filter_hw);
  });
}

}  // namespace striate::kernels::cpu
