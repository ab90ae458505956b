// ImageFolder: root/<class>/**/<image>.{jpg,jpeg,png}, one class per
// sub-folder, as torchvision.datasets.ImageFolder.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "striate/data/dataset.h"
#include "striate/data/image.h"

namespace striate::data {

class ImageFolder : public Dataset {
 public:
  // Class names are the sub-folder names sorted by byte value (hidden ones,
  // starting with '.', are skipped), mapped to 0, 1, ...; files are collected
  // recursively in sorted path order, extensions compared case-insensitively.
  // A missing root, no class folder, or a class without any image is an
  // IOError. Images are decoded on get(): f32 [C, H, W] in [0, 1] (C = 3 for
  // ImageMode::RGB), so a corrupt file is an IOError then, naming it.
  explicit ImageFolder(const std::string& root, ImageMode mode = ImageMode::RGB,
                       std::vector<std::string> extensions = {".jpg", ".jpeg", ".png"});

  int64_t size() const override { return static_cast<int64_t>(samples_.size()); }
  const std::vector<std::string>& classes() const { return classes_; }
  const std::map<std::string, int64_t>& class_to_index() const { return class_to_index_; }
  // (path, class index) per sample, in index order.
  const std::vector<std::pair<std::string, int64_t>>& samples() const { return samples_; }

 protected:
  Example fetch(int64_t index, const SampleContext& context) const override;

 private:
  ImageMode mode_;
  std::vector<std::string> classes_;
  std::map<std::string, int64_t> class_to_index_;
  std::vector<std::pair<std::string, int64_t>> samples_;
};

}  // namespace striate::data
