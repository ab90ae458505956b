// The training loop: passes, evaluation, checkpoints and exact resumption.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "striate/striate.h"
#include "striate/data/data.h"
#include "striate/train/trainer.h"

namespace striate::train {
namespace {

namespace fs = std::filesystem;

class ScratchDir {
 public:
  ScratchDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("striate_trainer_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// Three classes of 8×8 images: a fixed template per class plus noise.
data::DatasetPtr make_dataset(int64_t n, uint64_t seed) {
  Generator templates_gen(11);
  const Tensor templates = randn({3, 1, 8, 8}, {}, &templates_gen);
  Generator gen(seed);
  const Tensor labels = randint(0, 3, {n}, TensorOptions(kLong), &gen);
  Tensor images = randn({n, 1, 8, 8}, {}, &gen) * 0.7;
  const std::vector<int64_t> y = labels.to_vector<int64_t>();
  for (int64_t i = 0; i < n; ++i) images[i].add_(templates[y[static_cast<size_t>(i)]]);
  return std::make_shared<data::TensorDataset>(images, labels);
}

// Everything random a run can meet: init, shuffling, augmentation, dropout,
// batch-norm statistics, momentum, a schedule.
struct TrainingRun {
  explicit TrainingRun(uint64_t init_seed, int64_t workers = 0)
      : train_set(data::transformed(make_dataset(96, 1), data::RandomHorizontalFlip())),
        test_set(make_dataset(48, 2)),
        train_loader(train_set, data::DataLoaderOptions(16).shuffle(true).seed(5).num_workers(workers)),
        test_loader(test_set, data::DataLoaderOptions(32)) {
    manual_seed(init_seed);
    model = nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::BatchNorm2d(4), nn::ReLU(),
                           nn::MaxPool2d(2), nn::Flatten(), nn::Dropout(0.2), nn::Linear(4 * 4 * 4, 3));
    optimizer = std::make_unique<optim::SGD>(model->parameters(), optim::SGDOptions(0.05).momentum(0.9));
    scheduler = std::make_unique<optim::StepLR>(*optimizer, 1, 0.5);
    trainer = std::make_unique<Trainer>(*model, *optimizer, train_loader, &test_loader);
    trainer->set_scheduler(scheduler.get(), SchedulerStep::PerEpoch);
  }

  data::DatasetPtr train_set, test_set;
  data::DataLoader train_loader, test_loader;
  nn::Sequential model{nullptr};
  std::unique_ptr<optim::SGD> optimizer;
  std::unique_ptr<optim::StepLR> scheduler;
  std::unique_ptr<Trainer> trainer;
};

bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.sizes() != b.sizes() || a.dtype() != b.dtype()) return false;
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.nbytes()) == 0;
}

void expect_same_state(const nn::Module& a, const nn::Module& b) {
  const nn::StateDict sa = a.state_dict(), sb = b.state_dict();
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].first, sb[i].first);
    EXPECT_TRUE(same_bits(sa[i].second, sb[i].second)) << sa[i].first << " differs";
  }
}

TEST(Trainer, ResumingIsBitIdenticalToNotStopping) {
  ScratchDir dir;
  const std::string path = dir.file("checkpoint.safetensors");

  TrainingRun straight(1);
  straight.trainer->fit(3);
  const uint64_t straight_offset = default_generator().offset(), straight_seed = default_generator().seed();

  {
    TrainingRun first_part(1, /*workers=*/2);
    first_part.trainer->set_checkpoint(path);
    first_part.trainer->fit(1);
  }
  // A different init and RNG state: the checkpoint must override all of it.
  TrainingRun resumed(99, /*workers=*/1);
  randn({1000});
  resumed.trainer->set_checkpoint(path);
  resumed.trainer->resume(path);
  EXPECT_EQ(resumed.trainer->epoch(), 1);
  EXPECT_EQ(resumed.trainer->step(), 6);
  ASSERT_EQ(resumed.trainer->history().size(), 1u);
  const std::vector<EpochResult> rest = resumed.trainer->fit(3);
  EXPECT_EQ(rest.size(), 2u);

  expect_same_state(*straight.model, *resumed.model);
  EXPECT_EQ(straight.trainer->step(), resumed.trainer->step());
  EXPECT_EQ(straight.optimizer->get_lr(), resumed.optimizer->get_lr());
  ASSERT_EQ(straight.trainer->history().size(), 3u);
  ASSERT_EQ(resumed.trainer->history().size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(straight.trainer->history()[i].train.loss, resumed.trainer->history()[i].train.loss) << i;
    EXPECT_EQ(straight.trainer->history()[i].test.accuracy, resumed.trainer->history()[i].test.accuracy) << i;
    EXPECT_EQ(straight.trainer->history()[i].lr, resumed.trainer->history()[i].lr) << i;
  }
  // Dropout drew from the default generator; it ends in the same place.
  EXPECT_EQ(default_generator().seed(), straight_seed);
  EXPECT_EQ(default_generator().offset(), straight_offset);
}

