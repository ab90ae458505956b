// Activations through cuDNN's activation API: the Library backend of
// OpFamily::Activation.
//
// The op layer's loop (operands merged into as few dims as their strides
// allow; one dim for dense tensors) becomes one Nd tensor descriptor shared
// by every operand, so the operands must be laid out alike. NaN propagates
// (relu and clipped relu of NaN are NaN, as on the CPU). cuDNN's formulas
// are its own: elu and swish may round differently, and the gradient of
// relu or clipped relu at a NaN input follows cuDNN's comparison, not the
// CPU's (which passes the gradient through). What cuDNN refuses at run time
// (a dtype or layout it does not take: CUDNN_STATUS_NOT_SUPPORTED) runs the
// native kernel like the cases refused up front.
#ifdef STRIATE_WITH_CUDNN

#include <cstdint>
#include <string>

#include "kernels/activation.h"
#include "kernels/cudnn/library.h"

namespace striate::kernels::cudnn {
namespace {

// Beyond 5 dims cuDNN wants packed spatial dims; merged loops of dense
// operands have one.
constexpr int kMaxDims = 5;

const char* activation_name(const ActivationArgs& a) {
  switch (a.op) {
    case Activation::Relu: return "relu";
    case Activation::Sigmoid: return "sigmoid";
    case Activation::Tanh: return "tanh";
    case Activation::Silu: return "silu";
    case Activation::Elu: return "elu";
    case Activation::Hardtanh: return "hardtanh";
    default: return "activation";
  }
}

void say_native(const char* pass, const ActivationArgs& a, const char* reason) {
  registry::log_once(std::string("striate: cuDNN ") + pass + " (" + activation_name(a) + "): " + reason +
                     "; running the native kernel");
}

bool data_type(DType dtype, cudnnDataType_t& t) {
  switch (dtype) {
    case DType::F32: t = CUDNN_DATA_FLOAT; return true;
    case DType::F64: t = CUDNN_DATA_DOUBLE; return true;
    case DType::F16: t = CUDNN_DATA_HALF; return true;
    case DType::BF16: t = CUDNN_DATA_BFLOAT16; return true;
    default: return false;
  }
}

// Sizes and element strides, outermost first, at least 4 dims (leading 1s).
struct Layout {
  int ndim = 0;
  int sizes[kMaxDims] = {};
  int strides[kMaxDims] = {};
};

// The layout every operand of `loop` shares, or why there is none (null then).
template <int N>
const char* shared_layout(const Loop<N>& loop, DType dtype, Layout& layout) {
  if (loop.ndim > kMaxDims) return "more than 5 dims after merging";
  const int64_t element = static_cast<int64_t>(element_size(dtype));
  int64_t last_offset = 0;  // of the last element, in elements
  for (int d = 0; d < loop.ndim; ++d) {
    for (int k = 1; k < N; ++k)
      if (loop.strides[k][d] != loop.strides[0][d]) return "operands with different strides";
    if (loop.strides[0][d] <= 0) return "a broadcast (stride 0) operand";
    last_offset += loop.strides[0][d] / element * (loop.sizes[d] - 1);
  }
  if (loop.numel() > INT32_MAX || last_offset >= INT32_MAX) return "sizes beyond 32-bit";
  const int lead = loop.ndim < 4 ? 4 - loop.ndim : 0;
  layout.ndim = lead + loop.ndim;
  for (int d = 0; d < lead; ++d) {
    layout.sizes[d] = 1;
    layout.strides[d] = static_cast<int>(last_offset + 1);
  }
  for (int d = 0; d < loop.ndim; ++d) {
    layout.sizes[lead + d] = static_cast<int>(loop.sizes[d]);
    layout.strides[lead + d] = static_cast<int>(loop.strides[0][d] / element);
  }
  return nullptr;
}

cudnnStatus_t set_mode(cudnnActivationDescriptor_t d, const ActivationArgs& a) {
  switch (a.op) {
    case Activation::Relu: return cudnnSetActivationDescriptor(d, CUDNN_ACTIVATION_RELU, CUDNN_PROPAGATE_NAN, 0.0);
    case Activation::Sigmoid:
      return cudnnSetActivationDescriptor(d, CUDNN_ACTIVATION_SIGMOID, CUDNN_PROPAGATE_NAN, 0.0);
    case Activation::Tanh: return cudnnSetActivationDescriptor(d, CUDNN_ACTIVATION_TANH, CUDNN_PROPAGATE_NAN, 0.0);
    case Activation::Elu: return cudnnSetActivationDescriptor(d, CUDNN_ACTIVATION_ELU, CUDNN_PROPAGATE_NAN, a.a);
    case Activation::Hardtanh:  // min_val 0: the ceiling is max_val
      return cudnnSetActivationDescriptor(d, CUDNN_ACTIVATION_CLIPPED_RELU, CUDNN_PROPAGATE_NAN, a.b);
    case Activation::Silu: {  // x * sigmoid(beta x) with beta 1
      const cudnnStatus_t s = cudnnSetActivationDescriptor(d, CUDNN_ACTIVATION_SWISH, CUDNN_PROPAGATE_NAN, 0.0);
      return s == CUDNN_STATUS_SUCCESS ? cudnnSetActivationDescriptorSwishBeta(d, 1.0) : s;
    }
    default: return CUDNN_STATUS_NOT_SUPPORTED;  // library_has_activation refused it already
  }
}

// The descriptors of one call, destroyed with it; `status` is what setting
// them answered (NOT_SUPPORTED for a dtype cuDNN lacks).
struct Descriptors {
  cudnnTensorDescriptor_t tensor = nullptr;
  cudnnActivationDescriptor_t activation = nullptr;
  cudnnStatus_t status = CUDNN_STATUS_SUCCESS;

