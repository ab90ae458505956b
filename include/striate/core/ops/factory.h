// Creating tensors: filled, ranged, random, or from host data.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "striate/core/generator.h"
#include "striate/core/tensor.h"

namespace striate {

Tensor empty(const Shape& sizes, const TensorOptions& options = {},
             MemoryFormat fmt = MemoryFormat::Contiguous);
Tensor empty_strided(const Shape& sizes, const Shape& strides, const TensorOptions& options = {});
Tensor zeros(const Shape& sizes, const TensorOptions& options = {});
Tensor ones(const Shape& sizes, const TensorOptions& options = {});
Tensor full(const Shape& sizes, const Scalar& value, const TensorOptions& options = {});
Tensor scalar_tensor(const Scalar& value, const TensorOptions& options = {});
Tensor eye(int64_t n, const TensorOptions& options = {});

// Same shape (and layout) as `like`; options default to like's dtype and device.
Tensor empty_like(const Tensor& like);
Tensor empty_like(const Tensor& like, const TensorOptions& options);
Tensor zeros_like(const Tensor& like);
Tensor zeros_like(const Tensor& like, const TensorOptions& options);
Tensor ones_like(const Tensor& like);
Tensor ones_like(const Tensor& like, const TensorOptions& options);
Tensor full_like(const Tensor& like, const Scalar& value);
Tensor full_like(const Tensor& like, const Scalar& value, const TensorOptions& options);

// [start, end) in steps; integer arguments give int64 unless options say
// otherwise, a floating one float32 (arange(5) is int64, as in LibTorch).
Tensor arange(const Scalar& end);
Tensor arange(const Scalar& end, const TensorOptions& options);
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step = 1);
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, const TensorOptions& options);
Tensor linspace(double start, double end, int64_t steps, const TensorOptions& options = {});

// Random tensors from Philox; `gen` defaults to default_generator().
Tensor rand(const Shape& sizes, const TensorOptions& options = {}, Generator* gen = nullptr);
Tensor randn(const Shape& sizes, const TensorOptions& options = {}, Generator* gen = nullptr);
// Integers uniform in [low, high); int64 by default.
Tensor randint(int64_t low, int64_t high, const Shape& sizes,
               const TensorOptions& options = TensorOptions(kLong), Generator* gen = nullptr);
Tensor rand_like(const Tensor& like, Generator* gen = nullptr);
Tensor randn_like(const Tensor& like, Generator* gen = nullptr);
Tensor randperm(int64_t n, const TensorOptions& options = TensorOptions(kLong), Generator* gen = nullptr);
// In-place: uniform in [from, to), normal(mean, std), as Tensor.uniform_/normal_.
Tensor& uniform_(Tensor& t, double from = 0, double to = 1, Generator* gen = nullptr);
Tensor& normal_(Tensor& t, double mean = 0, double std = 1, Generator* gen = nullptr);
Tensor& bernoulli_(Tensor& t, double p, Generator* gen = nullptr);

// A tensor owning a copy of host data. T picks the dtype unless options set one.
template <typename T>
Tensor from_vector(const std::vector<T>& data, const Shape& sizes);
template <typename T>
Tensor from_vector(const std::vector<T>& data, const Shape& sizes, const TensorOptions& options);
// A 1-D tensor: tensor({1.f, 2.f, 3.f}).
template <typename T>
Tensor tensor(std::initializer_list<T> values, const TensorOptions& options = TensorOptions(dtype_of_v<T>)) {
  return from_vector(std::vector<T>(values), Shape{static_cast<int64_t>(values.size())}, options);
}
// A tensor viewing caller-owned memory (no copy); the caller keeps it alive.
Tensor from_blob(void* data, const Shape& sizes, const TensorOptions& options = {});
Tensor from_blob(void* data, const Shape& sizes, const Shape& strides, const TensorOptions& options = {});

}  // namespace striate
