// The models the `striate` command knows by name, built for a dataset's
// image shape and class count.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "striate/layers/layers.h"

namespace striate::tools {

struct ModelInfo {
  std::string name;
  std::string description;
};

// Every name make_model accepts, in the order --help lists them.
const std::vector<ModelInfo>& model_catalog();
std::string model_names_joined(const std::string& separator = ", ");
bool is_known_model(const std::string& name);

// ValueError for an unknown name or an input the model cannot take.
std::shared_ptr<nn::Module> make_model(const std::string& name, int64_t in_channels, int64_t num_classes,
                                       int64_t image_size);

// A small VGG-style CNN with batch norm, sized for 28×28 and 32×32 images:
//   features:   [Conv3x3(c) BN ReLU] ×2, MaxPool2 for c in (32, 64), then
//               Conv3x3(128) BN ReLU, MaxPool2           -> [128, s/8, s/8]
//   classifier: Flatten, Dropout(0.3), Linear(128·(s/8)², 256), BN1d, ReLU,
//               Dropout(0.3), Linear(256, classes)
class SmallVGGImpl : public nn::Module {
 public:
  SmallVGGImpl(int64_t in_channels, int64_t num_classes, int64_t image_size);
  Tensor forward(const Tensor& input) override;

  nn::Sequential features{nullptr};
  nn::Sequential classifier{nullptr};
};
STRIATE_MODULE(SmallVGG);

// The first Conv2d in the model's registration order (its filters are what
// the filters PNG shows), or nullptr.
nn::Conv2dImpl* first_conv(nn::Module& model);

}  // namespace striate::tools
