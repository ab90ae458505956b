// Conv1d and Conv2d modules over ops/conv.h.
#pragma once

#include "striate/core/expanding_array.h"
#include "striate/layers/module.h"
#include "striate/layers/options.h"

namespace striate::nn {

template <size_t D>
struct ConvOptions {
  ConvOptions(int64_t in_channels, int64_t out_channels, ExpandingArray<D> kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  STRIATE_ARG(int64_t, in_channels);
  STRIATE_ARG(int64_t, out_channels);
  STRIATE_ARG(ExpandingArray<D>, kernel_size);
  STRIATE_ARG(ExpandingArray<D>, stride) = 1;
  STRIATE_ARG(ConvPadding<D>, padding) = 0;
  STRIATE_ARG(ExpandingArray<D>, dilation) = 1;
  STRIATE_ARG(int64_t, groups) = 1;
  STRIATE_ARG(bool, bias) = true;
};
using Conv1dOptions = ConvOptions<1>;
using Conv2dOptions = ConvOptions<2>;

// weight [out, in / groups, k...], bias [out]; PyTorch's default init
// (kaiming-uniform with a = sqrt(5); bias uniform in ±1/sqrt(fan_in)).
template <size_t D>
class ConvNdImpl : public Module {
 public:
  explicit ConvNdImpl(const ConvOptions<D>& options);
  Tensor forward(const Tensor& input) override;
  void reset_parameters();
  void pretty_print(std::ostream& os) const override;

  ConvOptions<D> options;
  Tensor weight;
  Tensor bias;
};

class Conv1dImpl : public ConvNdImpl<1> {
 public:
  using ConvNdImpl<1>::ConvNdImpl;
  Conv1dImpl(int64_t in, int64_t out, ExpandingArray<1> kernel) : ConvNdImpl<1>(Conv1dOptions(in, out, kernel)) {}
};
STRIATE_MODULE(Conv1d);

class Conv2dImpl : public ConvNdImpl<2> {
 public:
  using ConvNdImpl<2>::ConvNdImpl;
  Conv2dImpl(int64_t in, int64_t out, ExpandingArray<2> kernel) : ConvNdImpl<2>(Conv2dOptions(in, out, kernel)) {}
};
STRIATE_MODULE(Conv2d);

}  // namespace striate::nn
