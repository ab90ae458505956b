// ResNet training throughput on synthetic ImageNet-shaped data: images/s,
// ms/step, peak memory and device allocations per step, one JSON line per
// configuration. benchmarks/resnet_torch.py measures the same in PyTorch;
// benchmarks/e2e_gpu.sh runs both and tabulates them.
//
//   resnet_throughput --model resnet50 --batch 64,256 --steps 10 --warmup 3 [--channels-last] [--tf32]
//   resnet_throughput --device cpu --model resnet18 --batch 2 --steps 1 --image-size 64   (a CPU check)
//
// Each step: zero_grad (gradients set to none), forward, cross entropy,
// backward, SGD with momentum 0.9. One batch of random inputs (randn) and
// labels (randint) is made on the device before timing and reused, so no
// host-to-device copy or data loading is timed. After the warm-up steps the
// device is synchronised, the peak statistics reset and the clock started;
// the device is synchronised again before the clock is read. Peak reserved
// is the cache's size in steady state: it keeps what warm-up reserved.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "striate/striate.h"

using namespace striate;
using io::Json;

namespace {

const char* const kUsage =
    "usage: resnet_throughput [options]\n"
    "  --model NAMES      resnet18, resnet34, resnet50, resnet101, resnet152; comma-separated (default resnet50)\n"
    "  --batch SIZES      batch sizes, comma-separated (default 64)\n"
    "  --steps N          timed steps (default 10)\n"
    "  --warmup N         untimed steps first (default 3)\n"
    "  --image-size N     input height and width (default 224)\n"
    "  --classes N        output classes (default 1000)\n"
    "  --channels-last    the model (conv weights OHWI) and the inputs in MemoryFormat::ChannelsLast\n"
    "  --tf32             allow TF32 tensor cores for convolutions and matmuls (set_allow_tf32; default:\n"
    "                     STRIATE_ALLOW_TF32, else true f32)\n"
    "  --device DEVICE    cuda, cuda:N or cpu (default cuda)\n"
    "  --backend NAME     native, cudnn or auto for every op family (default: the library's setting)\n"
    "  --lr X             SGD learning rate (default 0.01; momentum 0.9)\n"
    "  --seed N           weights and data (default 0)\n";

struct Options {
  std::vector<std::string> models{"resnet50"};
  std::vector<int64_t> batches{64};
  int64_t steps = 10;
  int64_t warmup = 3;
  int64_t image_size = 224;
  int64_t classes = 1000;
  bool channels_last = false;
  bool tf32 = false;
  std::string device = "cuda";
  std::optional<KernelBackend> backend;
  double lr = 0.01;
  uint64_t seed = 0;
};

class UsageError : public ValueError {
  using ValueError::ValueError;
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) items.push_back(item);
  return items;
}

int64_t parse_int(const std::string& option, const std::string& text, int64_t min) {
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value < min)
    throw UsageError(option + ": expected an integer >= " + std::to_string(min) + ", got '" + text + "'");
  return value;
}

double parse_positive_double(const std::string& option, const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !(value > 0) || !std::isfinite(value))
    throw UsageError(option + ": expected a positive number, got '" + text + "'");
  return value;
}

bool is_resnet(const std::string& name) {
  for (const char* known : {"resnet18", "resnet34", "resnet50", "resnet101", "resnet152"})
    if (name == known) return true;
  return false;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError(arg + ": needs a value");
      return argv[++i];
    };
    if (arg == "--model") {
      o.models = split_list(value());
      if (o.models.empty()) throw UsageError("--model: expected at least one name");
      for (const std::string& m : o.models)
        if (!is_resnet(m))
          throw UsageError("--model: expected resnet18, resnet34, resnet50, resnet101 or resnet152, got '" + m + "'");
    } else if (arg == "--batch") {
      o.batches.clear();
      for (const std::string& b : split_list(value())) o.batches.push_back(parse_int("--batch", b, 1));
      if (o.batches.empty()) throw UsageError("--batch: expected at least one size");
    } else if (arg == "--steps") {
      o.steps = parse_int(arg, value(), 1);
    } else if (arg == "--warmup") {
      o.warmup = parse_int(arg, value(), 0);
    } else if (arg == "--image-size") {
      o.image_size = parse_int(arg, value(), 32);  // ResNet's smallest input (resnet.h)
    } else if (arg == "--classes") {
      o.classes = parse_int(arg, value(), 1);
    } else if (arg == "--channels-last") {
      o.channels_last = true;
    } else if (arg == "--tf32") {
      o.tf32 = true;
    } else if (arg == "--device") {
      o.device = value();
    } else if (arg == "--backend") {
      try {
        o.backend = parse_kernel_backend(value());
      } catch (const ValueError& e) {
        throw UsageError(std::string("--backend: ") + e.what());
      }
    } else if (arg == "--lr") {
      o.lr = parse_positive_double(arg, value());
    } else if (arg == "--seed") {
      o.seed = static_cast<uint64_t>(parse_int(arg, value(), 0));
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else {
      throw UsageError("unknown option '" + arg + "'");
    }
  }
  return o;
}

