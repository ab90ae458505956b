#include "striate/core/shape.h"

#include <algorithm>

#include "striate/core/error.h"

namespace striate {

int64_t shape_numel(const Shape& sizes) {
  int64_t n = 1;
  for (int64_t s : sizes) n *= s;
  return n;
}

std::string shape_str(const Shape& sizes) { return detail::concat(sizes); }

Shape contiguous_strides(const Shape& sizes) {
  Shape strides(sizes.size());
  int64_t s = 1;
  for (size_t i = sizes.size(); i-- > 0;) {
    strides[i] = s;
    s *= std::max<int64_t>(sizes[i], 1);
  }
  return strides;
}

Shape channels_last_strides(const Shape& sizes) {
  STRIATE_CHECK(sizes.size() == 4, ShapeError, "channels_last: expected a 4-D (NCHW) shape, got ",
                sizes);
  auto at_least_1 = [](int64_t v) { return std::max<int64_t>(v, 1); };
  const int64_t c = at_least_1(sizes[1]), h = at_least_1(sizes[2]), w = at_least_1(sizes[3]);
  return {h * w * c, 1, w * c, c};
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  // A 0-dim tensor accepts dim 0 and -1, as in PyTorch.
  const int64_t n = std::max<int64_t>(ndim, 1);
  STRIATE_CHECK(dim >= -n && dim < n, IndexError, op, ": dimension out of range (expected to be in range of [",
                -n, ", ", n - 1, "], but got ", dim, ")");
  return dim < 0 ? dim + n : dim;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    STRIATE_CHECK(da == db || da == 1 || db == 1, ShapeError, op, ": shapes ", a, " and ", b,
                  " cannot be broadcast (size ", da, " != ", db, " at dim ", i, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace striate
