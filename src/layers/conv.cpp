#include "striate/layers/conv.h"

#include <cmath>

#include "striate/core/ops/conv.h"
#include "striate/core/ops/factory.h"
#include "striate/layers/init.h"

namespace striate::nn {

template <size_t D>
ConvNdImpl<D>::ConvNdImpl(const ConvOptions<D>& o) : Module(D == 1 ? "Conv1d" : "Conv2d"), options(o) {
  const char* name = D == 1 ? "Conv1d" : "Conv2d";
  STRIATE_CHECK(o.in_channels() > 0 && o.out_channels() > 0, ValueError, name,
                ": in_channels and out_channels must be positive, got ", o.in_channels(), " and ", o.out_channels());
  STRIATE_CHECK(o.groups() > 0 && o.in_channels() % o.groups() == 0 && o.out_channels() % o.groups() == 0,
                ValueError, name, ": in_channels (", o.in_channels(), ") and out_channels (", o.out_channels(),
                ") must both be divisible by groups (", o.groups(), ")");
  Shape shape{o.out_channels(), o.in_channels() / o.groups()};
  for (size_t i = 0; i < D; ++i) shape.push_back(o.kernel_size()[i]);
  weight = register_parameter("weight", empty(shape));
  if (o.bias()) bias = register_parameter("bias", empty({o.out_channels()}));
  reset_parameters();
}

template <size_t D>
void ConvNdImpl<D>::reset_parameters() {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double bound = 1 / std::sqrt(static_cast<double>(init::calculate_fan_in_and_fan_out(weight).first));
    init::uniform_(bias, -bound, bound);
  }
}

template <size_t D>
Tensor ConvNdImpl<D>::forward(const Tensor& input) {
  const auto& o = options;
  if constexpr (D == 1) return conv1d(input, weight, bias, o.stride(), o.padding(), o.dilation(), o.groups());
  else return conv2d(input, weight, bias, o.stride(), o.padding(), o.dilation(), o.groups());
}

template <size_t D>
void ConvNdImpl<D>::pretty_print(std::ostream& os) const {
  const auto& o = options;
  os << type_name() << "(" << o.in_channels() << ", " << o.out_channels() << ", kernel_size=" << o.kernel_size()
     << ", stride=" << o.stride();
  switch (o.padding().mode()) {
    case PaddingMode::Valid: os << ", padding='valid'"; break;
    case PaddingMode::Same: os << ", padding='same'"; break;
    case PaddingMode::Explicit:
      if (o.padding().amounts() != ExpandingArray<D>(0)) os << ", padding=" << o.padding().amounts();
  }
  if (o.dilation() != ExpandingArray<D>(1)) os << ", dilation=" << o.dilation();
  if (o.groups() != 1) os << ", groups=" << o.groups();
  if (!o.bias()) os << ", bias=false";
  os << ")";
}

template class ConvNdImpl<1>;
template class ConvNdImpl<2>;

}  // namespace striate::nn
