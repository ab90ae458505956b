// Training checkpoints: exact round trips, crash safety, refusal of files
// that are not checkpoints, and a run split in two that ends bit-identical
// to the uninterrupted run.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>

#include "io/io_test_util.h"
#include "striate/layers/layers.h"
#include "striate/optim/optim.h"

namespace striate::io {
namespace {

using test::expect_identical;
using test::read_bytes;
using test::ScopedWriteHook;
using test::ScratchDir;

void expect_same_component(const ComponentState& actual, const ComponentState& expected) {
  EXPECT_EQ(actual.type, expected.type);
  ASSERT_EQ(actual.scalars.size(), expected.scalars.size());
  for (const auto& [key, value] : expected.scalars) {
    ASSERT_TRUE(actual.scalars.count(key)) << key;
    // Bit for bit: -0.0, NaN and the last ulp of 0.1 all matter for resuming.
    EXPECT_EQ(std::bit_cast<uint64_t>(actual.scalars.at(key)), std::bit_cast<uint64_t>(value)) << key;
  }
  ASSERT_EQ(actual.tensors.size(), expected.tensors.size());
  for (const auto& [key, tensor] : expected.tensors) {
    ASSERT_TRUE(actual.tensors.count(key)) << key;
    expect_identical(actual.tensors.at(key), tensor, key);
  }
}

Checkpoint sample_checkpoint() {
  manual_seed(5);
  Checkpoint ckpt;
  ckpt.model = {{"0.weight", randn({3, 2})}, {"0.bias", randn({3})}, {"1.num_batches_tracked", full({}, int64_t{9})}};
  ckpt.optimizer.type = "Adam";
  ckpt.optimizer.tensors = {{"state.0.exp_avg", randn({3, 2})}, {"state.0.exp_avg_sq", rand({3, 2})}};
  ckpt.optimizer.scalars = {{"state.0.step", 12},
                            {"param_groups.0.lr", 0.1},
                            {"param_groups.0.betas.0", 1.0 / 3.0},
                            {"param_groups.0.eps", 1e-8},
                            {"odd.negative_zero", -0.0},
                            {"odd.nan", std::numeric_limits<double>::quiet_NaN()},
                            {"odd.inf", -std::numeric_limits<double>::infinity()},
                            {"odd.tiny", 5e-324}};
  ckpt.scheduler.type = "StepLR";
  ckpt.scheduler.scalars = {{"last_epoch", 4}, {"base_lrs.0", 0.1}};
  ckpt.extra.scalars = {{"best_accuracy", 0.9125}};
  ckpt.extra.tensors = {{"confusion", from_vector<int64_t>({5, 1, 0, 7}, {2, 2})}};
  ckpt.rng_seed = std::numeric_limits<uint64_t>::max();
  ckpt.rng_offset = 123456789012345ull;
  ckpt.epoch = 4;
  ckpt.step = 3750;
  ckpt.info = {{"model", "lenet5"}, {"command", "striate train --epochs 5"}};
  return ckpt;
}

void expect_same_checkpoint(const Checkpoint& actual, const Checkpoint& expected) {
  ASSERT_EQ(actual.model.size(), expected.model.size());
  for (size_t i = 0; i < expected.model.size(); ++i) {
    EXPECT_EQ(actual.model[i].first, expected.model[i].first);
    expect_identical(actual.model[i].second, expected.model[i].second, expected.model[i].first);
  }
  expect_same_component(actual.optimizer, expected.optimizer);
  expect_same_component(actual.scheduler, expected.scheduler);
  expect_same_component(actual.extra, expected.extra);
  EXPECT_EQ(actual.rng_seed, expected.rng_seed);
  EXPECT_EQ(actual.rng_offset, expected.rng_offset);
  EXPECT_EQ(actual.epoch, expected.epoch);
  EXPECT_EQ(actual.step, expected.step);
  EXPECT_EQ(actual.info, expected.info);
}

TEST(Checkpoint, SaveLoadGivesIdenticalTensorsAndScalars) {
  ScratchDir dir;
  const Checkpoint ckpt = sample_checkpoint();
  save_checkpoint(dir.file("ckpt.safetensors"), ckpt);
  expect_same_checkpoint(load_checkpoint(dir.file("ckpt.safetensors")), ckpt);
  // One plain safetensors file: model weights readable by any reader.
  const SafetensorsContents raw = load_safetensors(dir.file("ckpt.safetensors"));
  ASSERT_NE(raw.find("model.0.weight"), nullptr);
  ASSERT_NE(raw.find("optim.state.0.exp_avg"), nullptr);
  EXPECT_EQ(raw.metadata.at("epoch"), "4");
  EXPECT_EQ(raw.metadata.at("optim.param_groups.0.lr"), "0.1");
}

TEST(Checkpoint, AnEmptyCheckpointRoundTrips) {
  ScratchDir dir;
  save_checkpoint(dir.file("empty.safetensors"), Checkpoint());
  expect_same_checkpoint(load_checkpoint(dir.file("empty.safetensors")), Checkpoint());
}

TEST(Checkpoint, FailedSaveKeepsThePreviousCheckpoint) {
  ScratchDir dir;
  const std::string path = dir.file("last.safetensors");
  const Checkpoint first = sample_checkpoint();
  save_checkpoint(path, first);
  const std::string before = read_bytes(path);
  Checkpoint second = sample_checkpoint();
  second.epoch = 5;
  second.model[0].second = randn({3, 2});
  for (const char* failing : {"write", "sync", "rename"}) {
    ScopedWriteHook hook([&](std::string_view stage, uint64_t) {
      if (stage == failing) throw IOError("injected: the machine lost power");
    });
    EXPECT_THROW(save_checkpoint(path, second), IOError) << failing;
  }
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"last.safetensors"});
  expect_same_checkpoint(load_checkpoint(path), first);
  save_checkpoint(path, second);
  EXPECT_EQ(load_checkpoint(path).epoch, 5);
}

