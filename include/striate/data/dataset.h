// Datasets: an indexable collection of (data, target) examples.
//
// As in LibTorch, a dataset is something with a size() and a get(index); the
// DataLoader batches, shuffles and prefetches. Datasets are shared between
// worker threads, so get() must be safe to call concurrently (it is const).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "striate/core/tensor.h"

namespace striate::data {

class Transform;

// One example: an image (or any tensor) and its target. For classification
// datasets the target is a 0-dim int64 tensor holding the class index; it may
// be undefined for unlabelled data.
struct Example {
  Tensor data;
  Tensor target;
};

// What a sample is being loaded for: random transforms seed their Philox
// stream with (seed, epoch, index), so the same sample in the same epoch is
// augmented the same way whichever thread loads it.
struct SampleContext {
  uint64_t seed = 0;
  uint64_t epoch = 0;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;

  // Checks the index (negative indices are not accepted) and loads example
  // `index`; the one-argument form uses seed 0, epoch 0.
  Example get(int64_t index) const { return get(index, SampleContext{}); }
  Example get(int64_t index, const SampleContext& context) const;

 protected:
  // Loads example `index`, already range-checked. Called concurrently.
  virtual Example fetch(int64_t index, const SampleContext& context) const = 0;
};

using DatasetPtr = std::shared_ptr<const Dataset>;

// Examples held in memory: data[i] and targets[i] (targets may be undefined).
class TensorDataset : public Dataset {
 public:
  TensorDataset(Tensor data, Tensor targets = {});
  int64_t size() const override { return data_.size(0); }
  const Tensor& data() const { return data_; }
  const Tensor& targets() const { return targets_; }

 protected:
  Example fetch(int64_t index, const SampleContext& context) const override;

 private:
  Tensor data_;
  Tensor targets_;
};

// The examples of `base` at `indices`, in that order (a train/validation split).
class Subset : public Dataset {
 public:
  Subset(DatasetPtr base, std::vector<int64_t> indices);
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  const std::vector<int64_t>& indices() const { return indices_; }

 protected:
  Example fetch(int64_t index, const SampleContext& context) const override;

 private:
  DatasetPtr base_;
  std::vector<int64_t> indices_;
};

// `base` with a transform applied to each example's data. The transform's
// random stream is keyed by (context.seed, context.epoch, index).
class TransformedDataset : public Dataset {
 public:
  TransformedDataset(DatasetPtr base, const Transform& transform);
  ~TransformedDataset() override;
  int64_t size() const override { return base_->size(); }

 protected:
  Example fetch(int64_t index, const SampleContext& context) const override;

 private:
  DatasetPtr base_;
  std::unique_ptr<Transform> transform_;
};

// transformed(FashionMNIST::make(...), Compose({...})), as LibTorch's .map().
DatasetPtr transformed(DatasetPtr base, const Transform& transform);

}  // namespace striate::data
