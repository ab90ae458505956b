#include "striate/data/dataset.h"

#include "striate/core/error.h"
#include "striate/data/transforms.h"

namespace striate::data {

Example Dataset::get(int64_t index, const SampleContext& context) const {
  const int64_t n = size();
  STRIATE_CHECK(index >= 0 && index < n, IndexError, "Dataset::get: index ", index,
                " is out of range for a dataset of size ", n);
  return fetch(index, context);
}

TensorDataset::TensorDataset(Tensor data, Tensor targets) : data_(std::move(data)), targets_(std::move(targets)) {
  STRIATE_CHECK(data_.defined() && data_.dim() >= 1, ShapeError,
                "TensorDataset: expected data with at least 1 dim [N, ...]");
  if (targets_.defined()) {
    STRIATE_CHECK(targets_.dim() >= 1 && targets_.size(0) == data_.size(0), ShapeError,
                  "TensorDataset: data has ", data_.size(0), " examples (shape ", data_.sizes(),
                  ") but targets has shape ", targets_.sizes());
  }
}

Example TensorDataset::fetch(int64_t index, const SampleContext&) const {
  Example example{data_.select(0, index), Tensor()};
  if (targets_.defined()) example.target = targets_.select(0, index);
  return example;
}

Subset::Subset(DatasetPtr base, std::vector<int64_t> indices) : base_(std::move(base)), indices_(std::move(indices)) {
  STRIATE_CHECK(base_ != nullptr, ValueError, "Subset: the base dataset is null");
  const int64_t n = base_->size();
  for (size_t i = 0; i < indices_.size(); ++i)
    STRIATE_CHECK(indices_[i] >= 0 && indices_[i] < n, IndexError, "Subset: index ", indices_[i], " (entry ", i,
                  ") is out of range for a dataset of size ", n);
}

Example Subset::fetch(int64_t index, const SampleContext& context) const {
  return base_->get(indices_[static_cast<size_t>(index)], context);
}

TransformedDataset::TransformedDataset(DatasetPtr base, const Transform& transform)
    : base_(std::move(base)), transform_(std::make_unique<Transform>(transform)) {
  STRIATE_CHECK(base_ != nullptr, ValueError, "TransformedDataset: the base dataset is null");
}

TransformedDataset::~TransformedDataset() = default;

Example TransformedDataset::fetch(int64_t index, const SampleContext& context) const {
  Example example = base_->get(index, context);
  SampleRandom random(context.seed, context.epoch, static_cast<uint64_t>(index));
  example.data = (*transform_)(example.data, random);
  return example;
}

DatasetPtr transformed(DatasetPtr base, const Transform& transform) {
  return std::make_shared<TransformedDataset>(std::move(base), transform);
}

}  // namespace striate::data
