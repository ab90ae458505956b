// Image transforms, as torchvision.transforms on tensors.
//
// A transform maps an image tensor [..., C, H, W] to another; leading dims are
// a batch that gets the same random parameters (as in torchvision). Random
// transforms draw from the SampleRandom they are given, which a
// TransformedDataset keys by (seed, epoch, sample index); called without one
// they use a fixed stream, so they are deterministic.
//
// Transforms are values holding a shared, immutable implementation: copying
// one is cheap and one instance may serve every worker thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "striate/core/tensor.h"
#include "striate/data/random.h"

namespace striate::data {

class Transform {
 public:
  using Function = std::function<Tensor(const Tensor& image, SampleRandom& random)>;

  Transform(std::string description, Function function);

  Tensor operator()(const Tensor& image, SampleRandom& random) const;
  Tensor operator()(const Tensor& image) const;  // random stream (0, 0, 0)
  // As torchvision prints it: "RandomCrop(size=(32, 32), padding=4)".
  const std::string& description() const { return *description_; }

 private:
  std::shared_ptr<const std::string> description_;
  std::shared_ptr<const Function> function_;
};

// Applies each transform in turn, passing the same random stream along.
class Compose : public Transform {
 public:
  Compose(std::vector<Transform> transforms);
};

// u8 [H, W] or [H, W, C] -> f32 [C, H, W] in [0, 1] (torchvision's ToTensor on
// an HWC array); u8 [N, H, W, C] -> f32 [N, C, H, W]. Floating input is
// returned unchanged.
class ToTensor : public Transform {
 public:
  ToTensor();
};

// (x - mean[c]) / std[c] per channel; one value applies to every channel.
class Normalize : public Transform {
 public:
  Normalize(std::vector<double> mean, std::vector<double> std);
};

// Bilinear resize (half-pixel centres, no antialiasing: torchvision's
// Resize(antialias=False) on tensors, i.e. interpolate(align_corners=False)).
// Resize(s) scales the shorter side to s keeping the aspect ratio (the longer
// side truncated, as torchvision does); Resize(h, w) gives exactly h x w.
class Resize : public Transform {
 public:
  explicit Resize(int64_t size);
  Resize(int64_t height, int64_t width);
};

// The centre crop_h x crop_w (top/left offsets rounded half-to-even, as
// Python's round); an image smaller than the crop is zero-padded first.
class CenterCrop : public Transform {
 public:
  explicit CenterCrop(int64_t size);
  CenterCrop(int64_t height, int64_t width);
};

// Zero-pads each side by `padding`, then crops a size x size window at a
// uniformly random position (torchvision's RandomCrop(size, padding)).
class RandomCrop : public Transform {
 public:
  explicit RandomCrop(int64_t size, int64_t padding = 0);
  RandomCrop(int64_t height, int64_t width, int64_t padding);
};

// Mirrors left-right with probability p.
class RandomHorizontalFlip : public Transform {
 public:
  explicit RandomHorizontalFlip(double p = 0.5);
};

// A random area fraction in `scale` and log-uniform aspect ratio in `ratio`,
// ten tries then the centre fallback, resized to size x size — torchvision's
// RandomResizedCrop.get_params, with the bilinear Resize above (no antialias).
class RandomResizedCrop : public Transform {
 public:
  explicit RandomResizedCrop(int64_t size, std::pair<double, double> scale = {0.08, 1.0},
                             std::pair<double, double> ratio = {3.0 / 4.0, 4.0 / 3.0});
  RandomResizedCrop(int64_t height, int64_t width, std::pair<double, double> scale,
                    std::pair<double, double> ratio);
};

// ---- the same operations as functions ------------------------------------
// Each takes [..., C, H, W] and returns a new contiguous tensor.
Tensor image_to_tensor(const Tensor& image);   // ToTensor
Tensor normalize(const Tensor& image, const std::vector<double>& mean, const std::vector<double>& std);
Tensor resize(const Tensor& image, int64_t height, int64_t width);  // floating images
Tensor crop(const Tensor& image, int64_t top, int64_t left, int64_t height, int64_t width);  // zero outside
Tensor center_crop(const Tensor& image, int64_t height, int64_t width);
Tensor pad(const Tensor& image, int64_t padding, double value = 0);
Tensor horizontal_flip(const Tensor& image);

}  // namespace striate::data