  Descriptors(const Layout& layout, cudnnDataType_t t, const ActivationArgs& args) {
    STRIATE_CUDNN_CHECK(cudnnCreateTensorDescriptor(&tensor));
    STRIATE_CUDNN_CHECK(cudnnCreateActivationDescriptor(&activation));
    status = cudnnSetTensorNdDescriptor(tensor, t, layout.ndim, layout.sizes, layout.strides);
    if (status == CUDNN_STATUS_SUCCESS) status = set_mode(activation, args);
  }
  ~Descriptors() {
    cudnnDestroyActivationDescriptor(activation);
    cudnnDestroyTensorDescriptor(tensor);
  }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;
};

// Runs call(descriptors) unless the case is cuDNN's to refuse; false when the
// native kernel must run instead (said once).
template <int N, typename Call>
bool run_library(const char* pass, const Loop<N>& loop, const ActivationArgs& args, DType dtype, Call&& call) {
  const auto refuse = [&](const char* reason) {
    say_native(pass, args, reason);
    return false;
  };
  if (!library_has_activation(args)) return refuse("not one of cuDNN's activations (or arguments)");
  cudnnDataType_t t;
  if (!data_type(dtype, t)) return refuse("a dtype cuDNN does not take");
  Layout layout;
  if (const char* limit = shared_layout(loop, dtype, layout)) return refuse(limit);
  if (loop.numel() == 0) return true;
  const Descriptors d(layout, t, args);
  cudnnStatus_t status = d.status;
  if (status == CUDNN_STATUS_SUCCESS) status = call(d);
  if (not_supported(status)) return refuse(cudnnGetErrorString(status));
  if (status != CUDNN_STATUS_SUCCESS) throw_cudnn_error(status, pass, __FILE__, __LINE__);
  return true;
}

}  // namespace

void activation(const ActivationParams& p) {
  const bool ran = run_library("activation", p.loop, p.args, p.dtype, [&](const Descriptors& d) {
    return cudnnActivationForward(cudnn_handle(), d.activation, scaling_one(p.dtype), d.tensor, p.loop.data[1],
                                  scaling_zero(p.dtype), d.tensor, p.loop.data[0]);
  });
  if (!ran) cuda::activation(p);
}

void activation_backward(const ActivationBackwardParams& p) {
  if (p.other == nullptr) {
    if (library_has_activation(p.args))
      say_native("activation backward", p.args, "no forward input and output laid out alike to read");
    return cuda::activation_backward(p);
  }
  const bool saved_is_output = backward_uses_output(p.args.op);
  const void* y = saved_is_output ? p.loop.data[2] : p.other;
  const void* x = saved_is_output ? p.other : p.loop.data[2];
  const bool ran = run_library("activation backward", p.loop, p.args, p.dtype, [&](const Descriptors& d) {
    return cudnnActivationBackward(cudnn_handle(), d.activation, scaling_one(p.dtype), d.tensor, y, d.tensor,
                                   p.loop.data[1], d.tensor, x, scaling_zero(p.dtype), d.tensor, p.loop.data[0]);
  });
  if (!ran) cuda::activation_backward(p);
}

}  // namespace striate::kernels::cudnn

#endif
