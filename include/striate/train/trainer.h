// A small training loop for classifiers: the epoch loop, evaluation,
// learning-rate schedules, per-epoch checkpoints and exact resumption.
//
//   train::Trainer trainer(*model, optimizer, train_loader, &test_loader);
//   trainer.set_scheduler(&scheduler, train::SchedulerStep::PerEpoch);
//   trainer.set_checkpoint("runs/lenet/checkpoint.safetensors");
//   if (resume) trainer.resume("runs/lenet/checkpoint.safetensors");
//   trainer.fit(5, {.on_epoch_end = [](const train::EpochResult& r) { ... }});
//
// The loss is cross entropy on the model's logits. Everything a later epoch
// depends on — weights and buffers, optimizer and scheduler state, the
// default generator (dropout), the epoch (the loader's shuffle and
// augmentation are keyed by seed and epoch) and the step count — is in the
// checkpoint, so on the CPU a resumed run ends with the same bits as one
// that never stopped.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "striate/core/device.h"
#include "striate/data/dataloader.h"
#include "striate/io/checkpoint.h"
#include "striate/layers/module.h"
#include "striate/optim/lr_scheduler.h"
#include "striate/optim/optimizer.h"

namespace striate::train {

// Reported after every batch of a pass.
struct BatchProgress {
  int64_t epoch = 0;        // 0-based
  int64_t batch = 0;        // batches done in this pass (1-based count)
  int64_t num_batches = 0;  // batches in this pass
  int64_t samples = 0;      // samples done in this pass
  double batch_loss = 0;
  double mean_loss = 0;     // over the samples so far
};
using BatchCallback = std::function<void(const BatchProgress&)>;

// One pass: the mean cross-entropy and accuracy over its samples.
struct PassMetrics {
  double loss = 0;
  double accuracy = 0;  // fraction in [0, 1]
  int64_t samples = 0;
  int64_t batches = 0;
  double seconds = 0;
};

// A training pass in training mode: for each batch zero_grad, forward,
// cross entropy, backward, optimizer step, then batch_scheduler->step()
// when given (per-batch schedules such as OneCycleLR). The loader must yield
// int64 class targets. `epoch` is only reported to on_batch; the caller
// positions the loader (set_epoch).
PassMetrics train_one_epoch(nn::Module& model, optim::Optimizer& optimizer, data::DataLoader& loader,
                            int64_t epoch = 0, optim::LRScheduler* batch_scheduler = nullptr,
                            const BatchCallback& on_batch = nullptr, Device device = Device::cpu());

// Evaluation mode under NoGradGuard (the model's modes are restored after).
PassMetrics evaluate(nn::Module& model, data::DataLoader& loader, const BatchCallback& on_batch = nullptr,
                     Device device = Device::cpu());

enum class SchedulerStep { PerEpoch, PerBatch };

// What one epoch gave; `epoch` counts from 1.
struct EpochResult {
  int64_t epoch = 0;
  double lr = 0;  // the first group's lr during the epoch (its start, for per-batch schedules)
  PassMetrics train;
  PassMetrics test;  // samples == 0 without a test loader
};

struct FitCallbacks {
  std::function<void(int64_t epoch)> on_epoch_begin;  // 0-based
  BatchCallback on_train_batch;
  BatchCallback on_test_batch;
  // After the epoch's checkpoint is written.
  std::function<void(const EpochResult&)> on_epoch_end;
};

class Trainer {
 public:
  // Everything referenced must outlive the trainer. test_loader may be null.
  Trainer(nn::Module& model, optim::Optimizer& optimizer, data::DataLoader& train_loader,
          data::DataLoader* test_loader = nullptr, Device device = Device::cpu());

  // The scheduler is stepped after every epoch or after every batch.
  void set_scheduler(optim::LRScheduler* scheduler, SchedulerStep when);
  // After every epoch, a checkpoint is written to `path` (atomically); `info`
  // is stored as free text (model name, command line).
  void set_checkpoint(std::string path, io::Metadata info = {});

  // Loads model, optimizer, scheduler (when set), the RNG, the epoch, the
  // step and the history from a checkpoint written by a Trainer. The model,
  // optimizer and scheduler must be built as for the original run.
  void resume(const std::string& path);
  void resume(const io::Checkpoint& checkpoint);

  // Trains until `epochs` epochs are complete, counting those before a
  // resume; returns the results of the epochs run by this call.
  std::vector<EpochResult> fit(int64_t epochs, const FitCallbacks& callbacks = {});

  int64_t epoch() const { return epoch_; }  // epochs completed
  int64_t step() const { return step_; }    // optimizer steps taken
  // Every completed epoch, including those restored by resume().
  const std::vector<EpochResult>& history() const { return history_; }

  // The checkpoint fit() writes, for the state right now.
  io::Checkpoint capture() const;

 private:
  nn::Module& model_;
  optim::Optimizer& optimizer_;
  data::DataLoader& train_loader_;
  data::DataLoader* test_loader_;
  Device device_;
  optim::LRScheduler* scheduler_ = nullptr;
  SchedulerStep scheduler_step_ = SchedulerStep::PerEpoch;
  std::string checkpoint_path_;
  io::Metadata checkpoint_info_;
  int64_t epoch_ = 0;
  int64_t step_ = 0;
  std::vector<EpochResult> history_;
};

}  // namespace striate::train
