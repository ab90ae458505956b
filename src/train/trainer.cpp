#include "striate/train/trainer.h"

#include <chrono>
#include <cstdio>
#include <utility>

#include "striate/core/autograd.h"
#include "striate/core/error.h"
#include "striate/core/ops/loss.h"
#include "striate/core/ops/nn_misc.h"

namespace striate::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void check_batch(const data::Batch& batch, const char* where) {
  STRIATE_CHECK(batch.target.defined(), ValueError, where, ": the data loader's examples have no targets");
  STRIATE_CHECK(batch.target.dtype() == kLong, DTypeError, where,
                ": expected int64 class targets, got ", dtype_name(batch.target.dtype()));
}

// Puts every module back in the training mode it had.
class ModeGuard {
 public:
  explicit ModeGuard(nn::Module& model) {
    for (auto& [name, module] : model.named_modules()) modes_.emplace_back(module, module->is_training());
  }
  ~ModeGuard() {
    for (auto& [module, training] : modes_) module->train(training);
  }
  ModeGuard(const ModeGuard&) = delete;
  ModeGuard& operator=(const ModeGuard&) = delete;

 private:
  std::vector<std::pair<std::shared_ptr<nn::Module>, bool>> modes_;
};

// History entries in a checkpoint's extra state: "history.0003.train_loss".
std::string history_key(size_t index, const char* field) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "history.%04zu.%s", index, field);
  return buf;
}

constexpr const char* kExtraType = "striate.train.Trainer";
constexpr const char* kSchedulerType = "LRScheduler";

}  // namespace

PassMetrics train_one_epoch(nn::Module& model, optim::Optimizer& optimizer, data::DataLoader& loader,
                            int64_t epoch, optim::LRScheduler* batch_scheduler, const BatchCallback& on_batch,
                            Device device) {
  const auto start = Clock::now();
  model.train();
  PassMetrics metrics;
  double loss_sum = 0, correct = 0;
  BatchProgress progress;
  progress.epoch = epoch;
  progress.num_batches = loader.size();
  for (const data::Batch& batch : loader) {
    check_batch(batch, "train_one_epoch");
    // Pinned batches (DataLoaderOptions::pin_memory) copy without blocking the host.
    const Tensor input = batch.data.to(device, batch.data.is_pinned());
    const Tensor target = batch.target.to(device, batch.target.is_pinned());
    optimizer.zero_grad();
    const Tensor logits = model(input);
    const Tensor loss = cross_entropy(logits, target);
    loss.backward();
    optimizer.step();
    if (batch_scheduler != nullptr) batch_scheduler->step();

    const double batch_loss = loss.item<double>();
    const int64_t n = batch.size();
    loss_sum += batch_loss * n;
    {
      NoGradGuard no_grad;
      correct += accuracy(logits.detach(), target) * n;
    }
    metrics.samples += n;
    metrics.batches += 1;
    progress.batch += 1;
    progress.samples = metrics.samples;
    progress.batch_loss = batch_loss;
    progress.mean_loss = loss_sum / metrics.samples;
    if (on_batch) on_batch(progress);
  }
  if (metrics.samples > 0) {
    metrics.loss = loss_sum / metrics.samples;
    metrics.accuracy = correct / metrics.samples;
  }
  metrics.seconds = seconds_since(start);
  return metrics;
}

PassMetrics evaluate(nn::Module& model, data::DataLoader& loader, const BatchCallback& on_batch, Device device) {
  const auto start = Clock::now();
  ModeGuard restore_modes(model);
  model.eval();
  NoGradGuard no_grad;
  PassMetrics metrics;
  double loss_sum = 0, correct = 0;
  BatchProgress progress;
  progress.num_batches = loader.size();
  for (const data::Batch& batch : loader) {
    check_batch(batch, "evaluate");
    const Tensor target = batch.target.to(device, batch.target.is_pinned());
    const Tensor logits = model(batch.data.to(device, batch.data.is_pinned()));
    const int64_t n = batch.size();
    const double batch_loss = cross_entropy(logits, target, {}, kSum).item<double>();
    loss_sum += batch_loss;
    correct += accuracy(logits, target) * n;
    metrics.samples += n;
    metrics.batches += 1;
    progress.batch += 1;
    progress.samples = metrics.samples;
    progress.batch_loss = batch_loss / n;
    progress.mean_loss = loss_sum / metrics.samples;
    if (on_batch) on_batch(progress);
  }
  if (metrics.samples > 0) {
    metrics.loss = loss_sum / metrics.samples;
    metrics.accuracy = correct / metrics.samples;
  }
  metrics.seconds = seconds_since(start);
  return metrics;
}

Trainer::Trainer(nn::Module& model, optim::Optimizer& optimizer, data::DataLoader& train_loader,
                 data::DataLoader* test_loader, Device device)
    : model_(model), optimizer_(optimizer), train_loader_(train_loader), test_loader_(test_loader), device_(device) {}

void Trainer::set_scheduler(optim::LRScheduler* scheduler, SchedulerStep when) {
  scheduler_ = scheduler;
  scheduler_step_ = when;
}

