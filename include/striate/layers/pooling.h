// Pooling modules over ops/pooling.h.
#pragma once

#include <optional>

#include "striate/core/expanding_array.h"
#include "striate/layers/module.h"
#include "striate/layers/options.h"

namespace striate::nn {

template <size_t D>
struct MaxPoolOptions {
  MaxPoolOptions(ExpandingArray<D> kernel_size) : kernel_size_(kernel_size) {}  // NOLINT
  STRIATE_ARG(ExpandingArray<D>, kernel_size);
  STRIATE_ARG(std::optional<ExpandingArray<D>>, stride) = std::nullopt;  // default: kernel_size
  STRIATE_ARG(ExpandingArray<D>, padding) = 0;
  STRIATE_ARG(ExpandingArray<D>, dilation) = 1;
  STRIATE_ARG(bool, ceil_mode) = false;
};
using MaxPool1dOptions = MaxPoolOptions<1>;
using MaxPool2dOptions = MaxPoolOptions<2>;

template <size_t D>
struct AvgPoolOptions {
  AvgPoolOptions(ExpandingArray<D> kernel_size) : kernel_size_(kernel_size) {}  // NOLINT
  STRIATE_ARG(ExpandingArray<D>, kernel_size);
  STRIATE_ARG(std::optional<ExpandingArray<D>>, stride) = std::nullopt;
  STRIATE_ARG(ExpandingArray<D>, padding) = 0;
  STRIATE_ARG(bool, ceil_mode) = false;
  STRIATE_ARG(bool, count_include_pad) = true;
  STRIATE_ARG(std::optional<int64_t>, divisor_override) = std::nullopt;
};
using AvgPool2dOptions = AvgPoolOptions<2>;

class MaxPool1dImpl : public Module {
 public:
  explicit MaxPool1dImpl(const MaxPool1dOptions& options) : Module("MaxPool1d"), options(options) {}
  // MaxPool1d(2): kernel size only (stride = kernel size).
  explicit MaxPool1dImpl(ExpandingArray<1> kernel_size) : MaxPool1dImpl(MaxPool1dOptions(kernel_size)) {}
  Tensor forward(const Tensor& input) override;
  void pretty_print(std::ostream& os) const override;
  MaxPool1dOptions options;
};
STRIATE_MODULE(MaxPool1d);

class MaxPool2dImpl : public Module {
 public:
  explicit MaxPool2dImpl(const MaxPool2dOptions& options) : Module("MaxPool2d"), options(options) {}
  // MaxPool2d(2): kernel size only (stride = kernel size).
  explicit MaxPool2dImpl(ExpandingArray<2> kernel_size) : MaxPool2dImpl(MaxPool2dOptions(kernel_size)) {}
  Tensor forward(const Tensor& input) override;
  void pretty_print(std::ostream& os) const override;
  MaxPool2dOptions options;
};
STRIATE_MODULE(MaxPool2d);

class AvgPool2dImpl : public Module {
 public:
  explicit AvgPool2dImpl(const AvgPool2dOptions& options) : Module("AvgPool2d"), options(options) {}
  // AvgPool2d(2): kernel size only (stride = kernel size).
  explicit AvgPool2dImpl(ExpandingArray<2> kernel_size) : AvgPool2dImpl(AvgPool2dOptions(kernel_size)) {}
  Tensor forward(const Tensor& input) override;
  void pretty_print(std::ostream& os) const override;
  AvgPool2dOptions options;
};
STRIATE_MODULE(AvgPool2d);

class AdaptiveAvgPool2dImpl : public Module {
 public:
  explicit AdaptiveAvgPool2dImpl(ExpandingArray<2> output_size) : Module("AdaptiveAvgPool2d"), output_size(output_size) {}
  Tensor forward(const Tensor& input) override;
  void pretty_print(std::ostream& os) const override;
  ExpandingArray<2> output_size;
};
STRIATE_MODULE(AdaptiveAvgPool2d);

class AdaptiveMaxPool2dImpl : public Module {
 public:
  explicit AdaptiveMaxPool2dImpl(ExpandingArray<2> output_size) : Module("AdaptiveMaxPool2d"), output_size(output_size) {}
  Tensor forward(const Tensor& input) override;
  void pretty_print(std::ostream& os) const override;
  ExpandingArray<2> output_size;
};
STRIATE_MODULE(AdaptiveMaxPool2d);

}  // namespace striate::nn
