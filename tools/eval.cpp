// striate eval: a model's test loss and accuracy, overall and per class,
// from a training checkpoint or a plain weights file.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "datasets.h"
#include "progress.h"
#include "striate/core/autograd.h"
#include "striate/core/error.h"
#include "striate/core/ops/loss.h"
#include "striate/data/dataloader.h"
#include "striate/io/safetensors.h"
#include "zoo.h"

namespace striate::tools {
namespace {

class EvalCommand : public Command {
 public:
  CLI::App* attach(CLI::App& parent) override {
    CLI::App* app = parent.add_subcommand("eval", "Evaluate a trained model on a dataset's test split");
    app->add_option("--model", model_, "Model: " + model_names_joined())->capture_default_str();
    app->add_option("--checkpoint", checkpoint_,
                    "A checkpoint.safetensors written by striate train, or a weights file (model.safetensors)")
        ->required();
    app->add_option("--dataset", dataset_, "Dataset: " + dataset_names_joined())->capture_default_str();
    app->add_option("--data-root", data_root_, "Where the dataset's files are");
    app->add_option("--batch-size", batch_size_, "Examples per batch")->capture_default_str();
    app->add_option("--limit", limit_, "Only the first N test examples (0: all)")->capture_default_str();
    app->add_option("--workers", workers_, "Data-loading threads")->capture_default_str();
    app->add_option("--device", device_, "cpu or cuda")->capture_default_str();
    return app;
  }

  int run() override {
    if (!is_known_model(model_)) throw UsageError("--model: unknown model '" + model_ + "' (known: " + model_names_joined() + ")");
    if (!is_known_dataset(dataset_))
      throw UsageError("--dataset: unknown dataset '" + dataset_ + "' (known: " + dataset_names_joined() + ")");
    if (batch_size_ < 1) throw UsageError("--batch-size: must be at least 1, got " + std::to_string(batch_size_));
    if (limit_ < 0) throw UsageError("--limit: must be >= 0, got " + std::to_string(limit_));
    if (workers_ < 0) throw UsageError("--workers: must be >= 0, got " + std::to_string(workers_));
    if (device_ != "cpu" && device_ != "cuda" && device_.rfind("cuda:", 0) != 0)
      throw UsageError("--device: expected cpu or cuda, got '" + device_ + "'");
    if (device_ != "cpu")
      throw DeviceError("--device " + device_ + ": the CUDA backend is not part of Striate yet; use --device cpu");
    if (!std::filesystem::exists(checkpoint_)) throw IOError("--checkpoint: no such file: " + checkpoint_);

    const io::SafetensorsContents contents = io::load_safetensors(checkpoint_);
    // A training checkpoint stores the weights as "model.<key>".
    const bool is_checkpoint = contents.metadata.count("striate.checkpoint") != 0;
    nn::StateDict state;
    for (const auto& [name, tensor] : contents.tensors) {
      if (!is_checkpoint)
        state.emplace_back(name, tensor);
      else if (name.rfind("model.", 0) == 0)
        state.emplace_back(name.substr(6), tensor);
    }
    if (is_checkpoint) {
      auto it = contents.metadata.find("info.train.model");
      if (it != contents.metadata.end() && it->second != model_)
        throw UsageError("--model " + model_ + " does not match the checkpoint, which holds a " + it->second);
    }

    const DatasetSplits splits = load_dataset({dataset_, data_root_, false, false, limit_});
    auto model = make_model(model_, splits.channels, splits.num_classes, splits.image_size);
    try {
      model->load_state_dict(state);
    } catch (const Error& e) {
      throw ValueError(checkpoint_ + " does not fit " + model_ + " for " + dataset_ + ": " + e.what());
    }
    model->eval();
    NoGradGuard no_grad;

    data::DataLoader loader(splits.test, data::DataLoaderOptions(batch_size_).num_workers(workers_));
    const size_t classes = static_cast<size_t>(splits.num_classes);
    std::vector<int64_t> seen(classes, 0), right(classes, 0);
    double loss_sum = 0;
    int64_t samples = 0;
    ProgressBar bar(std::cout, stdout_is_terminal(), "eval", loader.size());
    int64_t batches = 0;
    for (const data::Batch& batch : loader) {
      const Tensor logits = (*model)(batch.data);
      loss_sum += cross_entropy(logits, batch.target, {}, kSum).item<double>();
      const std::vector<int64_t> predicted = logits.argmax(1).to_vector<int64_t>();
      const std::vector<int64_t> target = batch.target.to_vector<int64_t>();
      for (size_t i = 0; i < target.size(); ++i) {
        seen[static_cast<size_t>(target[i])] += 1;
        right[static_cast<size_t>(target[i])] += predicted[i] == target[i];
      }
      samples += batch.size();
      bar.update(++batches, samples, loss_sum / samples);
    }
    bar.finish();

    int64_t correct = 0;
    for (int64_t r : right) correct += r;
    char line[256];
    std::snprintf(line, sizeof line, "%-16s %8s %9s", "class", "images", "accuracy");
    std::cout << line << "\n";
    for (size_t c = 0; c < classes; ++c) {
      if (seen[c] == 0) continue;
      std::snprintf(line, sizeof line, "%-16s %8lld %8.2f%%", splits.classes[c].c_str(), static_cast<long long>(seen[c]),
                    100.0 * right[c] / seen[c]);
      std::cout << line << "\n";
    }
    std::snprintf(line, sizeof line, "%s on %s test (%lld images): loss %.4f, accuracy %.2f%% (%lld/%lld)", model_.c_str(),
                  dataset_.c_str(), static_cast<long long>(samples), samples ? loss_sum / samples : 0.0,
                  samples ? 100.0 * correct / samples : 0.0, static_cast<long long>(correct),
                  static_cast<long long>(samples));
    std::cout << line << "\n";
    return 0;
  }

 private:
  std::string model_ = "lenet5";
  std::string checkpoint_;
  std::string dataset_ = "fashion-mnist";
  std::string data_root_;
  int64_t batch_size_ = 256;
  int64_t limit_ = 0;
  int64_t workers_ = 1;
  std::string device_ = "cpu";
};

}  // namespace

std::unique_ptr<Command> make_eval_command() { return std::make_unique<EvalCommand>(); }

}  // namespace striate::tools