void expect_not_a_checkpoint(const NamedTensors& tensors, const Metadata& metadata, const std::string& problem) {
  ScratchDir dir;
  const std::string path = dir.file("bad.safetensors");
  save_safetensors(path, tensors, metadata);
  try {
    load_checkpoint(path);
    ADD_FAILURE() << "accepted: " << problem;
  } catch (const IOError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(problem), std::string::npos) << "expected \"" << problem << "\" in: " << msg;
  }
}

TEST(Checkpoint, RefusesFilesThatAreNotCheckpoints) {
  const Metadata good = {{"striate.checkpoint", "1"}, {"epoch", "1"}, {"step", "2"},
                         {"rng.seed", "3"},           {"rng.offset", "4"}};
  auto with = [&](const std::string& key, const std::string& value) {
    Metadata m = good;
    m[key] = value;
    return m;
  };
  auto without = [&](const std::string& key) {
    Metadata m = good;
    m.erase(key);
    return m;
  };
  const Tensor t = zeros({2});
  expect_not_a_checkpoint({{"0.weight", t}}, {{"format", "pt"}}, "not a Striate checkpoint");
  expect_not_a_checkpoint({}, with("striate.checkpoint", "2"), "format version \"2\"");
  expect_not_a_checkpoint({}, without("step"), "metadata lacks \"step\"");
  expect_not_a_checkpoint({}, with("epoch", "four"), "\"epoch\" is \"four\", not an integer");
  expect_not_a_checkpoint({}, with("rng.seed", "-1"), "not an integer");
  expect_not_a_checkpoint({}, with("optim.lr", "fast"), "\"optim.lr\" is \"fast\", not a number");
  expect_not_a_checkpoint({}, with("mystery", "x"), "unexpected metadata key \"mystery\"");
  expect_not_a_checkpoint({{"weights.0", t}}, good, "unexpected tensor \"weights.0\"");
  expect_not_a_checkpoint({{"model", t}}, good, "unexpected tensor \"model\"");
  ScratchDir dir;
  EXPECT_THROW(load_checkpoint(dir.file("missing.safetensors")), IOError);
}

