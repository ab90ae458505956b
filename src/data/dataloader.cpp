// The DataLoader's epoch: the visiting order, and the worker threads that
// build batches ahead of the consumer into a bounded window.
#include "striate/data/dataloader.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>

#include "striate/core/autograd.h"
#include "striate/core/device.h"
#include "striate/core/error.h"
#include "striate/core/ops/factory.h"
#include "striate/data/random.h"

namespace striate::data {

namespace {

// Copies `example` into row `row` of `out` [B, ...].
void copy_into_row(const Tensor& out, int64_t row, const Tensor& example) {
  if (example.is_cpu() && example.is_contiguous() && example.dtype() == out.dtype()) {
    const size_t nbytes = example.nbytes();
    std::memcpy(static_cast<uint8_t*>(out.data_ptr()) + static_cast<size_t>(row) * nbytes, example.data_ptr(), nbytes);
  } else {
    out.select(0, row).copy_(example);
  }
}

Tensor stack_rows(const std::vector<Example>& examples, Tensor Example::*field, const char* what) {
  const Tensor& first = examples[0].*field;
  Shape sizes = first.sizes();
  sizes.insert(sizes.begin(), static_cast<int64_t>(examples.size()));
  Tensor out = empty(sizes, TensorOptions(first.dtype()));
  for (size_t i = 0; i < examples.size(); ++i) {
    const Tensor& t = examples[i].*field;
    STRIATE_CHECK(t.defined(), ValueError, "collate: example ", i, " has no ", what, " but example 0 has one");
    STRIATE_CHECK(t.sizes() == first.sizes() && t.dtype() == first.dtype(), ShapeError, "collate: example ", i,
                  "'s ", what, " is ", dtype_name(t.dtype()), " ", t.sizes(), " but example 0's is ",
                  dtype_name(first.dtype()), " ", first.sizes(),
                  " (examples of a batch must match: resize or crop images to one size)");
    copy_into_row(out, static_cast<int64_t>(i), t);
  }
  return out;
}

}  // namespace

Batch collate(const std::vector<Example>& examples) {
  STRIATE_CHECK(!examples.empty(), ValueError, "collate: expected at least one example");
  Batch batch;
  STRIATE_CHECK(examples[0].data.defined(), ValueError, "collate: example 0 has no data");
  batch.data = stack_rows(examples, &Example::data, "data");
  if (examples[0].target.defined()) {
    batch.target = stack_rows(examples, &Example::target, "target");
  } else {
    for (size_t i = 1; i < examples.size(); ++i)
      STRIATE_CHECK(!examples[i].target.defined(), ValueError, "collate: example ", i,
                    " has a target but example 0 has none");
  }
  return batch;
}

namespace detail {

// One epoch's iteration. Shared by the iterators of one begin(); the worker
// threads see it by reference and are joined before it goes away.
class EpochRun {
 public:
  EpochRun(DatasetPtr dataset, const DataLoaderOptions& options, int64_t epoch, std::vector<int64_t> order)
      : dataset_(std::move(dataset)),
        options_(options),
        epoch_(epoch),
        order_(std::move(order)),
        num_batches_(batches_for(static_cast<int64_t>(order_.size()), options)),
        // As in PyTorch, pin_memory without a GPU is ignored: there is nothing to copy to.
        pin_(options.pin_memory() && cuda::is_available()) {
    const int64_t workers = options_.num_workers();
    window_ = std::max(workers, workers * options_.prefetch_factor());
    workers_.reserve(static_cast<size_t>(workers));
    for (int64_t w = 0; w < workers; ++w) workers_.emplace_back([this] { work(); });
  }

  ~EpochRun() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    for (auto& t : workers_) t.join();
  }

  EpochRun(const EpochRun&) = delete;
  EpochRun& operator=(const EpochRun&) = delete;

  static int64_t batches_for(int64_t samples, const DataLoaderOptions& options) {
    const int64_t b = options.batch_size();
    return options.drop_last() ? samples / b : (samples + b - 1) / b;
  }

  // Moves to the next batch; false at the end. Rethrows a loading error (the
  // epoch is then over).
  bool advance() {
    if (finished_) return false;
    const int64_t b = next_to_yield_;
    if (b >= num_batches_) {
      finished_ = true;
      current_.reset();
      return false;
    }
    try {
      if (workers_.empty()) {
        current_ = build(b);
        next_to_yield_ = b + 1;
      } else {
        current_ = take(b);
      }
    } catch (...) {
      finished_ = true;
      current_.reset();
      throw;
    }
    return true;
  }

  bool finished() const { return finished_; }
  const Batch& current() const {
    STRIATE_CHECK(current_.has_value(), IndexError, "DataLoader: dereferencing an iterator at the end of the epoch");
    return *current_;
  }

