// Pooling with the semantics of torch.nn.functional: max, average and
// adaptive pooling over 1 or 2 spatial dims. See docs/ops/pooling.md.
//
// 2-D ops take a batched [N, C, H, W] (NCHW or ChannelsLast; the result keeps
// the input's memory format) or an unbatched [C, H, W] input; 1-D ops take
// [N, C, L] or [C, L]. Inputs are floating-point; f16/bf16 are computed in
// float. Every op is differentiable with respect to its input.
//
// Kernel arguments take one value for every spatial dim or one per dim:
// max_pool2d(x, 3, 2, 1) or max_pool2d(x, {3, 1}, {2, 1}). An omitted stride
// (`{}`) equals kernel_size, as in PyTorch: max_pool2d(x, 2, {}, 1).
//
// Output size along each dim (L = input size, P = padding, D = dilation,
// K = kernel, S = stride):
//   floor((L + 2P - D(K - 1) - 1) / S) + 1        (ceil_mode: ceil instead of
//   floor, minus one when the last window would start at or beyond L + P,
//   i.e. wholly in the right padding).
// P must be at most K / 2, and the output must not be empty.
#pragma once

#include <cstdint>
#include <optional>
#include <initializer_list>
#include <tuple>
#include <vector>

#include "striate/core/expanding_array.h"
#include "striate/core/tensor.h"

namespace striate {

// A per-dim argument that may be omitted, as pooling's stride: `{}` (or
// std::nullopt, or an empty list) means "use the default" (kernel_size);
// otherwise one value for every dim or one per dim, as ExpandingArray.
template <size_t N>
class OptionalExpandingArray {
 public:
  OptionalExpandingArray() = default;
  OptionalExpandingArray(std::nullopt_t) {}                       // NOLINT: implicit, like LibTorch's {}
  OptionalExpandingArray(int v) : value_(ExpandingArray<N>(v)) {}      // NOLINT
  OptionalExpandingArray(int64_t v) : value_(ExpandingArray<N>(v)) {}  // NOLINT
  OptionalExpandingArray(ExpandingArray<N> v) : value_(v) {}           // NOLINT
  OptionalExpandingArray(const std::optional<ExpandingArray<N>>& v) : value_(v) {}  // NOLINT
  OptionalExpandingArray(std::initializer_list<int64_t> list)          // NOLINT
      : OptionalExpandingArray(std::vector<int64_t>(list)) {}
  OptionalExpandingArray(const std::vector<int64_t>& v) {  // NOLINT
    if (!v.empty()) value_ = ExpandingArray<N>(v);
  }
  bool has_value() const { return value_.has_value(); }
  explicit operator bool() const { return has_value(); }
  const ExpandingArray<N>& operator*() const { return *value_; }
  const ExpandingArray<N>& value_or(const ExpandingArray<N>& fallback) const { return value_ ? *value_ : fallback; }

 private:
  std::optional<ExpandingArray<N>> value_;
};

// The maximum of each (dilated) window; padded positions never win. A NaN in
// a window wins. The _with_indices forms also return each maximum's position
// (int64) in the flattened input plane (H * W, or L), as PyTorch does.
Tensor max_pool1d(const Tensor& input, ExpandingArray<1> kernel_size,
                  OptionalExpandingArray<1> stride = {}, ExpandingArray<1> padding = 0,
                  ExpandingArray<1> dilation = 1, bool ceil_mode = false);
std::tuple<Tensor, Tensor> max_pool1d_with_indices(const Tensor& input, ExpandingArray<1> kernel_size,
                                                   OptionalExpandingArray<1> stride = {},
                                                   ExpandingArray<1> padding = 0, ExpandingArray<1> dilation = 1,
                                                   bool ceil_mode = false);
Tensor max_pool2d(const Tensor& input, ExpandingArray<2> kernel_size,
                  OptionalExpandingArray<2> stride = {}, ExpandingArray<2> padding = 0,
                  ExpandingArray<2> dilation = 1, bool ceil_mode = false);
std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, ExpandingArray<2> kernel_size,
                                                   OptionalExpandingArray<2> stride = {},
                                                   ExpandingArray<2> padding = 0, ExpandingArray<2> dilation = 1,
                                                   bool ceil_mode = false);

// The mean of each window. The divisor is divisor_override when given (it
// must not be 0), else the window's size clipped to the padded input
// (count_include_pad) or to the input itself (!count_include_pad).
Tensor avg_pool1d(const Tensor& input, ExpandingArray<1> kernel_size,
                  OptionalExpandingArray<1> stride = {}, ExpandingArray<1> padding = 0,
                  bool ceil_mode = false, bool count_include_pad = true);
Tensor avg_pool2d(const Tensor& input, ExpandingArray<2> kernel_size,
                  OptionalExpandingArray<2> stride = {}, ExpandingArray<2> padding = 0,
                  bool ceil_mode = false, bool count_include_pad = true,
                  std::optional<int64_t> divisor_override = std::nullopt);

// Pools to a fixed output size: along an axis of input size L and output
// size O, bin i covers [floor(i * L / O), ceil((i + 1) * L / O)), so bins
// may overlap when O does not divide L. adaptive_max_pool returns (values,
// indices) as max_pool*_with_indices.
Tensor adaptive_avg_pool1d(const Tensor& input, ExpandingArray<1> output_size);
Tensor adaptive_avg_pool2d(const Tensor& input, ExpandingArray<2> output_size);
std::tuple<Tensor, Tensor> adaptive_max_pool1d(const Tensor& input, ExpandingArray<1> output_size);
std::tuple<Tensor, Tensor> adaptive_max_pool2d(const Tensor& input, ExpandingArray<2> output_size);

}  // namespace striate
