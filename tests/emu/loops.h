// The elementwise loops the emulated-kernel tests run each op over, one per
// path of launch.cuh's engines: contiguous and aligned (the 16-byte vector
// path, with a tail shorter than a vector), contiguous but one element off
// alignment (the scalar fallback), and a strided two-dimensional view.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/cpu/loop.h"

namespace striate::emu_test {

// n elements of every operand, starting `offset` elements into each buffer;
// every operand has the same element size.
struct Layout {
  const char* name;
  int64_t n, offset;
  bool strided;
};

inline const std::vector<Layout> kLayouts = {
    {"contiguous aligned", 1027, 0, false},
    {"contiguous misaligned", 517, 1, false},
    {"strided", 391, 0, true},  // 17 x 23 read as a transpose
};

template <int N>
kernels::Loop<N> loop_of(const Layout& l, size_t elem, char* const (&data)[N]) {
  kernels::Loop<N> loop;
  if (!l.strided) {
    loop.ndim = 1;
    loop.sizes[0] = l.n;
    for (int k = 0; k < N; ++k) loop.strides[k][0] = static_cast<int64_t>(elem);
  } else {
    // [23, 17] over storage [17, 23]: element (i, j) at j * 23 + i.
    loop.ndim = 2;
    loop.sizes[0] = 23, loop.sizes[1] = 17;
    for (int k = 0; k < N; ++k) {
      loop.strides[k][0] = static_cast<int64_t>(elem);
      loop.strides[k][1] = static_cast<int64_t>(23 * elem);
    }
  }
  for (int k = 0; k < N; ++k) loop.data[k] = data[k] + l.offset * static_cast<int64_t>(elem);
  return loop;
}

}  // namespace striate::emu_test
