#include "striate/layers/pooling.h"

#include "striate/core/ops/pooling.h"

namespace striate::nn {

template <size_t D>
static void print_window(std::ostream& os, const char* name, const ExpandingArray<D>& kernel,
                         const std::optional<ExpandingArray<D>>& stride, const ExpandingArray<D>& padding) {
  os << name << "(kernel_size=" << kernel << ", stride=" << stride.value_or(kernel) << ", padding=" << padding;
}

Tensor MaxPool1dImpl::forward(const Tensor& x) {
  const auto& o = options;
  return max_pool1d(x, o.kernel_size(), o.stride(), o.padding(), o.dilation(), o.ceil_mode());
}
void MaxPool1dImpl::pretty_print(std::ostream& os) const {
  print_window(os, "MaxPool1d", options.kernel_size(), options.stride(), options.padding());
  os << ", dilation=" << options.dilation() << ", ceil_mode=" << (options.ceil_mode() ? "true" : "false") << ")";
}

Tensor MaxPool2dImpl::forward(const Tensor& x) {
  const auto& o = options;
  return max_pool2d(x, o.kernel_size(), o.stride(), o.padding(), o.dilation(), o.ceil_mode());
}
void MaxPool2dImpl::pretty_print(std::ostream& os) const {
  print_window(os, "MaxPool2d", options.kernel_size(), options.stride(), options.padding());
  os << ", dilation=" << options.dilation() << ", ceil_mode=" << (options.ceil_mode() ? "true" : "false") << ")";
}

Tensor AvgPool2dImpl::forward(const Tensor& x) {
  const auto& o = options;
  return avg_pool2d(x, o.kernel_size(), o.stride(), o.padding(), o.ceil_mode(), o.count_include_pad(),
                    o.divisor_override());
}
void AvgPool2dImpl::pretty_print(std::ostream& os) const {
  print_window(os, "AvgPool2d", options.kernel_size(), options.stride(), options.padding());
  os << ")";
}

Tensor AdaptiveAvgPool2dImpl::forward(const Tensor& x) { return adaptive_avg_pool2d(x, output_size); }
void AdaptiveAvgPool2dImpl::pretty_print(std::ostream& os) const {
  os << "AdaptiveAvgPool2d(output_size=" << output_size << ")";
}

Tensor AdaptiveMaxPool2dImpl::forward(const Tensor& x) { return std::get<0>(adaptive_max_pool2d(x, output_size)); }
void AdaptiveMaxPool2dImpl::pretty_print(std::ostream& os) const {
  os << "AdaptiveMaxPool2d(output_size=" << output_size << ")";
}

}  // namespace striate::nn