 private:
  Batch build(int64_t b) const {
    // Workers never record autograd history (GradMode is thread-local; the
    // consumer's thread keeps its own setting).
    NoGradGuard no_grad;
    const int64_t bs = options_.batch_size();
    const int64_t begin = b * bs;
    const int64_t end = std::min<int64_t>(begin + bs, static_cast<int64_t>(order_.size()));
    const SampleContext context{options_.seed(), static_cast<uint64_t>(epoch_)};
    std::vector<Example> examples;
    examples.reserve(static_cast<size_t>(end - begin));
    for (int64_t i = begin; i < end; ++i) {
      if (stop_requested()) return Batch{};
      examples.push_back(dataset_->get(order_[static_cast<size_t>(i)], context));
    }
    Batch batch = collate(examples);
    if (pin_) {
      batch.data = batch.data.pin_memory();
      if (batch.target.defined()) batch.target = batch.target.pin_memory();
    }
    batch.indices.assign(order_.begin() + begin, order_.begin() + end);
    batch.epoch = epoch_;
    batch.index = b;
    return batch;
  }

  bool stop_requested() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stop_;
  }

  // A worker claims the lowest unclaimed batch inside the window
  // [next_to_yield_, next_to_yield_ + window_), builds it, and files it
  // under its number; the consumer takes them in order.
  void work() {
    for (;;) {
      int64_t b;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [&] {
          return stop_ || failed_ || next_to_claim_ >= num_batches_ || next_to_claim_ < next_to_yield_ + window_;
        });
        if (stop_ || failed_ || next_to_claim_ >= num_batches_) return;
        b = next_to_claim_++;
      }
      Slot slot;
      try {
        slot.batch = build(b);
      } catch (...) {
        slot.error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        // After a failure nothing later is claimed; the consumer gets the
        // error when it reaches this batch.
        if (slot.error) failed_ = true;
        ready_.emplace(b, std::move(slot));
      }
      changed_.notify_all();
    }
  }

  Batch take(int64_t b) {
    Slot slot;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return ready_.count(b) != 0; });
      auto it = ready_.find(b);
      slot = std::move(it->second);
      ready_.erase(it);
      next_to_yield_ = b + 1;
    }
    changed_.notify_all();  // the window moved: workers may claim more
    if (slot.error) std::rethrow_exception(slot.error);
    return std::move(slot.batch);
  }

  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };

  const DatasetPtr dataset_;
  const DataLoaderOptions options_;
  const int64_t epoch_;
  const std::vector<int64_t> order_;
  const int64_t num_batches_;
  const bool pin_;
  int64_t window_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool stop_ = false;
  bool failed_ = false;
  int64_t next_to_claim_ = 0;
  int64_t next_to_yield_ = 0;  // also the consumer's position when single-threaded
  std::map<int64_t, Slot> ready_;
  std::vector<std::thread> workers_;

  // The consumer's side (one thread).
  std::optional<Batch> current_;
  bool finished_ = false;
};

}  // namespace detail

// ---- DataLoader --------------------------------------------------------------

DataLoader::DataLoader(DatasetPtr dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  STRIATE_CHECK(dataset_ != nullptr, ValueError, "DataLoader: the dataset is null");
  STRIATE_CHECK(options_.batch_size() >= 1, ValueError, "DataLoader: expected batch_size >= 1, got ",
                options_.batch_size());
  STRIATE_CHECK(options_.num_workers() >= 0, ValueError, "DataLoader: expected num_workers >= 0, got ",
                options_.num_workers());
  STRIATE_CHECK(options_.prefetch_factor() >= 1, ValueError, "DataLoader: expected prefetch_factor >= 1, got ",
                options_.prefetch_factor());
}

DataLoader::~DataLoader() = default;

int64_t DataLoader::size() const { return detail::EpochRun::batches_for(dataset_->size(), options_); }

void DataLoader::set_epoch(int64_t epoch) {
  STRIATE_CHECK(epoch >= 0, ValueError, "DataLoader::set_epoch: expected a non-negative epoch, got ", epoch);
  next_epoch_ = epoch;
}

std::vector<int64_t> DataLoader::sample_order(int64_t epoch) const {
  std::vector<int64_t> order(static_cast<size_t>(dataset_->size()));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (options_.shuffle()) {
    // Fisher-Yates from the back, drawing from the epoch's shuffle stream.
    SampleRandom random(options_.seed(), static_cast<uint64_t>(epoch), SampleRandom::kShuffleStream);
    for (int64_t i = static_cast<int64_t>(order.size()) - 1; i > 0; --i)
      std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(random.randint(0, i + 1))]);
  }
  return order;
}

DataLoader::Iterator DataLoader::begin() {
  const int64_t epoch = next_epoch_++;
  auto run = std::make_shared<detail::EpochRun>(dataset_, options_, epoch, sample_order(epoch));
  run->advance();
  return Iterator(std::move(run));
}

DataLoader::Iterator::Iterator(std::shared_ptr<detail::EpochRun> run) : run_(std::move(run)) {}

bool DataLoader::Iterator::at_end() const { return run_ == nullptr || run_->finished(); }

const Batch& DataLoader::Iterator::operator*() const {
  STRIATE_CHECK(!at_end(), IndexError, "DataLoader: dereferencing an iterator at the end of the epoch");
  return run_->current();
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  STRIATE_CHECK(!at_end(), IndexError, "DataLoader: incrementing an iterator past the end of the epoch");
  run_->advance();
  return *this;
}

}  // namespace striate::data
