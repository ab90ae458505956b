// im2col / col2im: the data movement that turns a convolution into a GEMM.
//
// For one image and one channel group, im2col writes the column matrix
// col[(c, ki, kj), (oi, oj)] = x[c, oi*sh - pt + ki*dh, oj*sw - pl + kj*dw]
// (zero outside the input), shape [C*kH*kW, oH*oW]; col2im is its adjoint,
// adding each column entry back into the image (used for grad input).
#pragma once

#include <cstdint>

#include "kernels/kernel.h"
#include "striate/core/dtype.h"

namespace striate::kernels {

struct Im2colParams {
  DType dtype;
  int64_t channels, height, width;   // of the image (contiguous CHW)
  int64_t kernel_h, kernel_w;
  int64_t pad_top, pad_left;         // the bottom/right padding is implied by out_h/out_w
  int64_t stride_h, stride_w;
  int64_t dilation_h, dilation_w;
  int64_t out_h, out_w;
  // Elements between consecutive rows of col: out_h*out_w for one image, or
  // more when several images sit side by side in one column matrix.
  int64_t col_ld;
  void* image;                       // im2col reads it; col2im adds into it
  void* col;                         // im2col writes it; col2im reads it
};

using Im2colFn = void (*)(const Im2colParams&);
extern const Kernel<Im2colFn> im2col_kernel;
extern const Kernel<Im2colFn> col2im_kernel;

namespace cpu {
void im2col(const Im2colParams& p);
void col2im(const Im2colParams& p);
}  // namespace cpu

}  // namespace striate::kernels
