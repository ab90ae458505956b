#include "outputs.h"

#include <cstdio>
#include <fstream>

#include "plot.h"
#include "striate/core/autograd.h"
#include "striate/core/error.h"
#include "striate/core/ops/factory.h"
#include "striate/data/image.h"
#include "striate/io/atomic_file.h"
#include "zoo.h"

namespace striate::tools {

std::string metrics_csv_header() {
  return "epoch,lr,train_loss,train_accuracy,test_loss,test_accuracy,train_seconds,test_seconds,"
         "train_images_per_second";
}

std::string metrics_csv_row(const train::EpochResult& r) {
  char buf[256];
  const double rate = r.train.seconds > 0 ? r.train.samples / r.train.seconds : 0;
  std::snprintf(buf, sizeof buf, "%lld,%.6g,%.6f,%.6f,%.6f,%.6f,%.3f,%.3f,%.1f", static_cast<long long>(r.epoch), r.lr,
                r.train.loss, r.train.accuracy, r.test.loss, r.test.accuracy, r.train.seconds, r.test.seconds, rate);
  return buf;
}

void write_metrics_csv(const std::string& path, const std::vector<train::EpochResult>& history) {
  io::write_file_atomically(path, [&](io::AtomicFileWriter& out) {
    out.write(metrics_csv_header() + "\n");
    for (const train::EpochResult& r : history) out.write(metrics_csv_row(r) + "\n");
  });
}

void append_metrics_csv(const std::string& path, const train::EpochResult& result) {
  std::ofstream out(path, std::ios::app);
  out << metrics_csv_row(result) << "\n";
  out.flush();
  STRIATE_CHECK(out.good(), IOError, "cannot append to ", path);
}

void write_learning_curves(const std::string& path, const std::vector<train::EpochResult>& history) {
  Series train_loss{"train", {}, {}, kBlue}, test_loss{"test", {}, {}, kOrange};
  Series train_acc{"train", {}, {}, kBlue}, test_acc{"test", {}, {}, kOrange};
  const bool has_test = !history.empty() && history.back().test.samples > 0;
  for (const train::EpochResult& r : history) {
    const double x = static_cast<double>(r.epoch);
    train_loss.x.push_back(x);
    train_loss.y.push_back(r.train.loss);
    train_acc.x.push_back(x);
    train_acc.y.push_back(100 * r.train.accuracy);
    if (has_test) {
      test_loss.x.push_back(x);
      test_loss.y.push_back(r.test.loss);
      test_acc.x.push_back(x);
      test_acc.y.push_back(100 * r.test.accuracy);
    }
  }
  Chart loss{"loss", "epoch", {train_loss}}, acc{"accuracy (%)", "epoch", {train_acc}, true};
  if (has_test) {
    loss.series.push_back(test_loss);
    acc.series.push_back(test_acc);
  }
  const Canvas canvas = render_charts({loss, acc});
  const Tensor image = from_vector<uint8_t>(canvas.pixels(), {canvas.height(), canvas.width(), 3});
  data::write_png(path, image, data::ImageLayout::HWC);
}

bool write_filters(const std::string& path, nn::Module& model) {
  nn::Conv2dImpl* conv = first_conv(model);
  if (conv == nullptr) return false;
  const Tensor weight = conv->weight.detach().to(Device::cpu()).to(kFloat);
  // Gray filters for one input channel, colour ones for three; otherwise each
  // input channel's slice is its own tile.
  Tensor tiles = weight;
  if (weight.size(1) != 1 && weight.size(1) != 3) tiles = weight.reshape({weight.size(0) * weight.size(1), 1, weight.size(2), weight.size(3)});
  const int64_t side = std::max<int64_t>(weight.size(2), weight.size(3));
  data::save_image_grid(path, tiles,
                        data::GridOptions().nrow(8).padding(1).pad_value(1).normalize(true).upscale(std::max<int64_t>(64 / side, 1)));
  return true;
}

bool write_feature_maps(const std::string& input_path, const std::string& maps_path, nn::Module& model,
                        const Tensor& image) {
  nn::Conv2dImpl* conv = first_conv(model);
  if (conv == nullptr) return false;
  Tensor maps;
  {
    nn::ForwardObserverGuard observe([&](const nn::Module& module, const Tensor&, const Tensor& output) {
      if (&module == conv && !maps.defined()) maps = output;
    });
    const bool was_training = model.is_training();
    model.eval();
    NoGradGuard no_grad;
    const Tensor batch = image.unsqueeze(0).to(conv->weight.device()).to(conv->weight.dtype());
    try {
      model(batch);
    } catch (...) {
      model.train(was_training);
      throw;
    }
    model.train(was_training);
  }
  if (!maps.defined()) return false;
  const Tensor input = image.to(Device::cpu()).to(kFloat);
  data::save_image_grid(input_path, input.size(0) == 3 ? input.unsqueeze(0) : input.unsqueeze(1),
                        data::GridOptions().nrow(input.size(0) == 3 ? 1 : input.size(0)).padding(0).normalize(true).upscale(8));
  const Tensor out = maps[0].to(Device::cpu()).to(kFloat).unsqueeze(1);  // [C, 1, H, W]
  data::save_image_grid(maps_path, out,
                        data::GridOptions().nrow(std::min<int64_t>(out.size(0), 8)).padding(2).pad_value(1)
                            .normalize(true).scale_each(true).upscale(std::max<int64_t>(192 / out.size(2), 1)));
  return true;
}

}  // namespace striate::tools
