// DataLoader: batching, seeded shuffles, results independent of the worker
// count, epochs, errors from workers, and shutdown mid-epoch.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "data/data_test_util.h"

namespace striate::data::test {
namespace {

// Example i: data f32 [2, 3, 3] filled with i, target i % 4.
class CountingDataset : public Dataset {
 public:
  explicit CountingDataset(int64_t n, int64_t fail_at = -1, int sleep_us = 0)
      : n_(n), fail_at_(fail_at), sleep_us_(sleep_us) {}
  int64_t size() const override { return n_; }
  mutable std::atomic<int64_t> fetched{0};

 protected:
  Example fetch(int64_t index, const SampleContext&) const override {
    ++fetched;
    if (sleep_us_) std::this_thread::sleep_for(std::chrono::microseconds(sleep_us_));
    if (index == fail_at_) throw IOError("CountingDataset: sample " + std::to_string(index) + " is corrupt");
    return Example{full({2, 3, 3}, static_cast<double>(index)), scalar_tensor(index % 4, kLong)};
  }

 private:
  int64_t n_, fail_at_;
  int sleep_us_;
};

std::vector<Batch> collect(DataLoader& loader) {
  std::vector<Batch> out;
  for (const Batch& b : loader) out.push_back(b);
  return out;
}

TEST(DataLoader, BatchesInOrderWithoutShuffle) {
  auto ds = std::make_shared<CountingDataset>(10);
  DataLoader loader(ds, DataLoaderOptions(4));
  EXPECT_EQ(loader.size(), 3);
  const auto batches = collect(loader);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].data.sizes(), (Shape{4, 2, 3, 3}));
  EXPECT_EQ(batches[0].target.sizes(), (Shape{4}));
  EXPECT_EQ(batches[0].target.dtype(), kLong);
  EXPECT_EQ(batches[2].data.sizes(), (Shape{2, 2, 3, 3}));  // the short last batch
  EXPECT_EQ(batches[2].indices, (std::vector<int64_t>{8, 9}));
  EXPECT_EQ(batches[1].target.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(batches[1].data[2][1][2][2].item<float>(), 6.0f);
  EXPECT_EQ(batches[1].index, 1);

  DataLoader dropping(ds, DataLoaderOptions(4).drop_last(true));
  EXPECT_EQ(dropping.size(), 2);
  EXPECT_EQ(collect(dropping).size(), 2u);
  DataLoader too_big(ds, DataLoaderOptions(11).drop_last(true));
  EXPECT_EQ(collect(too_big).size(), 0u);
  EXPECT_TRUE(too_big.begin() == too_big.end());
}

// Pinned batches on a machine with a GPU; without one the option is
// ignored, as in PyTorch, and the batches are the same either way.
TEST(DataLoader, PinMemoryPinsBatchesWhenAGpuIsPresent) {
  auto ds = std::make_shared<CountingDataset>(6);
  DataLoader plain_loader(ds, DataLoaderOptions(4));
  DataLoader pinned_loader(ds, DataLoaderOptions(4).pin_memory(true).num_workers(2));
  const auto plain = collect(plain_loader);
  const auto pinned = collect(pinned_loader);
  ASSERT_EQ(pinned.size(), plain.size());
  for (size_t b = 0; b < plain.size(); ++b) {
    EXPECT_EQ(pinned[b].data.is_pinned(), cuda::is_available());
    EXPECT_EQ(pinned[b].target.is_pinned(), cuda::is_available());
    const std::vector<float> expected = plain[b].data.to_vector<float>();
    EXPECT_EQ(pinned[b].data.to_vector<float>(), expected);
    EXPECT_FALSE(plain[b].data.is_pinned());
  }
}

TEST(DataLoader, ShuffleIsAPermutationFixedBySeedAndEpoch) {
  auto ds = std::make_shared<CountingDataset>(50);
  DataLoader a(ds, DataLoaderOptions(7).shuffle(true).seed(42));
  DataLoader b(ds, DataLoaderOptions(7).shuffle(true).seed(42));
  DataLoader c(ds, DataLoaderOptions(7).shuffle(true).seed(43));
  const auto order0 = a.sample_order(0);
  EXPECT_EQ(std::set<int64_t>(order0.begin(), order0.end()).size(), 50u);
  EXPECT_EQ(order0, b.sample_order(0));
  EXPECT_NE(order0, a.sample_order(1));  // each epoch reshuffles
  EXPECT_NE(order0, c.sample_order(0));
  EXPECT_EQ(a.sample_order(1), c.sample_order(0));  // the key is seed + epoch

  // Iterating follows sample_order, and each begin() is the next epoch.
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    EXPECT_EQ(a.epoch(), epoch);
    std::vector<int64_t> seen;
    for (const Batch& batch : a) {
      EXPECT_EQ(batch.epoch, epoch);
      seen.insert(seen.end(), batch.indices.begin(), batch.indices.end());
      const auto values = batch.target.to_vector<int64_t>();
      for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(values[i], batch.indices[i] % 4);
    }
    EXPECT_EQ(seen, a.sample_order(epoch));
  }
  a.set_epoch(1);  // resuming at epoch 1 replays it
  const auto order1 = a.sample_order(1);
  EXPECT_EQ((*a.begin()).indices, std::vector<int64_t>(order1.begin(), order1.begin() + 7));
}

