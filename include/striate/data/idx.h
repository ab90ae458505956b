// The IDX format of MNIST and Fashion-MNIST, and those two datasets.
//
// IDX: two zero bytes, a type code (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32,
// 0x0D f32, 0x0E f64), the number of dims, each dim as a big-endian u32, then
// the elements big-endian in row-major order. Files may be gzip-compressed
// (recognised by their content, not their name).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "striate/core/tensor.h"
#include "striate/data/dataset.h"

namespace striate::data {

// The tensor an IDX file holds: u8 for 0x08, int32 for the signed integer
// codes, f32 / f64 for the floating ones. Any problem (missing file, bad
// magic, truncated or trailing data, corrupt gzip) is an IOError naming `path`.
Tensor read_idx(const std::string& path);
// The same from bytes in memory; `name` is used in error messages.
Tensor decode_idx(const std::vector<uint8_t>& bytes, const std::string& name = "<memory>");

// Where Debian's dataset-fashion-mnist package puts the files.
inline constexpr const char* kDebianFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// MNIST-layout datasets: {train,t10k}-{images-idx3,labels-idx1}-ubyte, raw or
// with .gz, in `root`, root/raw or root/<Name>/raw (torchvision's layout).
// get(i) returns the image as f32 [1, 28, 28] in [0, 1] and the label as a
// 0-dim int64 tensor.
class MNIST : public Dataset {
 public:
  explicit MNIST(const std::string& root, bool train = true);

  int64_t size() const override { return images_.size(0); }
  const Tensor& images() const { return images_; }   // u8 [N, 28, 28], as stored
  const Tensor& targets() const { return targets_; }  // int64 [N]
  // All images as f32 [N, 1, 28, 28] in [0, 1] (for evaluating in one go).
  Tensor float_images() const;
  virtual const std::vector<std::string>& classes() const;
  bool train() const { return train_; }
  const std::string& images_path() const { return images_path_; }
  const std::string& labels_path() const { return labels_path_; }

  // What tells MNIST-layout datasets apart, for subclasses.
  struct Layout {
    const char* name;        // "MNIST": in messages and torchvision's root/<name>/raw
    const char* how_to_get;  // appended to the not-found message
  };

 protected:
  MNIST(const std::string& root, bool train, const Layout& layout);
  Example fetch(int64_t index, const SampleContext& context) const override;

 private:
  Tensor images_;
  Tensor targets_;
  bool train_;
  std::string images_path_;
  std::string labels_path_;
};

// Zalando's Fashion-MNIST: same files, ten clothing classes. The default root
// is Debian's package (apt-get install dataset-fashion-mnist).
class FashionMNIST : public MNIST {
 public:
  explicit FashionMNIST(const std::string& root = kDebianFashionMnistDir, bool train = true);
  const std::vector<std::string>& classes() const override;
};

}  // namespace striate::data
