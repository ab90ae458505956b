#include "striate/layers/activation.h"

#include "striate/core/ops/activation.h"
#include "striate/core/ops/factory.h"

namespace striate::nn {

Tensor ReLUImpl::forward(const Tensor& x) { return relu(x); }
Tensor ReLU6Impl::forward(const Tensor& x) { return relu6(x); }
Tensor SELUImpl::forward(const Tensor& x) { return selu(x); }
Tensor SiLUImpl::forward(const Tensor& x) { return silu(x); }
Tensor TanhImpl::forward(const Tensor& x) { return striate::tanh(x); }
Tensor SigmoidImpl::forward(const Tensor& x) { return sigmoid(x); }
Tensor SoftsignImpl::forward(const Tensor& x) { return softsign(x); }

Tensor LeakyReLUImpl::forward(const Tensor& x) { return leaky_relu(x, options.negative_slope()); }
void LeakyReLUImpl::pretty_print(std::ostream& os) const {
  os << "LeakyReLU(negative_slope=" << options.negative_slope() << ")";
}

Tensor ELUImpl::forward(const Tensor& x) { return elu(x, options.alpha()); }
void ELUImpl::pretty_print(std::ostream& os) const { os << "ELU(alpha=" << options.alpha() << ")"; }

Tensor GELUImpl::forward(const Tensor& x) { return gelu(x, options.approximate()); }
void GELUImpl::pretty_print(std::ostream& os) const { os << "GELU(approximate='" << options.approximate() << "')"; }

Tensor SoftplusImpl::forward(const Tensor& x) { return softplus(x, options.beta(), options.threshold()); }
void SoftplusImpl::pretty_print(std::ostream& os) const {
  os << "Softplus(beta=" << options.beta() << ", threshold=" << options.threshold() << ")";
}

HardtanhImpl::HardtanhImpl(const HardtanhOptions& o) : Module("Hardtanh"), options(o) {
  STRIATE_CHECK(o.max_val() > o.min_val(), ValueError, "Hardtanh: max_val (", o.max_val(),
                ") must be greater than min_val (", o.min_val(), ")");
}
Tensor HardtanhImpl::forward(const Tensor& x) { return hardtanh(x, options.min_val(), options.max_val()); }
void HardtanhImpl::pretty_print(std::ostream& os) const {
  os << "Hardtanh(min_val=" << options.min_val() << ", max_val=" << options.max_val() << ")";
}

PReLUImpl::PReLUImpl(const PReLUOptions& o) : Module("PReLU"), options(o) {
  STRIATE_CHECK(o.num_parameters() > 0, ValueError, "PReLU: num_parameters must be positive, got ",
                o.num_parameters());
  weight = register_parameter("weight", full({o.num_parameters()}, o.init()));
}
Tensor PReLUImpl::forward(const Tensor& x) { return prelu(x, weight); }
void PReLUImpl::pretty_print(std::ostream& os) const { os << "PReLU(num_parameters=" << options.num_parameters() << ")"; }

Tensor SoftmaxImpl::forward(const Tensor& x) { return softmax(x, dim); }
void SoftmaxImpl::pretty_print(std::ostream& os) const { os << "Softmax(dim=" << dim << ")"; }
Tensor LogSoftmaxImpl::forward(const Tensor& x) { return log_softmax(x, dim); }
void LogSoftmaxImpl::pretty_print(std::ostream& os) const { os << "LogSoftmax(dim=" << dim << ")"; }

}  // namespace striate::nn
