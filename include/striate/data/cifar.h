// CIFAR-10 and CIFAR-100 in their binary versions.
//
// A CIFAR-10 batch file is a sequence of 3073-byte records: the label (0..9),
// then 1024 red, 1024 green and 1024 blue bytes of a 32x32 image, row-major.
// CIFAR-100 records have two label bytes, coarse (0..19) then fine (0..99).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "striate/core/tensor.h"
#include "striate/data/dataset.h"

namespace striate::data {

enum class CifarKind { Cifar10, Cifar100 };

struct CifarBatch {
  Tensor images;         // u8 [N, 3, 32, 32]
  Tensor labels;         // int64 [N]: CIFAR-10's label, CIFAR-100's fine label
  Tensor coarse_labels;  // int64 [N] for CIFAR-100; undefined for CIFAR-10
};

// Reads one batch file; a size that is not a whole number of records, or a
// label out of range, is an IOError naming the file.
CifarBatch read_cifar_batch(const std::string& path, CifarKind kind);
CifarBatch decode_cifar_batch(const std::vector<uint8_t>& bytes, CifarKind kind,
                              const std::string& name = "<memory>");

// data_batch_1.bin .. data_batch_5.bin (train) or test_batch.bin, in root or
// root/cifar-10-batches-bin. get(i): f32 [3, 32, 32] in [0, 1], int64 label.
class CIFAR10 : public Dataset {
 public:
  explicit CIFAR10(const std::string& root, bool train = true);
  int64_t size() const override { return data_.images.size(0); }
  const Tensor& images() const { return data_.images; }
  const Tensor& targets() const { return data_.labels; }
  const std::vector<std::string>& classes() const;

 protected:
  Example fetch(int64_t index, const SampleContext& context) const override;

 private:
  CifarBatch data_;
};

// train.bin or test.bin, in root or root/cifar-100-binary. The target is the
// fine label (100 classes) unless `coarse` (20 superclasses).
class CIFAR100 : public Dataset {
 public:
  explicit CIFAR100(const std::string& root, bool train = true, bool coarse = false);
  int64_t size() const override { return data_.images.size(0); }
  const Tensor& images() const { return data_.images; }
  const Tensor& targets() const { return coarse_ ? data_.coarse_labels : data_.labels; }
  const Tensor& fine_targets() const { return data_.labels; }
  const Tensor& coarse_targets() const { return data_.coarse_labels; }

 protected:
  Example fetch(int64_t index, const SampleContext& context) const override;

 private:
  CifarBatch data_;
  bool coarse_;
};

}  // namespace striate::data