// The device named by --device, refused with the reason when it cannot run.
Device resolve_device(const std::string& spec) {
  Device device;
  try {
    device = Device(spec);
  } catch (const Error& e) {
    throw UsageError(std::string("--device: ") + e.what());
  }
  if (device.is_cpu()) return device;
  STRIATE_CHECK(cuda::is_compiled(), DeviceError, "--device ", spec,
                ": this build of Striate has no CUDA backend (configure with nvcc)");
  STRIATE_CHECK(cuda::device_count() > 0, DeviceError, "--device ", spec, ": no CUDA GPU is available");
  const int index = device.index() < 0 ? 0 : device.index();
  STRIATE_CHECK(index < cuda::device_count(), DeviceError, "--device ", spec, ": this machine has ",
                cuda::device_count(), " GPU(s)");
  return Device::cuda(index);
}

models::ResNet make_resnet(const std::string& name, int64_t classes) {
  const models::ResNetOptions options = models::ResNetOptions().num_classes(classes);
  if (name == "resnet18") return models::resnet18(options);
  if (name == "resnet34") return models::resnet34(options);
  if (name == "resnet50") return models::resnet50(options);
  if (name == "resnet101") return models::resnet101(options);
  return models::resnet152(options);
}

constexpr OpFamily kFamilies[] = {OpFamily::Conv, OpFamily::Gemm, OpFamily::Pooling, OpFamily::Normalization,
                                  OpFamily::Activation};

Json backends_json() {
  Json::Object members;
  for (OpFamily f : kFamilies)
    members.emplace_back(std::string(op_family_name(f)), Json::string(backend_name(f, kernel_backend(f))));
  return Json::object(std::move(members));
}

void synchronize(const Device& device) {
  if (device.is_cuda()) cuda::synchronize(device.index());
}

Json number_or_null(double value) { return std::isfinite(value) ? Json::number(value) : Json(); }

