// summary(model, input_shape): a torchsummary/Keras-style table of every
// layer's output shape and parameter count, with totals and memory sizes.
//
//   auto s = nn::summary(model, {1, 32, 32});   // [C, H, W], no batch dim
//   std::cout << s.table;
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "striate/layers/module.h"

namespace striate::nn {

// One leaf-module call seen during the forward pass.
struct LayerSummary {
  std::string name;     // dotted path, e.g. "features.0" ("" for a model that is itself a leaf)
  std::string type;     // e.g. "Conv2d"
  Shape output_shape;   // with the batch of 1 that summary() runs
  int64_t params = 0;   // the layer's own parameters (repeated on each call of a shared layer)
  int64_t output_bytes = 0;
};

struct ModelSummary {
  std::vector<LayerSummary> layers;  // in call order
  // Over the model's distinct parameters (a shared layer counts once).
  int64_t total_params = 0;
  int64_t trainable_params = 0;
  int64_t non_trainable_params = 0;
  // Mebibytes (2^20 bytes), at the dtype the model's parameters have:
  double input_mb = 0;             // one input of batch 1
  double forward_backward_mb = 0;  // every leaf output, twice (activation + its gradient)
  double params_mb = 0;
  double total_mb = 0;             // the three above
  std::string table;               // the printed form
};

struct SummaryOptions {
  // Defaults to the dtype and device of the model's first floating parameter
  // (float32 on the CPU for a model without parameters).
  std::optional<DType> dtype;
  std::optional<Device> device;
};

// Runs one forward pass on zeros of shape [1, input_shape...] in eval mode
// under NoGradGuard (training flags are restored afterwards), recording every
// call of a leaf module (one without children) made through Module::operator()
// or a holder's call operator; a layer invoked as `layer->forward(x)` is not
// seen. Composite modules' own arithmetic (a residual add) gets no row.
ModelSummary summary(Module& model, const Shape& input_shape, const SummaryOptions& options = {});
inline ModelSummary summary(const std::shared_ptr<Module>& model, const Shape& input_shape,
                            const SummaryOptions& options = {}) {
  return summary(*model, input_shape, options);
}

// 61100840 -> "61,100,840"
std::string format_thousands(int64_t value);

std::ostream& operator<<(std::ostream& os, const ModelSummary& s);

}  // namespace striate::nn
