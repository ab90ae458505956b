// A number passed where PyTorch takes a Python scalar: x + 2, clamp(x, 0, 6).
//
// It remembers whether it was written as a bool, an integer or a float,
// because type promotion depends on that: int_tensor * 2.5 is float32.
#pragma once

#include <cstdint>
#include <ostream>
#include <type_traits>

#include "striate/core/dtype.h"

namespace striate {

class Scalar {
 public:
  enum class Kind : uint8_t { Bool, Int, Float };

  Scalar() : Scalar(int64_t{0}) {}
  template <typename T, std::enable_if_t<std::is_same_v<T, bool>, int> = 0>
  Scalar(T v) : kind_(Kind::Bool), i_(v), d_(v) {}  // NOLINT
  template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Scalar(T v) : kind_(Kind::Int), i_(static_cast<int64_t>(v)), d_(static_cast<double>(v)) {}  // NOLINT
  template <typename T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  Scalar(T v) : kind_(Kind::Float), i_(static_cast<int64_t>(v)), d_(static_cast<double>(v)) {}  // NOLINT
  Scalar(Half v) : Scalar(static_cast<float>(v)) {}        // NOLINT
  Scalar(BFloat16 v) : Scalar(static_cast<float>(v)) {}    // NOLINT

  Kind kind() const { return kind_; }
  bool is_floating_point() const { return kind_ == Kind::Float; }
  bool is_integral() const { return kind_ == Kind::Int; }
  bool is_bool() const { return kind_ == Kind::Bool; }

  double to_double() const { return d_; }
  int64_t to_long() const { return kind_ == Kind::Float ? static_cast<int64_t>(d_) : i_; }

  template <typename T>
  T to() const {
    if constexpr (std::is_same_v<T, bool>) return kind_ == Kind::Float ? d_ != 0 : i_ != 0;
    else if constexpr (std::is_integral_v<T>) return static_cast<T>(to_long());
    else return static_cast<T>(static_cast<acc_t<T>>(d_));
  }

  // The dtype a 0-dim tensor made from this scalar would have.
  DType dtype() const {
    return kind_ == Kind::Float ? kDefaultFloat : kind_ == Kind::Int ? DType::I64 : DType::Bool;
  }

 private:
  Kind kind_;
  int64_t i_;
  double d_;
};

std::ostream& operator<<(std::ostream& os, const Scalar& s);

}  // namespace striate