// One configuration: builds the model and data, runs warm-up and timed steps.
Json measure(const Options& o, const Device& device, const std::string& model_name, int64_t batch) {
  manual_seed(o.seed);
  Generator gen(o.seed);
  models::ResNet model = make_resnet(model_name, o.classes);
  model->to(device);
  if (o.channels_last) model->to(MemoryFormat::ChannelsLast);  // as PyTorch's model.to(memory_format=...)
  model->train();
  optim::SGD optimizer(model->parameters(), optim::SGDOptions(o.lr).momentum(0.9));

  Tensor images = randn({batch, 3, o.image_size, o.image_size}, {}, &gen).to(device);
  if (o.channels_last) images = images.contiguous(MemoryFormat::ChannelsLast);
  const Tensor labels = randint(0, o.classes, {batch}, TensorOptions(kLong), &gen).to(device);

  Tensor loss;
  auto step = [&] {
    optimizer.zero_grad();
    loss = cross_entropy(model(images), labels);
    loss.backward();
    optimizer.step();
  };

  const bool gpu = device.is_cuda();
  const int index = device.index();
  const int64_t allocs_at_start = gpu ? cuda::memory_stats(index).num_device_allocs : 0;
  for (int64_t i = 0; i < o.warmup; ++i) step();
  synchronize(device);
  MemoryStats before;
  if (gpu) {
    cuda::reset_peak_memory_stats(index);
    before = cuda::memory_stats(index);
  }
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < o.steps; ++i) step();
  synchronize(device);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double final_loss = loss.item<double>();

  Json::Object r;
  r.emplace_back("framework", Json::string("striate"));
  r.emplace_back("model", Json::string(model_name));
  r.emplace_back("batch", Json::number(batch));
  r.emplace_back("image_size", Json::number(o.image_size));
  r.emplace_back("classes", Json::number(o.classes));
  r.emplace_back("device", Json::string(device.str()));
  r.emplace_back("dtype", Json::string("float32"));
  r.emplace_back("tf32", Json::boolean(allow_tf32(OpFamily::Conv) || allow_tf32(OpFamily::Gemm)));
  r.emplace_back("memory_format", Json::string(o.channels_last ? "channels_last" : "contiguous"));
  r.emplace_back("model_memory_format", Json::string(o.channels_last ? "channels_last" : "contiguous"));
  r.emplace_back("backends", backends_json());
  std::ostringstream sgd;
  sgd << "SGD(lr=" << o.lr << ", momentum=0.9)";
  r.emplace_back("optimizer", Json::string(sgd.str()));
  r.emplace_back("parameters", Json::number(model->parameter_count()));
  r.emplace_back("warmup", Json::number(o.warmup));
  r.emplace_back("steps", Json::number(o.steps));
  r.emplace_back("seconds", Json::number(seconds));
  r.emplace_back("ms_per_step", Json::number(1e3 * seconds / static_cast<double>(o.steps)));
  r.emplace_back("images_per_s", Json::number(static_cast<double>(batch * o.steps) / seconds));
  r.emplace_back("final_loss", number_or_null(final_loss));
  if (gpu) {
    const MemoryStats after = cuda::memory_stats(index);
    const int64_t timed = after.num_device_allocs - before.num_device_allocs;
    r.emplace_back("peak_allocated_bytes", Json::number(after.allocated_bytes_peak));
    r.emplace_back("peak_reserved_bytes", Json::number(after.reserved_bytes_peak));
    r.emplace_back("device_allocs_warmup", Json::number(before.num_device_allocs - allocs_at_start));
    r.emplace_back("device_allocs_timed", Json::number(timed));
    r.emplace_back("device_allocs_per_step", Json::number(static_cast<double>(timed) / static_cast<double>(o.steps)));
  } else {
    for (const char* key : {"peak_allocated_bytes", "peak_reserved_bytes", "device_allocs_warmup",
                            "device_allocs_timed", "device_allocs_per_step"})
      r.emplace_back(key, Json());  // the CPU has no caching allocator to ask
  }
  return Json::object(std::move(r));
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  Device device;
  try {
    options = parse_options(argc, argv);
    device = resolve_device(options.device);
    if (options.backend)
      for (OpFamily f : kFamilies) set_kernel_backend(f, *options.backend);
    if (options.tf32)
      for (OpFamily f : {OpFamily::Conv, OpFamily::Gemm}) set_allow_tf32(f, true);
  } catch (const UsageError& e) {
    std::cerr << "resnet_throughput: " << e.what() << " (--help lists the options)\n";
    return 2;
  } catch (const Error& e) {
    std::cerr << "resnet_throughput: " << e.what() << "\n";
    return 1;
  }
  // A configuration that fails (out of memory, say) is reported and the
  // others still run.
  int status = 0;
  for (const std::string& model : options.models)
    for (int64_t batch : options.batches) {
      try {
        std::cout << io::to_json(measure(options, device, model, batch)) << std::endl;
      } catch (const Error& e) {
        Json::Object r{{"framework", Json::string("striate")},
                       {"model", Json::string(model)},
                       {"batch", Json::number(batch)},
                       {"error", Json::string(e.what())}};
        std::cout << io::to_json(Json::object(std::move(r))) << std::endl;
        std::cerr << "resnet_throughput: " << model << " batch " << batch << ": " << e.what() << "\n";
        status = 1;
      }
      if (device.is_cuda()) cuda::empty_cache();  // each configuration's peak reserved is its own
    }
  return status;
}
