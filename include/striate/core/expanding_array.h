// Per-spatial-dim arguments (kernel size, stride, padding, dilation) that
// accept one number for every dim or one per dim, as LibTorch's
// ExpandingArray: conv2d(x, w, b, /*stride=*/2) or conv2d(x, w, b, {2, 1}).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include "striate/core/error.h"

namespace striate {

template <size_t N>
class ExpandingArray {
 public:
  ExpandingArray(int64_t v) { values_.fill(v); }  // NOLINT: implicit, like LibTorch
  ExpandingArray(int v) : ExpandingArray(static_cast<int64_t>(v)) {}  // NOLINT
  ExpandingArray(std::initializer_list<int64_t> list) : ExpandingArray(std::vector<int64_t>(list)) {}  // NOLINT
  ExpandingArray(const std::vector<int64_t>& v) {  // NOLINT
    STRIATE_CHECK(v.size() == N || v.size() == 1, ValueError, "expected ", N, " values (or one for all dims), got ",
                  v);
    for (size_t i = 0; i < N; ++i) values_[i] = v.size() == 1 ? v[0] : v[i];
  }
  int64_t operator[](size_t i) const { return values_[i]; }
  const std::array<int64_t, N>& values() const { return values_; }
  std::vector<int64_t> vec() const { return {values_.begin(), values_.end()}; }
  bool operator==(const ExpandingArray& o) const { return values_ == o.values_; }

 private:
  std::array<int64_t, N> values_{};
};

template <size_t N>
std::ostream& operator<<(std::ostream& os, const ExpandingArray<N>& a) {
  return os << detail::concat(a.vec());
}

// Convolution padding: explicit amounts, or "valid" (none) / "same" (output
// size equals input size; stride 1 only; an odd total pad puts the extra
// element on the right/bottom, as PyTorch does).
enum class PaddingMode { Explicit, Valid, Same };
inline constexpr PaddingMode kValid = PaddingMode::Valid;
inline constexpr PaddingMode kSame = PaddingMode::Same;

template <size_t N>
class ConvPadding {
 public:
  ConvPadding(int v) : amounts_(v) {}          // NOLINT
  ConvPadding(int64_t v) : amounts_(v) {}      // NOLINT
  ConvPadding(std::initializer_list<int64_t> l) : amounts_(l) {}  // NOLINT
  ConvPadding(const std::vector<int64_t>& v) : amounts_(v) {}     // NOLINT
  ConvPadding(ExpandingArray<N> a) : amounts_(a) {}               // NOLINT
  ConvPadding(PaddingMode m) : mode_(m), amounts_(0) {}           // NOLINT
  ConvPadding(const char* mode) : amounts_(0) {                   // NOLINT
    const std::string s = mode ? mode : "";
    STRIATE_CHECK(s == "valid" || s == "same", ValueError, "padding: expected \"valid\" or \"same\", got \"", s,
                  "\"");
    mode_ = s == "valid" ? PaddingMode::Valid : PaddingMode::Same;
  }
  PaddingMode mode() const { return mode_; }
  const ExpandingArray<N>& amounts() const { return amounts_; }

 private:
  PaddingMode mode_ = PaddingMode::Explicit;
  ExpandingArray<N> amounts_;
};

}  // namespace striate
