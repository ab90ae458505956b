// DataLoader: batches of a Dataset, shuffled with a seed, optionally built
// by worker threads ahead of the training loop.
//
//   DataLoader loader(train, DataLoaderOptions(64).shuffle(true).seed(0).num_workers(2));
//   for (int epoch = 0; epoch < 5; ++epoch)
//     for (const Batch& batch : loader) { ... batch.data [64, 1, 28, 28], batch.target [64] ... }
//
// Each begin() starts the next epoch (set_epoch() picks one, e.g. on resume).
// Epoch e visits the samples in an order drawn from Philox with the key
// seed + e, and transforms see (seed, e, sample index): what every batch holds
// is fixed by the seed and the epoch alone, whatever num_workers is.
//
// With num_workers > 0 the workers build whole batches, at most
// num_workers * prefetch_factor of them ahead of the consumer; the consumer
// still receives them in order. An exception thrown while loading a sample is
// rethrown by the iterator's increment (or begin()) in the consumer's thread,
// and ends the epoch. Destroying the iterator mid-epoch stops and joins the
// workers.
#pragma once

#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

#include "striate/core/tensor.h"
#include "striate/data/dataset.h"

namespace striate::data {

struct DataLoaderOptions {
  DataLoaderOptions(int64_t batch_size = 1) : batch_size_(batch_size) {}  // NOLINT: DataLoaderOptions(64)

  DataLoaderOptions& batch_size(int64_t v) { batch_size_ = v; return *this; }
  DataLoaderOptions& shuffle(bool v) { shuffle_ = v; return *this; }
  DataLoaderOptions& seed(uint64_t v) { seed_ = v; return *this; }
  // Drops the last batch when it would be smaller than batch_size.
  DataLoaderOptions& drop_last(bool v) { drop_last_ = v; return *this; }
  // 0: batches are built in the consumer's thread, on demand.
  DataLoaderOptions& num_workers(int64_t v) { num_workers_ = v; return *this; }
  // Batches each worker may have ready or in progress ahead of the consumer.
  DataLoaderOptions& prefetch_factor(int64_t v) { prefetch_factor_ = v; return *this; }
  // Batches in pinned host memory, so that batch.data.to(device,
  // /*non_blocking=*/true) does not block the host. Ignored, as in PyTorch,
  // when no GPU is available.
  DataLoaderOptions& pin_memory(bool v) { pin_memory_ = v; return *this; }

  int64_t batch_size() const { return batch_size_; }
  bool shuffle() const { return shuffle_; }
  uint64_t seed() const { return seed_; }
  bool drop_last() const { return drop_last_; }
  int64_t num_workers() const { return num_workers_; }
  int64_t prefetch_factor() const { return prefetch_factor_; }
  bool pin_memory() const { return pin_memory_; }

 private:
  int64_t batch_size_;
  bool shuffle_ = false;
  uint64_t seed_ = 0;
  bool drop_last_ = false;
  int64_t num_workers_ = 0;
  int64_t prefetch_factor_ = 2;
  bool pin_memory_ = false;
};

// Examples stacked along a new first dim: data [B, ...], target [B, ...].
struct Batch {
  Tensor data;
  Tensor target;                 // undefined when the examples have none
  std::vector<int64_t> indices;  // the dataset indices, in batch order
  int64_t epoch = 0;
  int64_t index = 0;             // the batch's position in its epoch
  int64_t size() const { return static_cast<int64_t>(indices.size()); }
};

// Stacks examples of equal shapes and dtypes; a ShapeError names the example
// that differs (an image dataset of mixed sizes needs a Resize or crop).
Batch collate(const std::vector<Example>& examples);

namespace detail {
class EpochRun;
}

class DataLoader {
 public:
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = const Batch*;
    using reference = const Batch&;

    Iterator() = default;  // the end
    const Batch& operator*() const;
    const Batch* operator->() const { return &**this; }
    Iterator& operator++();
    bool operator==(const Iterator& other) const { return at_end() == other.at_end(); }
    bool operator!=(const Iterator& other) const { return !(*this == other); }

   private:
    friend class DataLoader;
    explicit Iterator(std::shared_ptr<detail::EpochRun> run);
    bool at_end() const;
    std::shared_ptr<detail::EpochRun> run_;
  };

  DataLoader(DatasetPtr dataset, DataLoaderOptions options = {});
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Starts epoch epoch() and advances epoch() by one.
  Iterator begin();
  Iterator end() { return Iterator(); }

  int64_t size() const;  // batches per epoch
  int64_t epoch() const { return next_epoch_; }
  void set_epoch(int64_t epoch);
  // The dataset indices of an epoch in visiting order (before batching).
  std::vector<int64_t> sample_order(int64_t epoch) const;

  const DatasetPtr& dataset() const { return dataset_; }
  const DataLoaderOptions& options() const { return options_; }

 private:
  DatasetPtr dataset_;
  DataLoaderOptions options_;
  int64_t next_epoch_ = 0;
};

}  // namespace striate::data
