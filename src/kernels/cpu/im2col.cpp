// CPU im2col/col2im. Each (c, ki, kj) row of the column matrix is a strided
// window of one input plane; for each output row oi the valid range of oj is
// computed once, so the inner loop has no bounds checks (and with stride 1
// it is a plain copy the compiler vectorises).
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
          if (i < 0 || i >= p.height) {
            if constexpr (!Accumulate) std::fill(row, row + p.out_w, T(0));
            continue;
          }
          // Indices, not a shifted pointer: base may be negative before lo.
          const int64_t base = i * p.width + col_offset;
          if constexpr (Accumulate) {
            for (int64_t oj = lo; oj < hi; ++oj) x[base + oj * p.stride_w] += row[oj];
          } else {
            std::fill(row, row + lo, T(0));
            if (p.stride_w == 1) {
              if (hi > lo) std::memcpy(row + lo, x + base + lo, (hi - lo) * sizeof(T));
            } else {
              for (int64_t oj = lo; oj < hi; ++oj) row[oj] = x[base + oj * p.stride_w];
            }
            std::fill(row + hi, row + p.out_w, T(0));
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
