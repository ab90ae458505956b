// striate train: trains a model on a dataset, with a progress bar, per-epoch
// evaluation, metrics, pictures and a checkpoint after every epoch.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "commands.h"
#include "datasets.h"
#include "outputs.h"
#include "progress.h"
#include "striate/core/backend.h"
#include "striate/core/generator.h"
#include "striate/data/dataloader.h"
#include "striate/io/checkpoint.h"
#include "striate/io/state_dict.h"
#include "striate/optim/optim.h"
#include "striate/train/trainer.h"
#include "zoo.h"

namespace fs = std::filesystem;

namespace striate::tools {
namespace {

std::string format_number(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  // The shortest form that reads back the same, for messages and the checkpoint.
  for (int precision = 1; precision <= 17; ++precision) {
    char shorter[32];
    std::snprintf(shorter, sizeof shorter, "%.*g", precision, value);
    if (std::strtod(shorter, nullptr) == value) return shorter;
  }
  return buf;
}

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100 * fraction);
  return buf;
}

std::string fixed(double value, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

// A scheduled learning rate to read, not to round-trip: 0.00012, not 0.00011999999999999988.
std::string significant(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", value);
  return buf;
}

// A setting that decides what the run computes. Each is saved in the
// checkpoint ("train.<name>"), and --resume takes it from there: given again
// on the command line it must agree.
struct Setting {
  std::string name;  // the option without dashes
  CLI::Option* option;
  std::function<std::string()> get;
  std::function<void(const std::string&)> set;
};

class TrainCommand : public Command {
 public:
  CLI::App* attach(CLI::App& parent) override {
    CLI::App* app = parent.add_subcommand("train", "Train a model; see docs/cli.md");
    app->footer("Example: striate train --model lenet5 --dataset fashion-mnist --epochs 5 --out runs/lenet5");
    auto number = [&](const std::string& name, auto& value, const std::string& help) {
      CLI::Option* option = app->add_option("--" + name, value, help)->capture_default_str();
      settings_.push_back({name, option, [&value] { return to_text(value); },
                           [&value, name](const std::string& text) { from_text(text, value, name); }});
      return option;
    };
    number("model", model_, "Model: " + model_names_joined());
    number("dataset", dataset_, "Dataset: " + dataset_names_joined());
    number("epochs", epochs_, "Epochs to train (in total, counting those before a --resume)");
    number("batch-size", batch_size_, "Examples per batch");
    number("optimizer", optimizer_, "Optimizer: sgd, adam or adamw");
    number("lr", lr_, "Learning rate (the peak for --scheduler onecycle)");
    number("weight-decay", weight_decay_, "Weight decay (L2 for sgd and adam, decoupled for adamw)");
    number("momentum", momentum_, "Momentum (sgd)");
    number("scheduler", scheduler_, "Learning-rate schedule: none, step, cosine or onecycle");
    number("lr-step", lr_step_, "step: epochs between decays (0: a third of --epochs)");
    number("lr-gamma", lr_gamma_, "step: factor applied at each decay");
    settings_.push_back({"augment", app->add_flag("--augment", augment_, "Random crops and horizontal flips"),
                         [this] { return std::string(augment_ ? "true" : "false"); },
                         [this](const std::string& text) { augment_ = text == "true"; }});
    number("limit", limit_, "Use only the first N training and test examples (0: all)");
    number("seed", seed_, "Seed for initialisation, shuffling, augmentation and dropout");
    app->add_option("--device", device_, "cpu or cuda")->capture_default_str();
    app->add_flag("--deterministic", deterministic_,
                  "GPU: deterministic algorithms, the same results on every run (docs/cuda.md#determinism)");
    app->add_option("--data-root", data_root_, "Where the dataset's files are (default: the dataset's usual place)");
    app->add_option("--workers", workers_, "Data-loading threads (0: load in the training thread)")->capture_default_str();
    app->add_option("--out", out_, "Run folder (default: runs/<model>-<dataset>)");
    app->add_flag("--resume", resume_, "Continue the run in --out from its checkpoint.safetensors");
    app->add_flag("--force", force_, "Start afresh even if --out already holds a checkpoint");
    app->add_flag("--no-progress", no_progress_, "Plain progress lines even on a terminal");
    return app;
  }

  int run() override;

 private:
  template <typename T>
  static std::string to_text(const T& value) {
    if constexpr (std::is_same_v<T, std::string>)
      return value;
    else if constexpr (std::is_floating_point_v<T>)
      return format_number(value);
    else
      return std::to_string(value);
  }
  template <typename T>
  static void from_text(const std::string& text, T& value, const std::string& name) {
    try {
      if constexpr (std::is_same_v<T, std::string>)
        value = text;
      else if constexpr (std::is_floating_point_v<T>)
        value = std::stod(text);
      else if constexpr (std::is_unsigned_v<T>)
        value = std::stoull(text);
      else
        value = std::stoll(text);
    } catch (const std::exception&) {
      throw IOError("the checkpoint's setting " + name + " = '" + text + "' is not readable");
    }
  }

  void validate() const;
  Device resolve_device() const;
  void reconcile_with_checkpoint(const io::Checkpoint& checkpoint);
  io::Metadata settings_metadata() const;
  std::unique_ptr<optim::Optimizer> make_optimizer(nn::Module& model) const;
  std::unique_ptr<optim::LRScheduler> make_scheduler(optim::Optimizer& optimizer, int64_t batches_per_epoch) const;

  std::string model_ = "lenet5";
  std::string dataset_ = "fashion-mnist";
  int64_t epochs_ = 5;
  int64_t batch_size_ = 64;
  std::string optimizer_ = "adam";
  double lr_ = 1e-3;
  double weight_decay_ = 0;
  double momentum_ = 0.9;
  std::string scheduler_ = "none";
  int64_t lr_step_ = 0;
  double lr_gamma_ = 0.1;
  bool augment_ = false;
  int64_t limit_ = 0;
  uint64_t seed_ = 0;
  std::string device_ = "cpu";
  bool deterministic_ = false;
  std::string data_root_;
  int64_t workers_ = 1;
  std::string out_;
  bool resume_ = false;
  bool force_ = false;
  bool no_progress_ = false;
  std::vector<Setting> settings_;
};

void TrainCommand::validate() const {
  auto fail = [](const std::string& message) { throw UsageError(message); };
  if (!is_known_model(model_)) fail("--model: unknown model '" + model_ + "' (known: " + model_names_joined() + ")");
  if (!is_known_dataset(dataset_))
    fail("--dataset: unknown dataset '" + dataset_ + "' (known: " + dataset_names_joined() + ")");
  if (epochs_ < 1) fail("--epochs: must be at least 1, got " + std::to_string(epochs_));
  if (batch_size_ < 1) fail("--batch-size: must be at least 1, got " + std::to_string(batch_size_));
  if (optimizer_ != "sgd" && optimizer_ != "adam" && optimizer_ != "adamw")
    fail("--optimizer: expected sgd, adam or adamw, got '" + optimizer_ + "'");
  if (!(lr_ > 0) || !std::isfinite(lr_)) fail("--lr: must be a positive number, got " + format_number(lr_));
  if (!(weight_decay_ >= 0) || !std::isfinite(weight_decay_))
    fail("--weight-decay: must be >= 0, got " + format_number(weight_decay_));
  if (!(momentum_ >= 0 && momentum_ < 1)) fail("--momentum: must be in [0, 1), got " + format_number(momentum_));
  if (scheduler_ != "none" && scheduler_ != "step" && scheduler_ != "cosine" && scheduler_ != "onecycle")
    fail("--scheduler: expected none, step, cosine or onecycle, got '" + scheduler_ + "'");
  if (lr_step_ < 0) fail("--lr-step: must be >= 0, got " + std::to_string(lr_step_));
  if (!(lr_gamma_ > 0 && lr_gamma_ <= 1)) fail("--lr-gamma: must be in (0, 1], got " + format_number(lr_gamma_));
  if (limit_ < 0) fail("--limit: must be >= 0, got " + std::to_string(limit_));
  if (workers_ < 0) fail("--workers: must be >= 0, got " + std::to_string(workers_));
  if (device_ != "cpu" && device_ != "cuda" && device_.rfind("cuda:", 0) != 0)
    fail("--device: expected cpu or cuda, got '" + device_ + "'");
  if (resume_ && force_) fail("--resume and --force contradict each other");
}

// --device as a Device, refused with the reason when this machine or build cannot run it.
Device TrainCommand::resolve_device() const {
  if (device_ == "cpu") return Device::cpu();
  const std::string index = device_ == "cuda" ? "0" : device_.substr(5);
  if (index.empty() || index.size() > 3 || index.find_first_not_of("0123456789") != std::string::npos)
    throw UsageError("--device: expected cuda:<index>, got '" + device_ + "'");
  const int i = std::stoi(index);
  if (!cuda::is_compiled())
    throw DeviceError("--device " + device_ + ": this build of Striate has no CUDA backend (configure with nvcc)");
  if (cuda::device_count() == 0) throw DeviceError("--device " + device_ + ": no CUDA GPU is available");
  if (i >= cuda::device_count())
    throw DeviceError("--device " + device_ + ": this machine has " + std::to_string(cuda::device_count()) +
                      " CUDA GPU(s)");
  return Device::cuda(i);
}

io::Metadata TrainCommand::settings_metadata() const {
  io::Metadata info;
  for (const Setting& s : settings_) info["train." + s.name] = s.get();
  return info;
}

void TrainCommand::reconcile_with_checkpoint(const io::Checkpoint& checkpoint) {
  // Raising --epochs extends a run, except where the schedule's shape depends on the total.
  for (const Setting& s : settings_) {
    auto it = checkpoint.info.find("train." + s.name);
    if (it == checkpoint.info.end()) continue;
    const bool given = s.option->count() > 0;
    if (!given) {
      s.set(it->second);
      continue;
    }
    if (s.get() == it->second) continue;
    const bool schedule_needs_total = scheduler_ == "cosine" || scheduler_ == "onecycle";
    if (s.name == "epochs" && !schedule_needs_total) continue;
    throw UsageError("--" + s.name + " " + s.get() + " differs from the run being resumed (" + it->second +
                     "); a resumed run keeps its settings");
  }
}

std::unique_ptr<optim::Optimizer> TrainCommand::make_optimizer(nn::Module& model) const {
  if (optimizer_ == "sgd")
    return std::make_unique<optim::SGD>(model.parameters(),
                                        optim::SGDOptions(lr_).momentum(momentum_).weight_decay(weight_decay_));
  if (optimizer_ == "adamw")
    return std::make_unique<optim::AdamW>(model.parameters(), optim::AdamWOptions(lr_).weight_decay(weight_decay_));
  return std::make_unique<optim::Adam>(model.parameters(), optim::AdamOptions(lr_).weight_decay(weight_decay_));
}

std::unique_ptr<optim::LRScheduler> TrainCommand::make_scheduler(optim::Optimizer& optimizer,
                                                                 int64_t batches_per_epoch) const {
  if (scheduler_ == "step") {
    const int64_t step = lr_step_ > 0 ? lr_step_ : std::max<int64_t>((epochs_ + 2) / 3, 1);
    return std::make_unique<optim::StepLR>(optimizer, step, lr_gamma_);
  }
  if (scheduler_ == "cosine") return std::make_unique<optim::CosineAnnealingLR>(optimizer, epochs_);
  if (scheduler_ == "onecycle")
    return std::make_unique<optim::OneCycleLR>(optimizer,
                                               optim::OneCycleLROptions(lr_, epochs_ * std::max<int64_t>(batches_per_epoch, 1)));
  return nullptr;
}

int TrainCommand::run() {
  validate();
  const Device device = resolve_device();
  if (out_.empty()) out_ = "runs/" + model_ + "-" + dataset_;
  const std::string checkpoint_path = (fs::path(out_) / "checkpoint.safetensors").string();

  io::Checkpoint checkpoint;
  if (resume_) {
    if (!fs::exists(checkpoint_path))
      throw IOError("--resume: there is no checkpoint to resume at " + checkpoint_path);
    checkpoint = io::load_checkpoint(checkpoint_path);
    reconcile_with_checkpoint(checkpoint);
    validate();
  } else if (fs::exists(checkpoint_path) && !force_) {
    throw UsageError(out_ + " already holds a run (" + checkpoint_path +
                     "): pass --resume to continue it, --force to start afresh, or choose another --out");
  }
  std::error_code ec;
  fs::create_directories(out_, ec);
  if (ec) throw IOError("cannot create the run folder " + out_ + ": " + ec.message());

  if (deterministic_) use_deterministic_algorithms(true);
  manual_seed(seed_);
  const DatasetSplits splits = load_dataset({dataset_, data_root_, true, augment_, limit_});
  auto model = make_model(model_, splits.channels, splits.num_classes, splits.image_size);
  model->to(device);  // before the optimizer takes the parameters
  auto optimizer = make_optimizer(*model);
  // Batches for a GPU come in page-locked memory, so their copies are asynchronous.
  const bool pin = device.is_cuda();
  data::DataLoader train_loader(
      splits.train,
      data::DataLoaderOptions(batch_size_).shuffle(true).seed(seed_).num_workers(workers_).pin_memory(pin));
  data::DataLoader test_loader(splits.test, data::DataLoaderOptions(std::max<int64_t>(batch_size_, 256))
                                                .num_workers(std::min<int64_t>(workers_, 1))
                                                .pin_memory(pin));
  auto scheduler = make_scheduler(*optimizer, train_loader.size());

  train::Trainer trainer(*model, *optimizer, train_loader, &test_loader, device);
  if (scheduler)
    trainer.set_scheduler(scheduler.get(),
                          scheduler_ == "onecycle" ? train::SchedulerStep::PerBatch : train::SchedulerStep::PerEpoch);
  trainer.set_checkpoint(checkpoint_path, settings_metadata());
  if (resume_) trainer.resume(checkpoint);

  const std::string metrics_path = (fs::path(out_) / "metrics.csv").string();
  write_metrics_csv(metrics_path, trainer.history());

  std::cout << (resume_ ? "resuming " : "training ") << model_ << " ("
            << format_count(static_cast<double>(model->parameter_count())) << " parameters) on " << dataset_ << " ("
            << format_count(static_cast<double>(splits.train->size())) << " train / "
            << format_count(static_cast<double>(splits.test->size())) << " test images"
            << (augment_ ? ", augmented" : "") << "): " << epochs_ << " epochs, batch " << batch_size_ << ", "
            << optimizer_ << " lr " << format_number(lr_) << (scheduler_ != "none" ? " " + scheduler_ : "")
            << ", " << device << ", seed " << seed_ << " -> " << out_ << "\n";
  if (resume_) std::cout << "resumed after epoch " << trainer.epoch() << " (step " << trainer.step() << ")\n";
  if (trainer.epoch() >= epochs_) {
    std::cout << "nothing to do: the run already has " << trainer.epoch() << " epochs\n";
    return 0;
  }
  std::cout << std::flush;

  const bool interactive = stdout_is_terminal() && !no_progress_;
  std::unique_ptr<ProgressBar> bar;
  const Tensor sample_image = splits.test->get(0).data;
  double run_seconds = 0;

  train::FitCallbacks callbacks;
  callbacks.on_epoch_begin = [&](int64_t epoch) {
    bar = std::make_unique<ProgressBar>(std::cout, interactive,
                                        "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(epochs_),
                                        train_loader.size());
  };
  callbacks.on_train_batch = [&](const train::BatchProgress& p) { bar->update(p.batch, p.samples, p.mean_loss); };
  callbacks.on_test_batch = [&](const train::BatchProgress& p) {
    if (p.batch == 1) {
      bar->finish();
      bar = std::make_unique<ProgressBar>(std::cout, interactive, "  test", p.num_batches);
    }
    if (interactive) bar->update(p.batch, p.samples, p.mean_loss);
  };
  callbacks.on_epoch_end = [&](const train::EpochResult& r) {
    bar->finish();
    bar.reset();
    run_seconds += r.train.seconds + r.test.seconds;
    std::cout << "epoch " << r.epoch << "/" << epochs_ << "  train loss " << fixed(r.train.loss, 4) << " acc "
              << percent(r.train.accuracy) << "  test loss " << fixed(r.test.loss, 4) << " acc "
              << percent(r.test.accuracy) << "  lr " << significant(r.lr) << "  "
              << fixed(r.train.seconds + r.test.seconds, 1) << " s  "
              << format_count(r.train.seconds > 0 ? r.train.samples / r.train.seconds : 0) << " img/s\n"
              << std::flush;
    append_metrics_csv(metrics_path, r);
    write_learning_curves((fs::path(out_) / "curves.png").string(), trainer.history());
    write_filters((fs::path(out_) / "filters.png").string(), *model);
    write_feature_maps((fs::path(out_) / "input.png").string(), (fs::path(out_) / "feature_maps.png").string(),
                       *model, sample_image);
  };
  trainer.fit(epochs_, callbacks);

  io::save_state_dict(*model, (fs::path(out_) / "model.safetensors").string());
  const auto& history = trainer.history();
  size_t best = 0;
  for (size_t i = 0; i < history.size(); ++i)
    if (history[i].test.accuracy > history[best].test.accuracy) best = i;
  const train::EpochResult& last = history.back();
  std::cout << "done: " << model_ << " on " << dataset_ << ", " << last.epoch << " epochs, test accuracy "
            << percent(last.test.accuracy) << " (best " << percent(history[best].test.accuracy) << " at epoch "
            << history[best].epoch << "), test loss " << fixed(last.test.loss, 4) << ", "
            << format_duration(run_seconds) << " this run; " << out_ << "/\n";
  return 0;
}

}  // namespace

std::unique_ptr<Command> make_train_command() { return std::make_unique<TrainCommand>(); }

}  // namespace striate::tools
