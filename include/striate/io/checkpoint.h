// Training checkpoints: everything a run needs to continue exactly where it
// stopped, in ONE safetensors file written atomically.
//
//   io::Checkpoint ckpt = io::capture_checkpoint(*model, &optimizer, epoch, step);
//   io::save_checkpoint("runs/lenet/last.safetensors", ckpt);
//   ...
//   io::Checkpoint ckpt = io::load_checkpoint("runs/lenet/last.safetensors");
//   io::restore_checkpoint(ckpt, *model, &optimizer);  // also restores the RNG
//
// In the file, tensors are named "model.<key>" (the state_dict), "optim.<key>",
// "sched.<key>" and "extra.<key>"; everything else is text in __metadata__:
// "striate.checkpoint" (the format version), "epoch", "step", "rng.seed",
// "rng.offset", "optim" / "sched" / "extra" (each component's type),
// "optim.<key>" and so on for each component's scalars (doubles written in
// the shortest form that reads back bit for bit), and "info.<key>". Because
// the model's tensors are plain state_dict names under "model.", any
// safetensors reader can pull the weights out of a checkpoint.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "striate/io/safetensors.h"
#include "striate/layers/module.h"

namespace striate::optim {
class Optimizer;
struct OptimizerStateDict;
}  // namespace striate::optim

namespace striate::io {

// The state of one part of a training run (optimizer, LR scheduler, data
// loader position, ...) as flat name -> value maps, the form in which
// optim::OptimizerStateDict already comes. Names are free-form but must be
// valid UTF-8.
struct ComponentState {
  std::string type;  // e.g. "Adam"; empty when the component is absent
  std::map<std::string, Tensor> tensors;
  std::map<std::string, double> scalars;

  bool empty() const { return type.empty() && tensors.empty() && scalars.empty(); }
};

ComponentState to_component_state(const optim::OptimizerStateDict& state);
optim::OptimizerStateDict to_optimizer_state_dict(const ComponentState& state);

struct Checkpoint {
  // Module::state_dict(); its tensors alias the live model until saved.
  nn::StateDict model;
  ComponentState optimizer;
  ComponentState scheduler;
  // Anything else the loop needs to resume (best accuracy, a loader's epoch).
  ComponentState extra;
  // The default generator's state (see generator.h).
  uint64_t rng_seed = 0;
  uint64_t rng_offset = 0;
  int64_t epoch = 0;  // epochs completed
  int64_t step = 0;   // optimizer steps taken
  // Free text for people: model name, command line, date.
  Metadata info;

  // Records / reinstates the default generator's seed and offset.
  void capture_rng();
  void restore_rng() const;
};

// The format version written in "striate.checkpoint"; loading refuses others.
inline constexpr int kCheckpointVersion = 1;

// Written atomically: a failed or interrupted save leaves the previous file intact.
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// IOError naming the file for anything that is not a valid checkpoint.
Checkpoint load_checkpoint(const std::string& path);

// A checkpoint of the live model and optimizer (may be null) and the RNG.
Checkpoint capture_checkpoint(const nn::Module& model, const optim::Optimizer* optimizer, int64_t epoch,
                              int64_t step);
// Loads the model (strictly) and optimizer (when given), then restores the
// RNG; a refused optimizer state leaves the model already loaded.
// The scheduler and extra state are the caller's to restore.
void restore_checkpoint(const Checkpoint& checkpoint, nn::Module& model, optim::Optimizer* optimizer);

}  // namespace striate::io
