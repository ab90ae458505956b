// CPU im2col/col2im. Each (c, ki, kj) row of the column matrix is a strided
// window of one input plane; for each output row oi the valid range of oj is
// computed once, so the inner loop has no bounds checks (and with stride 1
// it is a plain copy or add the compiler vectorises; rows are often a few
// dozen elements, too short for a memcpy call to pay off).
#include <algorithm>
#include <cstring>

#include "kernels/conv.h"

namespace striate::kernels::cpu {
namespace {

// The first and one-past-last oj whose input column j = oj*s - pad + k*d lies in [0, width).
inline void valid_range(int64_t offset, int64_t stride, int64_t width, int64_t out_w, int64_t& lo, int64_t& hi) {
  // offset = k*d - pad; need 0 <= oj*stride + offset < width.
  lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  hi = width - offset <= 0 ? 0 : (width - offset + stride - 1) / stride;
  lo = std::min(lo, out_w);
  hi = std::clamp(hi, lo, out_w);
}

// Copies n elements. Runs are short (a LeNet row is 10 elements) and there
// are many of them, so a memcpy call per run, which is what the compiler
// makes of a plain loop, costs more than the copy: move fixed 32-byte blocks
// instead (constant-size memcpy compiles to vector loads and stores), the
// tail as one last block overlapping the previous one.
template <typename T>
inline void copy_run(T* dst, const T* src, int64_t n) {
  constexpr int64_t kBlock = 32 / sizeof(T);
  if (n < kBlock) {
    for (int64_t k = 0; k < n; ++k) dst[k] = src[k];
    return;
  }
  for (int64_t k = 0; k + kBlock <= n; k += kBlock) std::memcpy(dst + k, src + k, sizeof(T) * kBlock);
  std::memcpy(dst + n - kBlock, src + n - kBlock, sizeof(T) * kBlock);
}

// One row of the column matrix for output row i of the input: zeros before
// lo and from hi on, the strided input run in between. `in` points at the
// input element of column lo (only read when lo < hi).
template <typename T>
inline void gather_row(T* row, const T* in, int64_t lo, int64_t hi, int64_t out_w, int64_t stride) {
  for (int64_t oj = 0; oj < lo; ++oj) row[oj] = T(0);
  if (stride == 1) {
    copy_run(row + lo, in, hi - lo);
  } else {
    for (int64_t k = 0; k < hi - lo; ++k) row[lo + k] = in[k * stride];
  }
  for (int64_t oj = hi; oj < out_w; ++oj) row[oj] = T(0);
}

// The adjoint of gather_row's copy: adds the row's valid run into the input.
template <typename T>
inline void scatter_add_row(const T* __restrict row, T* __restrict in, int64_t lo, int64_t hi, int64_t stride) {
  const T* __restrict src = row + lo;
  const int64_t n = hi - lo;
  if (stride == 1) {
    for (int64_t k = 0; k < n; ++k) in[k] += src[k];
  } else {
    for (int64_t k = 0; k < n; ++k) in[k * stride] += src[k];
  }
}

template <typename T, bool Accumulate>
void walk(const Im2colParams& p) {
  T* image = static_cast<T*>(p.image);
  T* col = static_cast<T*>(p.col);
  const int64_t plane = p.height * p.width;
  for (int64_t c = 0; c < p.channels; ++c) {
    T* x = image + c * plane;
    for (int64_t ki = 0; ki < p.kernel_h; ++ki) {
      for (int64_t kj = 0; kj < p.kernel_w; ++kj, col += p.col_ld) {
        const int64_t col_offset = kj * p.dilation_w - p.pad_left;
        int64_t lo, hi;
        valid_range(col_offset, p.stride_w, p.width, p.out_w, lo, hi);
        for (int64_t oi = 0; oi < p.out_h; ++oi) {
          T* row = col + oi * p.out_w;
          const int64_t i = oi * p.stride_h - p.pad_top + ki * p.dilation_h;
          const bool inside = i >= 0 && i < p.height && lo < hi;
          if constexpr (Accumulate) {
            if (inside) scatter_add_row(row, x + i * p.width + col_offset + lo * p.stride_w, lo, hi, p.stride_w);
          } else if (inside) {
            gather_row(row, x + i * p.width + col_offset + lo * p.stride_w, lo, hi, p.out_w, p.stride_w);
          } else {
            for (int64_t oj = 0; oj < p.out_w; ++oj) row[oj] = T(0);
          }
        }
      }
    }
  }
}

}  // namespace

void im2col(const Im2colParams& p) {
  visit_floating(p.dtype, "im2col", [&]<typename T>() {
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) walk<T, false>(p);
    else throw DTypeError("im2col: computes in float32 or float64");
  });
}

void col2im(const Im2colParams& p) {
  visit_floating(p.dtype, "col2im", [&]<typename T>() {
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) walk<T, true>(p);
    else throw DTypeError("col2im: computes in float32 or float64");
  });
}

}  // namespace striate::kernels::cpu
