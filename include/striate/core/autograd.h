// The dynamic autograd tape.
//
// Each differentiable op that sees an input with requires_grad (while grad
// mode is on) records a Node: a closure computing its inputs' gradients from
// its outputs' gradients, plus edges to the nodes that produced its inputs.
// backward() walks that graph in reverse topological order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "striate/core/tensor.h"

namespace striate {

using TensorList = std::vector<Tensor>;

// Whether ops record history; thread-local, on by default.
class GradMode {
 public:
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

// Turns recording off for a scope: inference, optimizer updates.
class NoGradGuard {
 public:
  NoGradGuard() : prev_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

namespace autograd {

class Node;

// Where a gradient goes: input `input_nr` of node `fn`.
struct Edge {
  std::shared_ptr<Node> fn;
  uint32_t input_nr = 0;
  bool valid() const { return fn != nullptr; }
};

struct AutogradMeta {
  Tensor grad;
  std::shared_ptr<Node> grad_fn;             // null for leaves
  std::weak_ptr<Node> grad_accumulator;      // leaves: the node that writes .grad()
  uint32_t output_nr = 0;                    // which output of grad_fn this is
  bool requires_grad = false;
  bool retains_grad = false;
};

// The shape and dtype of one forward output, so that the engine can make a
// zero gradient for an output that did not contribute to the loss.
struct OutputMeta {
  Shape sizes;
  DType dtype;
  Device device;
};

class Node : public std::enable_shared_from_this<Node> {
 public:
  virtual ~Node() = default;
  virtual std::string name() const = 0;
  // grads[i] is the gradient of forward output i; returns one gradient per
  // next edge (undefined where that input needs none).
  virtual TensorList apply(TensorList&& grads) = 0;
  // Frees saved tensors once backward no longer needs them.
  virtual void release_saved() {}

  std::vector<Edge> next_edges;
  std::vector<OutputMeta> outputs;
  // Non-leaf outputs that asked for retain_grad(), by output index.
  std::vector<std::weak_ptr<TensorImpl>> retained;
  uint64_t sequence_nr = 0;  // creation order; later nodes run first
};

// A tensor kept for backward, with the storage version it had when saved, so
// that an in-place write in between is an error rather than a wrong gradient.
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t);
  Tensor unpack(const char* op) const;
  bool defined() const { return tensor_.defined(); }

 private:
  Tensor tensor_;  // detached: holding an output must not keep its graph alive
  uint32_t version_ = 0;
};

using BackwardFn = std::function<TensorList(const TensorList& grads)>;

// The node every op records: a named closure over its SavedTensors. Freeing
// the closure frees what it saved.
class FunctionNode : public Node {
 public:
  FunctionNode(std::string name, BackwardFn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  std::string name() const override { return name_; }
  TensorList apply(TensorList&& grads) override;
  void release_saved() override { fn_ = nullptr; }

 private:
  std::string name_;
  BackwardFn fn_;
};

// Writes the gradient arriving at a leaf into its .grad(), summing over uses.
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(Tensor variable) : variable_(std::move(variable)) {}
  std::string name() const override { return "AccumulateGrad"; }
  TensorList apply(TensorList&& grads) override;

 private:
  Tensor variable_;
};

// True when grad mode is on and any defined input requires grad.
bool any_requires_grad(const TensorList& inputs);

// Links `outputs` to `inputs` through a new FunctionNode called `name`.
// Ops call it only when any_requires_grad(inputs). The closure receives one
// gradient per output (zeros where an output was unused) and returns one per
// input, in order.
std::shared_ptr<Node> record(const std::string& name, const TensorList& inputs,
                             const TensorList& outputs, BackwardFn backward);

// The edge a gradient for `t` flows along (its grad_fn, or its accumulator).
Edge gradient_edge(const Tensor& t);

// Runs backprop from `roots`, seeded with `grad_roots` (same shapes).
void run_backward(const TensorList& roots, const TensorList& grad_roots, bool retain_graph);

// The gradients of `outputs` with respect to `inputs`, returned instead of
// accumulated into .grad() (torch.autograd.grad without create_graph).
TensorList grad(const TensorList& outputs, const TensorList& inputs,
                const TensorList& grad_outputs = {}, bool retain_graph = false,
                bool allow_unused = false);

}  // namespace autograd
}  // namespace striate