TEST(Trainer, LearnsAndReportsEveryEpoch) {
  TrainingRun run(3);
  int64_t batches = 0, epochs_seen = 0;
  FitCallbacks callbacks;
  callbacks.on_train_batch = [&](const BatchProgress& p) {
    ++batches;
    EXPECT_EQ(p.num_batches, 6);
    EXPECT_GT(p.mean_loss, 0);
  };
  callbacks.on_epoch_end = [&](const EpochResult& r) { EXPECT_EQ(r.epoch, ++epochs_seen); };
  const std::vector<EpochResult> results = run.trainer->fit(4, callbacks);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(batches, 24);
  EXPECT_EQ(results[0].train.samples, 96);
  EXPECT_EQ(results[0].test.samples, 48);
  EXPECT_DOUBLE_EQ(results[0].lr, 0.05);
  EXPECT_DOUBLE_EQ(results[1].lr, 0.025);  // StepLR stepped after each epoch
  EXPECT_LT(results.back().train.loss, results.front().train.loss);
  EXPECT_GT(results.back().test.accuracy, 0.8);  // chance is 1/3
  EXPECT_TRUE(run.model->is_training());          // evaluation put the mode back
  // Already done: nothing more to run.
  EXPECT_TRUE(run.trainer->fit(4).empty());
}

TEST(Trainer, EvaluateIsTheMeanLossAndAccuracyOverTheSet) {
  TrainingRun run(4);
  const PassMetrics m = evaluate(*run.model, run.test_loader);
  const auto* dataset = dynamic_cast<const data::TensorDataset*>(run.test_set.get());
  ASSERT_NE(dataset, nullptr);
  run.model->eval();
  NoGradGuard no_grad;
  const Tensor logits = run.model(dataset->data());
  EXPECT_NEAR(m.loss, cross_entropy(logits, dataset->targets()).item<double>(), 1e-5);
  EXPECT_DOUBLE_EQ(m.accuracy, accuracy(logits, dataset->targets()));
  EXPECT_EQ(m.samples, 48);
  EXPECT_EQ(m.batches, 2);
}

TEST(Trainer, RefusesTargetsThatAreNotClassIndices) {
  auto dataset = std::make_shared<data::TensorDataset>(randn({8, 1, 8, 8}), zeros({8}));
  data::DataLoader loader(dataset, data::DataLoaderOptions(4));
  TrainingRun run(5);
  EXPECT_THROW(train_one_epoch(*run.model, *run.optimizer, loader), DTypeError);
  EXPECT_THROW(evaluate(*run.model, loader), DTypeError);
}

TEST(Trainer, ResumeChecksTheSchedulerBeforeLoadingAnything) {
  ScratchDir dir;
  const std::string path = dir.file("checkpoint.safetensors");
  {
    TrainingRun run(6);
    run.trainer->set_checkpoint(path, {{"note", "with a scheduler"}});
    run.trainer->fit(1);
  }
  TrainingRun other(7);
  Trainer without_scheduler(*other.model, *other.optimizer, other.train_loader);
  const Tensor before = other.model->parameters()[0].clone();
  EXPECT_THROW(without_scheduler.resume(path), ValueError);
  EXPECT_TRUE(same_bits(before, other.model->parameters()[0]));
  EXPECT_EQ(io::load_checkpoint(path).info.at("note"), "with a scheduler");
}

TEST(Trainer, PerBatchSchedulesStepEveryBatch) {
  TrainingRun run(8);
  optim::OneCycleLR one_cycle(*run.optimizer, optim::OneCycleLROptions(0.1, 2 * 6));
  run.trainer->set_scheduler(&one_cycle, SchedulerStep::PerBatch);
  run.trainer->fit(2);
  EXPECT_EQ(one_cycle.last_epoch(), 12);
  EXPECT_EQ(run.trainer->step(), 12);
}

}  // namespace
}  // namespace striate::train
