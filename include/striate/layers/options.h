// STRIATE_ARG declares an option with a chained setter and a getter, as
// LibTorch's TORCH_ARG: Conv2dOptions(3, 64, 7).stride(2).padding(3).
#pragma once

#define STRIATE_ARG(T, name)                  \
 public:                                      \
  auto& name(const T& new_value) {            \
    name##_ = new_value;                      \
    return *this;                             \
  }                                           \
  const T& name() const { return name##_; }   \
                                              \
 private:                                     \
  T name##_