// Augmented data, read through 0, 1 and 3 workers: identical batches.
TEST(DataLoader, BatchesDoNotDependOnTheWorkerCount) {
  auto base = std::make_shared<TensorDataset>(rand({37, 1, 6, 6}), arange(37));
  auto augmented = transformed(base, Compose({RandomCrop(6, 2), RandomHorizontalFlip(), Normalize({0.5}, {0.5})}));
  std::vector<std::vector<Batch>> runs;
  for (int64_t workers : {0, 1, 3}) {
    DataLoader loader(augmented, DataLoaderOptions(5).shuffle(true).seed(9).num_workers(workers).prefetch_factor(2));
    std::vector<Batch> epochs;
    for (int epoch = 0; epoch < 2; ++epoch)
      for (const Batch& b : loader) epochs.push_back(b);
    runs.push_back(std::move(epochs));
  }
  ASSERT_EQ(runs[0].size(), 16u);  // 8 batches x 2 epochs
  for (size_t r = 1; r < runs.size(); ++r) {
    ASSERT_EQ(runs[r].size(), runs[0].size());
    for (size_t i = 0; i < runs[0].size(); ++i) {
      EXPECT_EQ(runs[r][i].indices, runs[0][i].indices) << "run " << r << " batch " << i;
      EXPECT_TRUE(allclose(runs[r][i].data, runs[0][i].data, 0, 0)) << "run " << r << " batch " << i;
      EXPECT_TRUE(allclose(runs[r][i].target, runs[0][i].target, 0, 0));
    }
  }
  // The second epoch augments differently from the first (same sample, other crop/flip).
  const Batch& e0 = runs[0][0];
  bool differs = false;
  for (size_t i = 8; i < 16 && !differs; ++i)
    for (size_t k = 0; k < runs[0][i].indices.size(); ++k)
      if (runs[0][i].indices[k] == e0.indices[0])
        differs = !allclose(runs[0][i].data[static_cast<int64_t>(k)], e0.data[0], 0, 0);
  EXPECT_TRUE(differs);
}

TEST(DataLoader, WorkerExceptionsAreRethrownInTheConsumer) {
  for (int64_t workers : {0, 2}) {
    auto ds = std::make_shared<CountingDataset>(40, /*fail_at=*/13);
    DataLoader loader(ds, DataLoaderOptions(4).num_workers(workers));
    int batches = 0;
    try {
      for (const Batch& b : loader) {
        (void)b;
        ++batches;
      }
      FAIL() << "expected the IOError from sample 13";
    } catch (const IOError& e) {
      EXPECT_NE(std::string(e.what()).find("sample 13"), std::string::npos);
    }
    EXPECT_EQ(batches, 3) << workers << " workers";  // batches 0..2 arrive, batch 3 holds sample 13
    // The loader stays usable: a new epoch starts cleanly (and fails again at 13).
    auto it = loader.begin();
    EXPECT_EQ(it->indices.front(), 0);
  }
  // A failure in the very first batch surfaces from begin().
  DataLoader first(std::make_shared<CountingDataset>(8, 0), DataLoaderOptions(4).num_workers(2));
  EXPECT_THROW(first.begin(), IOError);
}

