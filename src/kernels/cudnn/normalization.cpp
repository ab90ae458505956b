// Batch norm through cuDNN's fused batch-normalization calls: the Library
// backend of OpFamily::Normalization.
//
// One call per pass replaces the native path's four kernels: the forward
// computes the batch statistics, normalises, and updates the running
// statistics (cuDNN's exponentialAverageFactor is striate's momentum, and it
// too tracks the unbiased variance); the backward gives all three gradients.
// CUDNN_BATCHNORM_SPATIAL normalises each channel over n, h and w, which is
// what batch_norm means for every rank once the trailing dims fold into h.
// NHWC inputs get NHWC descriptors, so ChannelsLast needs no copy.
// Statistics are summed in cuDNN's order and precision (the data type's),
// not in double as the native kernels do.
#ifdef STRIATE_WITH_CUDNN

#include <string>

#include "kernels/cudnn/library.h"
#include "kernels/normalization.h"

namespace striate::kernels::cudnn {
namespace {

// The data descriptor (x, y, dx, dy alike) and the per-channel one cuDNN
// derives from it, destroyed with them.
struct Descriptors {
  cudnnTensorDescriptor_t data = nullptr, channel = nullptr;

  Descriptors(const BatchNormLibraryShape& s, DType dtype) {
    if (const char* limit = batch_norm_library_limit(s, dtype))
      throw NotImplementedError(std::string("cuDNN batch_norm: ") + limit + " is not supported");
    const auto i = [](int64_t v) { return static_cast<int>(v); };
    STRIATE_CUDNN_CHECK(cudnnCreateTensorDescriptor(&data));
    STRIATE_CUDNN_CHECK(cudnnCreateTensorDescriptor(&channel));
    STRIATE_CUDNN_CHECK(cudnnSetTensor4dDescriptor(data, s.channels_last ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW,
                                                   float_data_type(dtype, "cuDNN batch_norm"), i(s.n), i(s.c), i(s.h),
                                                   i(s.w)));
    STRIATE_CUDNN_CHECK(cudnnDeriveBNTensorDescriptor(channel, data, CUDNN_BATCHNORM_SPATIAL));
  }
  ~Descriptors() {
    cudnnDestroyTensorDescriptor(channel);
    cudnnDestroyTensorDescriptor(data);
  }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;
};

}  // namespace

void batch_norm_forward(const BatchNormLibraryForwardParams& p) {
  const Descriptors d(p.shape, p.dtype);
  cudnnHandle_t h = cudnn_handle();
  if (p.training) {
    STRIATE_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
        h, CUDNN_BATCHNORM_SPATIAL, scaling_one(p.dtype), scaling_zero(p.dtype), d.data, p.input, d.data, p.output,
        d.channel, p.weight, p.bias, p.momentum, p.running_mean, p.running_var, p.eps, p.save_mean, p.save_invstd));
  } else {
    STRIATE_CUDNN_CHECK(cudnnBatchNormalizationForwardInference(
        h, CUDNN_BATCHNORM_SPATIAL, scaling_one(p.dtype), scaling_zero(p.dtype), d.data, p.input, d.data, p.output,
        d.channel, p.weight, p.bias, p.running_mean, p.running_var, p.eps));
  }
}

void batch_norm_backward(const BatchNormLibraryBackwardParams& p) {
  const Descriptors d(p.shape, p.dtype);
  STRIATE_CUDNN_CHECK(cudnnBatchNormalizationBackward(
      cudnn_handle(), CUDNN_BATCHNORM_SPATIAL, scaling_one(p.dtype), scaling_zero(p.dtype), scaling_one(p.dtype),
      scaling_zero(p.dtype), d.data, p.input, d.data, p.grad_out, d.data, p.grad_input, d.channel, p.weight,
      p.grad_weight, p.grad_bias, p.eps, p.save_mean, p.save_invstd));
}

}  // namespace striate::kernels::cudnn

#endif
