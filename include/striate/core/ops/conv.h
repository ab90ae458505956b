// Convolution (cross-correlation, as in every deep-learning library).
//
//   conv2d(input [N, C, H, W] or [C, H, W], weight [O, C / groups, kH, kW],
//          bias [O] (optional), stride, padding, dilation, groups)
//
// Output size per spatial dim (input N, kernel F, padding P each side,
// stride S, dilation D):  floor((N + 2P - D(F - 1) - 1) / S) + 1.
// Padding is an int, one int per dim, kValid ("valid": none) or kSame
// ("same": the output keeps the input size; stride 1 only; when the total
// padding D(F - 1) is odd, the extra element goes on the right/bottom, as in
// PyTorch). ChannelsLast input gives ChannelsLast output. f16/bf16 compute in
// f32. Implemented as im2col + GEMM (1x1 convolutions skip im2col).
#pragma once

#include "striate/core/expanding_array.h"
#include "striate/core/tensor.h"

namespace striate {

// Output length along one dim, or a ShapeError when the dilated kernel does
// not fit in the padded input.
int64_t conv_output_size(int64_t input_size, int64_t kernel_size, int64_t stride = 1, int64_t padding = 0,
                         int64_t dilation = 1);

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias = {}, ExpandingArray<1> stride = 1,
              ConvPadding<1> padding = 0, ExpandingArray<1> dilation = 1, int64_t groups = 1);

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = {}, ExpandingArray<2> stride = 1,
              ConvPadding<2> padding = 0, ExpandingArray<2> dilation = 1, int64_t groups = 1);

}  // namespace striate