TEST(DataLoader, StoppingMidEpochJoinsTheWorkersPromptly) {
  auto ds = std::make_shared<CountingDataset>(100000, -1, /*sleep_us=*/200);
  const auto start = std::chrono::steady_clock::now();
  {
    DataLoader loader(ds, DataLoaderOptions(8).num_workers(3).prefetch_factor(2));
    int n = 0;
    for (const Batch& b : loader) {
      (void)b;
      if (++n == 3) break;  // the iterator dies here, mid-epoch
    }
    auto it = loader.begin();  // an iterator still alive when the loader goes
    ++it;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 10.0);
  // Bounded prefetch: nowhere near the 100000 samples were loaded.
  EXPECT_LT(ds->fetched.load(), 2 * 8 * (3 + 3 * 2 + 2));
}

TEST(DataLoader, IteratorKeepsItsEpochAliveAfterTheLoader) {
  auto ds = std::make_shared<CountingDataset>(9);
  DataLoader::Iterator it;
  {
    DataLoader loader(ds, DataLoaderOptions(3).num_workers(2));
    it = loader.begin();
  }
  int64_t count = 0;
  for (; it != DataLoader::Iterator(); ++it) count += it->size();
  EXPECT_EQ(count, 9);
  EXPECT_THROW(++it, IndexError);
  EXPECT_THROW(*it, IndexError);
}

TEST(DataLoader, BadOptionsAndMismatchedExamples) {
  auto ds = std::make_shared<CountingDataset>(4);
  EXPECT_THROW(DataLoader(ds, DataLoaderOptions(0)), ValueError);
  EXPECT_THROW(DataLoader(ds, DataLoaderOptions(2).num_workers(-1)), ValueError);
  EXPECT_THROW(DataLoader(ds, DataLoaderOptions(2).prefetch_factor(0)), ValueError);
  EXPECT_THROW(DataLoader(nullptr, DataLoaderOptions(2)), ValueError);
  DataLoader loader(ds, DataLoaderOptions(2).pin_memory(true));  // accepted, no effect yet
  EXPECT_EQ(collect(loader).size(), 2u);

  const std::vector<Example> mixed{{zeros({3, 4}), Tensor()}, {zeros({3, 5}), Tensor()}};
  try {
    collate(mixed);
    FAIL() << "expected a ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("example 1"), std::string::npos) << e.what();
  }
  const Batch unlabelled = collate({{ones({2}), Tensor()}, {ones({2}), Tensor()}});
  EXPECT_FALSE(unlabelled.target.defined());
  EXPECT_THROW(collate({}), ValueError);
}

TEST(DataLoader, SubsetAndTensorDataset) {
  auto base = std::make_shared<TensorDataset>(arange(10).to(kFloat).reshape({10, 1}), arange(10));
  auto subset = std::make_shared<Subset>(base, std::vector<int64_t>{9, 2, 4});
  EXPECT_EQ(subset->size(), 3);
  EXPECT_EQ(subset->get(1).target.item<int64_t>(), 2);
  DataLoader loader(subset, DataLoaderOptions(3));
  EXPECT_EQ((*loader.begin()).data.to_vector<float>(), (std::vector<float>{9, 2, 4}));
  EXPECT_THROW(Subset(base, {10}), IndexError);
  EXPECT_THROW(TensorDataset(zeros({3, 2}), zeros({4})), ShapeError);
}

}  // namespace
}  // namespace striate::data::test
