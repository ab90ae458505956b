// Sizes and strides, and the arithmetic every op shares: element counts,
// contiguous strides, negative-dim wrapping and broadcasting.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace striate {

using Shape = std::vector<int64_t>;

// The maximum rank a tensor may have; kernels keep per-dim state on the stack.
inline constexpr int kMaxDims = 16;

int64_t shape_numel(const Shape& sizes);
std::string shape_str(const Shape& sizes);  // "[2, 3]"

// Row-major strides for `sizes`, in elements.
Shape contiguous_strides(const Shape& sizes);
// NHWC strides for 4-D NCHW sizes: C varies fastest, then W, H, N.
Shape channels_last_strides(const Shape& sizes);

// Maps dim in [-ndim, ndim) to [0, ndim); `op` names the caller in the error.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);

// The shape two operands broadcast to, as in NumPy and PyTorch.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

enum class MemoryFormat : uint8_t { Contiguous, ChannelsLast, Preserve };

}  // namespace striate
