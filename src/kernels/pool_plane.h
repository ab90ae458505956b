// One plane of a pooling block (kernels/pooling.h), shared by the CPU and
// CUDA kernels so that both address NCHW and channels-last blocks alike.
#pragma once

#include <cstdint>

#include "kernels/pooling.h"

#ifdef __CUDACC__
#define STRIATE_HOST_DEVICE __host__ __device__
#else
#define STRIATE_HOST_DEVICE
#endif

namespace striate::kernels {

// Pixel (y, x) of a plane at base[(y * width + x) * step].
template <typename T>
struct Plane {
  T* base;
  int64_t width, step;
  STRIATE_HOST_DEVICE T& at(int64_t y, int64_t x) const { return base[(y * width + x) * step]; }
  STRIATE_HOST_DEVICE T& at(int64_t position) const { return base[position * step]; }  // y * width + x
};

// Plane `plane` of a [planes, height, width] block laid out as `s` says:
// plane n * C + c starts at element n * height * width * C + c.
template <typename T>
STRIATE_HOST_DEVICE inline Plane<T> plane_of(T* block, const Pool2dShape& s, int64_t plane, int64_t height,
                                             int64_t width) {
  const int64_t c = s.pixel_stride;
  return {block + plane / c * height * width * c + plane % c, width, c};
}

}  // namespace striate::kernels
