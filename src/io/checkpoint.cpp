#include "striate/io/checkpoint.h"

#include <charconv>
#include <system_error>

#include "striate/core/autograd.h"
#include "striate/core/generator.h"
#include "striate/optim/optimizer.h"

namespace striate::io {

namespace {

constexpr const char* kVersionKey = "striate.checkpoint";

// Component prefixes in the file, in the order they are written.
constexpr const char* kOptimizerPrefix = "optim";
constexpr const char* kSchedulerPrefix = "sched";
constexpr const char* kExtraPrefix = "extra";
constexpr const char* kModelPrefix = "model";
constexpr const char* kInfoPrefix = "info";

std::string format_double(double value) {
  char buffer[64];
  // Shortest text that reads back as the same bits ("inf", "nan" included).
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

template <typename T>
bool parse_number(const std::string& text, T& value) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

[[noreturn]] void bad_checkpoint(const std::string& path, const std::string& problem) {
  throw IOError(detail::concat("checkpoint: '", path, "': ", problem));
}

// "optim.state.0.step" -> ("optim", "state.0.step"); ("", "") when there is no dot.
std::pair<std::string, std::string> split_prefix(const std::string& name) {
  const auto dot = name.find('.');
  if (dot == std::string::npos) return {};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

void add_component(const char* prefix, const ComponentState& state, NamedTensors& tensors, Metadata& metadata) {
  if (!state.type.empty()) metadata[prefix] = state.type;
  for (const auto& [key, value] : state.scalars) {
    STRIATE_CHECK(!key.empty(), ValueError, "save_checkpoint: ", prefix, " has a scalar with an empty name");
    metadata[detail::concat(prefix, ".", key)] = format_double(value);
  }
  for (const auto& [key, tensor] : state.tensors) {
    STRIATE_CHECK(!key.empty(), ValueError, "save_checkpoint: ", prefix, " has a tensor with an empty name");
    tensors.emplace_back(detail::concat(prefix, ".", key), tensor);
  }
}

ComponentState* component_for(Checkpoint& ckpt, const std::string& prefix) {
  if (prefix == kOptimizerPrefix) return &ckpt.optimizer;
  if (prefix == kSchedulerPrefix) return &ckpt.scheduler;
  if (prefix == kExtraPrefix) return &ckpt.extra;
  return nullptr;
}

template <typename T>
T required_integer(const Metadata& metadata, const char* key, const std::string& path) {
  const auto it = metadata.find(key);
  if (it == metadata.end()) bad_checkpoint(path, detail::concat("metadata lacks \"", key, "\""));
  T value{};
  if (!parse_number(it->second, value))
    bad_checkpoint(path, detail::concat("metadata \"", key, "\" is \"", it->second, "\", not an integer"));
  return value;
}

}  // namespace

ComponentState to_component_state(const optim::OptimizerStateDict& state) {
  ComponentState out;
  out.type = state.optimizer;
  out.tensors = state.tensors;
  out.scalars = state.scalars;
  return out;
}

optim::OptimizerStateDict to_optimizer_state_dict(const ComponentState& state) {
  optim::OptimizerStateDict out;
  out.optimizer = state.type;
  out.tensors = state.tensors;
  out.scalars = state.scalars;
  return out;
}

void Checkpoint::capture_rng() {
  const Generator& gen = default_generator();
  rng_seed = gen.seed();
  rng_offset = gen.offset();
}

void Checkpoint::restore_rng() const { default_generator().set_state(rng_seed, rng_offset); }

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  NamedTensors tensors;
  Metadata metadata;
  metadata[kVersionKey] = std::to_string(kCheckpointVersion);
  metadata["epoch"] = std::to_string(checkpoint.epoch);
  metadata["step"] = std::to_string(checkpoint.step);
  metadata["rng.seed"] = std::to_string(checkpoint.rng_seed);
  metadata["rng.offset"] = std::to_string(checkpoint.rng_offset);
  for (const auto& [key, tensor] : checkpoint.model) tensors.emplace_back(detail::concat(kModelPrefix, ".", key), tensor);
  add_component(kOptimizerPrefix, checkpoint.optimizer, tensors, metadata);
  add_component(kSchedulerPrefix, checkpoint.scheduler, tensors, metadata);
  add_component(kExtraPrefix, checkpoint.extra, tensors, metadata);
  for (const auto& [key, text] : checkpoint.info) metadata[detail::concat(kInfoPrefix, ".", key)] = text;
  save_safetensors(path, tensors, metadata);
}

Checkpoint load_checkpoint(const std::string& path) {
  SafetensorsContents contents = load_safetensors(path);
  const Metadata& metadata = contents.metadata;
  const auto version = metadata.find(kVersionKey);
  if (version == metadata.end())
    bad_checkpoint(path, "not a Striate checkpoint (no \"striate.checkpoint\" in its metadata; a plain weights file "
                         "loads with load_state_dict_from_safetensors)");
  if (version->second != std::to_string(kCheckpointVersion))
    bad_checkpoint(path, detail::concat("format version \"", version->second, "\"; this build reads version ",
                                        kCheckpointVersion));

  Checkpoint ckpt;
  ckpt.epoch = required_integer<int64_t>(metadata, "epoch", path);
  ckpt.step = required_integer<int64_t>(metadata, "step", path);
  ckpt.rng_seed = required_integer<uint64_t>(metadata, "rng.seed", path);
  ckpt.rng_offset = required_integer<uint64_t>(metadata, "rng.offset", path);

  for (const auto& [key, text] : metadata) {
    if (key == kVersionKey || key == "epoch" || key == "step" || key == "rng.seed" || key == "rng.offset") continue;
    if (ComponentState* component = component_for(ckpt, key)) {
      component->type = text;
      continue;
    }
    auto [prefix, name] = split_prefix(key);
    if (prefix == kInfoPrefix) {
      ckpt.info[name] = text;
    } else if (ComponentState* component = component_for(ckpt, prefix); component && !name.empty()) {
      double value = 0;
      if (!parse_number(text, value))
        bad_checkpoint(path, detail::concat("metadata \"", key, "\" is \"", text, "\", not a number"));
      component->scalars[name] = value;
    } else {
      bad_checkpoint(path, detail::concat("unexpected metadata key \"", key, "\""));
    }
  }

  for (auto& [key, tensor] : contents.tensors) {
    auto [prefix, name] = split_prefix(key);
    if (name.empty()) bad_checkpoint(path, detail::concat("unexpected tensor \"", key, "\""));
    if (prefix == kModelPrefix) {
      ckpt.model.emplace_back(std::move(name), std::move(tensor));
    } else if (ComponentState* component = component_for(ckpt, prefix)) {
      component->tensors[name] = std::move(tensor);
    } else {
      bad_checkpoint(path, detail::concat("unexpected tensor \"", key,
                                          "\" (checkpoint tensors start with model., optim., sched. or extra.)"));
    }
  }
  return ckpt;
}

Checkpoint capture_checkpoint(const nn::Module& model, const optim::Optimizer* optimizer, int64_t epoch,
                              int64_t step) {
  Checkpoint ckpt;
  ckpt.model = model.state_dict();
  if (optimizer) ckpt.optimizer = to_component_state(optimizer->state_dict());
  ckpt.epoch = epoch;
  ckpt.step = step;
  ckpt.capture_rng();
  return ckpt;
}

void restore_checkpoint(const Checkpoint& checkpoint, nn::Module& model, optim::Optimizer* optimizer) {
  // Each load checks everything before changing anything, and the RNG moves
  // last, so a refused checkpoint leaves at most the model loaded.
  model.load_state_dict(checkpoint.model, /*strict=*/true);
  if (optimizer) optimizer->load_state_dict(to_optimizer_state_dict(checkpoint.optimizer));
  checkpoint.restore_rng();
}

}  // namespace striate::io