void Trainer::set_checkpoint(std::string path, io::Metadata info) {
  checkpoint_path_ = std::move(path);
  checkpoint_info_ = std::move(info);
}

io::Checkpoint Trainer::capture() const {
  io::Checkpoint checkpoint = io::capture_checkpoint(model_, &optimizer_, epoch_, step_);
  if (scheduler_ != nullptr) {
    checkpoint.scheduler.type = kSchedulerType;
    checkpoint.scheduler.scalars = scheduler_->state_dict();
  }
  checkpoint.extra.type = kExtraType;
  for (size_t i = 0; i < history_.size(); ++i) {
    const EpochResult& r = history_[i];
    auto& s = checkpoint.extra.scalars;
    s[history_key(i, "epoch")] = static_cast<double>(r.epoch);
    s[history_key(i, "lr")] = r.lr;
    s[history_key(i, "train_loss")] = r.train.loss;
    s[history_key(i, "train_accuracy")] = r.train.accuracy;
    s[history_key(i, "train_samples")] = static_cast<double>(r.train.samples);
    s[history_key(i, "train_seconds")] = r.train.seconds;
    s[history_key(i, "test_loss")] = r.test.loss;
    s[history_key(i, "test_accuracy")] = r.test.accuracy;
    s[history_key(i, "test_samples")] = static_cast<double>(r.test.samples);
    s[history_key(i, "test_seconds")] = r.test.seconds;
  }
  checkpoint.info = checkpoint_info_;
  return checkpoint;
}

void Trainer::resume(const std::string& path) { resume(io::load_checkpoint(path)); }

void Trainer::resume(const io::Checkpoint& checkpoint) {
  // Refuse a mismatch before anything is loaded, so a failed resume leaves a fresh run.
  STRIATE_CHECK(checkpoint.scheduler.empty() == (scheduler_ == nullptr), ValueError,
                "Trainer::resume: the checkpoint was written ", checkpoint.scheduler.empty() ? "without" : "with",
                " a learning-rate scheduler, but this run has ", scheduler_ == nullptr ? "none" : "one");
  io::restore_checkpoint(checkpoint, model_, &optimizer_);
  if (scheduler_ != nullptr) scheduler_->load_state_dict(checkpoint.scheduler.scalars);
  epoch_ = checkpoint.epoch;
  step_ = checkpoint.step;
  history_.clear();
  const auto& s = checkpoint.extra.scalars;
  auto get = [&](size_t i, const char* field) {
    auto it = s.find(history_key(i, field));
    return it == s.end() ? 0.0 : it->second;
  };
  for (size_t i = 0; s.count(history_key(i, "epoch")) != 0; ++i) {
    EpochResult r;
    r.epoch = static_cast<int64_t>(get(i, "epoch"));
    r.lr = get(i, "lr");
    r.train.loss = get(i, "train_loss");
    r.train.accuracy = get(i, "train_accuracy");
    r.train.samples = static_cast<int64_t>(get(i, "train_samples"));
    r.train.seconds = get(i, "train_seconds");
    r.test.loss = get(i, "test_loss");
    r.test.accuracy = get(i, "test_accuracy");
    r.test.samples = static_cast<int64_t>(get(i, "test_samples"));
    r.test.seconds = get(i, "test_seconds");
    history_.push_back(r);
  }
}

std::vector<EpochResult> Trainer::fit(int64_t epochs, const FitCallbacks& callbacks) {
  STRIATE_CHECK(epochs >= 0, ValueError, "Trainer::fit: epochs must be >= 0, got ", epochs);
  std::vector<EpochResult> results;
  while (epoch_ < epochs) {
    if (callbacks.on_epoch_begin) callbacks.on_epoch_begin(epoch_);
    EpochResult result;
    result.epoch = epoch_ + 1;
    result.lr = optimizer_.get_lr();
    train_loader_.set_epoch(epoch_);
    optim::LRScheduler* per_batch = scheduler_step_ == SchedulerStep::PerBatch ? scheduler_ : nullptr;
    result.train = train_one_epoch(model_, optimizer_, train_loader_, epoch_, per_batch,
                                   callbacks.on_train_batch, device_);
    step_ += result.train.batches;
    if (scheduler_ != nullptr && scheduler_step_ == SchedulerStep::PerEpoch) scheduler_->step();
    if (test_loader_ != nullptr) {
      test_loader_->set_epoch(0);
      BatchCallback on_test = callbacks.on_test_batch;
      if (on_test) {
        const int64_t epoch = epoch_;
        on_test = [&, epoch](const BatchProgress& p) {
          BatchProgress q = p;
          q.epoch = epoch;
          callbacks.on_test_batch(q);
        };
      }
      result.test = evaluate(model_, *test_loader_, on_test, device_);
    }
    ++epoch_;
    history_.push_back(result);
    if (!checkpoint_path_.empty()) io::save_checkpoint(checkpoint_path_, capture());
    results.push_back(result);
    if (callbacks.on_epoch_end) callbacks.on_epoch_end(result);
  }
  return results;
}

}  // namespace striate::train