TEST(Checkpoint, ConvertsToAndFromTheOptimizerStateDict) {
  const Checkpoint ckpt = sample_checkpoint();
  const optim::OptimizerStateDict dict = to_optimizer_state_dict(ckpt.optimizer);
  EXPECT_EQ(dict.optimizer, "Adam");
  EXPECT_EQ(dict.scalars.at("param_groups.0.lr"), 0.1);
  expect_same_component(to_component_state(dict), ckpt.optimizer);
}

// ---- resuming: a run split in two ends exactly where the whole run does --------

struct TrainingRun {
  nn::Sequential model;
  std::unique_ptr<optim::Adam> optimizer;
  std::unique_ptr<optim::StepLR> scheduler;
};

// A fresh model, optimizer and scheduler, initialised from `init_seed`.
TrainingRun make_run(uint64_t init_seed) {
  manual_seed(init_seed);
  TrainingRun run{nn::Sequential(nn::Conv2d(1, 4, 3), nn::BatchNorm2d(4), nn::ReLU(), nn::Dropout(0.25), nn::Flatten(),
                         nn::Linear(4 * 4 * 4, 3)),
          nullptr, nullptr};
  run.optimizer = std::make_unique<optim::Adam>(run.model->parameters(), optim::AdamOptions(1e-2).weight_decay(1e-4));
  run.scheduler = std::make_unique<optim::StepLR>(*run.optimizer, /*step_size=*/2, /*gamma=*/0.5);
  return run;
}

// Each step draws its batch and dropout mask from the default generator, so
// the RNG state is part of what must be resumed.
void train_steps(TrainingRun& run, int64_t first_step, int64_t steps_per_epoch, int64_t end_step) {
  run.model->train();
  for (int64_t step = first_step; step < end_step; ++step) {
    const Tensor input = randn({5, 1, 6, 6});
    const Tensor target = randint(0, 3, {5});
    run.optimizer->zero_grad();
    const Tensor loss = cross_entropy(run.model->forward(input), target);
    loss.backward();
    run.optimizer->step();
    if ((step + 1) % steps_per_epoch == 0) run.scheduler->step();
  }
}

TEST(Checkpoint, ResumedRunIsBitIdenticalToAnUninterruptedOne) {
  constexpr int64_t kStepsPerEpoch = 3, kSteps = 12, kSplit = 6;
  ScratchDir dir;

  TrainingRun whole = make_run(7);
  manual_seed(100);
  train_steps(whole, 0, kStepsPerEpoch, kSteps);
  const uint64_t whole_rng_offset = default_generator().offset();

  TrainingRun first_half = make_run(7);
  manual_seed(100);
  train_steps(first_half, 0, kStepsPerEpoch, kSplit);
  Checkpoint saved = capture_checkpoint(*first_half.model, first_half.optimizer.get(), kSplit / kStepsPerEpoch, kSplit);
  saved.scheduler.type = "StepLR";
  saved.scheduler.scalars = first_half.scheduler->state_dict();
  save_checkpoint(dir.file("half.safetensors"), saved);

  // A new process, in effect: different initial weights, a reseeded RNG.
  TrainingRun resumed = make_run(12345);
  manual_seed(999);
  const Checkpoint loaded = load_checkpoint(dir.file("half.safetensors"));
  restore_checkpoint(loaded, *resumed.model, resumed.optimizer.get());
  resumed.scheduler->load_state_dict(loaded.scheduler.scalars);
  EXPECT_EQ(loaded.step, kSplit);
  train_steps(resumed, loaded.step, kStepsPerEpoch, kSteps);

  const nn::StateDict expected = whole.model->state_dict();
  const nn::StateDict actual = resumed.model->state_dict();
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) expect_identical(actual[i].second, expected[i].second, expected[i].first);
  EXPECT_EQ(resumed.optimizer->get_lr(), whole.optimizer->get_lr());
  EXPECT_EQ(default_generator().offset(), whole_rng_offset);
  const optim::OptimizerStateDict a = resumed.optimizer->state_dict(), b = whole.optimizer->state_dict();
  EXPECT_EQ(a.scalars, b.scalars);
  for (const auto& [key, t] : b.tensors) expect_identical(a.tensors.at(key), t, key);
}

}  // namespace
}  // namespace striate::io
