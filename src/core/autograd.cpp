// The backward engine: dependency counting over the recorded graph, then
// nodes run latest-first as their gradients become complete.
#include "striate/core/autograd.h"

#include <algorithm>
#include <atomic>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "striate/core/ops/elementwise.h"
#include "striate/core/ops/factory.h"

namespace striate {

static thread_local bool grad_mode_enabled = true;
bool GradMode::is_enabled() { return grad_mode_enabled; }
void GradMode::set_enabled(bool enabled) { grad_mode_enabled = enabled; }

namespace autograd {

static std::atomic<uint64_t> next_sequence_nr{0};

SavedTensor::SavedTensor(const Tensor& t) {
  if (!t.defined()) return;
  tensor_ = t.detach();
  version_ = t._version();
}

Tensor SavedTensor::unpack(const char* op) const {
  STRIATE_CHECK(!tensor_.defined() || tensor_._version() == version_, AutogradError,
                "one of the tensors needed for gradient computation by ", op,
                " has been modified by an in-place operation: it is at version ", tensor_._version(),
                ", expected version ", version_, ". Use a clone before the in-place op.");
  return tensor_;
}

TensorList FunctionNode::apply(TensorList&& grads) {
  STRIATE_CHECK(fn_ != nullptr, AutogradError, "backward: trying to backward through ", name_,
                " a second time, after its saved tensors were freed; pass retain_graph=true to the "
                "first backward() if you need to backward twice");
  return fn_(grads);
}

TensorList AccumulateGrad::apply(TensorList&& grads) {
  Tensor g = grads[0];
  if (!g.defined()) return {};
  Tensor& acc = variable_.mutable_grad();
  if (!acc.defined()) {
    // The gradient becomes the leaf's own tensor: never alias a buffer the
    // graph (or the caller's seed gradient) still holds.
    acc = g.sizes() == variable_.sizes() ? g.clone() : g.expand(variable_.sizes()).clone();
    if (acc.dtype() != variable_.dtype()) acc = acc.to(variable_.dtype());
  } else {
    acc.add_(g);
  }
  return {};
}

bool any_requires_grad(const TensorList& inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const auto& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return {};
  auto* impl = t.unsafe_impl();
  auto& meta = *impl->autograd;
  if (meta.grad_fn) return {meta.grad_fn, meta.output_nr};
  std::shared_ptr<Node> acc = meta.grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t);
    acc->outputs.push_back({t.sizes(), t.dtype(), t.device()});
    meta.grad_accumulator = acc;
  }
  return {acc, 0};
}

std::shared_ptr<Node> record(const std::string& name, const TensorList& inputs, const TensorList& outputs,
                             BackwardFn backward) {
  auto node = std::make_shared<FunctionNode>(name, std::move(backward));
  node->sequence_nr = next_sequence_nr.fetch_add(1);
  node->next_edges.reserve(inputs.size());
  for (const auto& t : inputs) node->next_edges.push_back(gradient_edge(t));
  for (uint32_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    node->outputs.push_back({out.sizes(), out.dtype(), out.device()});
    auto& meta = out.unsafe_impl()->autograd;
    if (!meta) meta = std::make_unique<AutogradMeta>();
    meta->grad_fn = node;
    meta->output_nr = i;
    meta->requires_grad = false;
  }
  return node;
}

namespace {

// Gradients collected for each node's outputs until the node runs.
struct InputBuffer {
  TensorList grads;
  void add(uint32_t index, const Tensor& g) {
    if (grads.size() <= index) grads.resize(index + 1);
    Tensor& slot = grads[index];
    slot = slot.defined() ? slot + g : g;
  }
};

struct ByLatest {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr < b->sequence_nr; }
};

// For autograd::grad: the nodes from which a capture target can be reached.
// Only those need to run; the rest of the graph is walked but not executed.
std::unordered_set<Node*> nodes_leading_to(const std::vector<Edge>& roots,
                                           const std::unordered_map<const Node*, TensorList>& capture) {
  std::unordered_set<Node*> leads, visited;
  // Iterative post-order (graphs can be deeper than the call stack): a node
  // is decided once every child is.
  std::vector<std::pair<Node*, size_t>> stack;
  for (const auto& e : roots)
    if (e.fn && visited.insert(e.fn.get()).second) stack.emplace_back(e.fn.get(), 0);
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->next_edges.size()) {
      Node* child = node->next_edges[next++].fn.get();
      if (child && visited.insert(child).second) stack.emplace_back(child, 0);
      continue;
    }
    bool leads_here = capture.count(node) > 0;
    for (const auto& e : node->next_edges) leads_here = leads_here || (e.fn && leads.count(e.fn.get()));
    if (leads_here) leads.insert(node);
    stack.pop_back();
  }
  return leads;
}

// Runs the graph below `roots`. When `capture` is non-null (autograd::grad),
// the gradients arriving at those nodes are stored there, nodes that cannot
// reach one are skipped, and no .grad() is written.
void execute(const std::vector<Edge>& roots, const TensorList& grad_roots, bool retain_graph,
             std::unordered_map<const Node*, TensorList>* capture) {
  NoGradGuard no_grad;  // backward formulas are not themselves recorded

  // Count, for each node, how many edges lead into it. Every node below the
  // roots is visited exactly once, after all of its parents, whether or not
  // it runs, so that a node receiving no gradient still releases its children.
  std::unordered_map<Node*, int> dependencies;
  std::unordered_set<Node*> seen;
  std::vector<Node*> stack;
  for (const auto& e : roots)
    if (e.fn && seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const auto& e : n->next_edges) {
      if (!e.fn) continue;
      ++dependencies[e.fn.get()];
      if (seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
    }
  }
  std::unordered_set<Node*> needed;
  if (capture) needed = nodes_leading_to(roots, *capture);

  std::unordered_map<Node*, InputBuffer> buffers;
  std::priority_queue<Node*, std::vector<Node*>, ByLatest> ready;
  std::vector<std::shared_ptr<Node>> keep_alive;  // roots may be the only owners
  for (size_t i = 0; i < roots.size(); ++i) {
    Node* n = roots[i].fn.get();
    keep_alive.push_back(roots[i].fn);
    buffers[n].add(roots[i].input_nr, grad_roots[i]);
  }
  for (const auto& e : roots)
    if (dependencies[e.fn.get()] == 0) {
      dependencies[e.fn.get()] = -1;  // queued
      ready.push(e.fn.get());
    }

  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    TensorList grads;
    if (auto it = buffers.find(node); it != buffers.end()) {
      grads = std::move(it->second.grads);
      buffers.erase(it);
    }
    grads.resize(node->outputs.size());
    const bool has_grad = std::any_of(grads.begin(), grads.end(), [](const Tensor& g) { return g.defined(); });
    for (size_t i = 0; i < grads.size(); ++i) {
      if (!grads[i].defined()) continue;
      const OutputMeta& m = node->outputs[i];
      STRIATE_CHECK(grads[i].sizes() == m.sizes, ShapeError, "backward: ", node->name(),
                    " received a gradient of shape ", grads[i].sizes(), " for an output of shape ", m.sizes);
      // A gradient has its forward value's dtype (as in PyTorch), whatever
      // mix of dtypes the paths that produced it computed in.
      if (grads[i].dtype() != m.dtype) grads[i] = grads[i].to(m.dtype);
    }

    bool run = has_grad;
    if (capture) {
      if (capture->count(node)) (*capture)[node] = grads;
      // autograd::grad returns gradients; it writes no leaf's .grad().
      run = run && !dynamic_cast<AccumulateGrad*>(node) &&
            std::any_of(node->next_edges.begin(), node->next_edges.end(),
                        [&](const Edge& e) { return e.fn && needed.count(e.fn.get()); });
    }
    if (run) {
      for (size_t i = 0; i < grads.size(); ++i) {
        if (!grads[i].defined()) {
          const OutputMeta& m = node->outputs[i];
          grads[i] = zeros(m.sizes, TensorOptions().dtype(m.dtype).device(m.device));
        }
        if (!capture && i < node->retained.size())
          if (auto impl = node->retained[i].lock()) {
            Tensor& g = Tensor(impl).mutable_grad();
            g = g.defined() ? g + grads[i] : grads[i].clone();
          }
      }
      TensorList out = node->apply(std::move(grads));
      if (!retain_graph) node->release_saved();
      for (size_t i = 0; i < node->next_edges.size() && i < out.size(); ++i) {
        const Edge& e = node->next_edges[i];
        if (!e.fn || !out[i].defined()) continue;
        buffers[e.fn.get()].add(e.input_nr, out[i]);
      }
    }
    for (const Edge& e : node->next_edges) {
      if (!e.fn) continue;
      int& deps = dependencies[e.fn.get()];
      if (--deps == 0) {
        deps = -1;
        ready.push(e.fn.get());
      }
    }
  }
}

std::vector<Edge> root_edges(const TensorList& roots, const TensorList& grad_roots) {
  STRIATE_CHECK(roots.size() == grad_roots.size(), ValueError, "backward: got ", roots.size(), " tensors but ",
                grad_roots.size(), " gradients");
  std::vector<Edge> edges;
  for (size_t i = 0; i < roots.size(); ++i) {
    STRIATE_CHECK(roots[i].requires_grad(), AutogradError, "backward: element ", i,
                  " of tensors does not require grad and does not have a grad_fn");
    STRIATE_CHECK(grad_roots[i].defined() && grad_roots[i].sizes() == roots[i].sizes(), ShapeError,
                  "backward: the gradient for element ", i, " has shape ",
                  grad_roots[i].defined() ? shape_str(grad_roots[i].sizes()) : "undefined",
                  " but the tensor has shape ", roots[i].sizes());
    edges.push_back(gradient_edge(roots[i]));
  }
  return edges;
}

}  // namespace

void run_backward(const TensorList& roots, const TensorList& grad_roots, bool retain_graph) {
  execute(root_edges(roots, grad_roots), grad_roots, retain_graph, nullptr);
}

TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs,
                bool retain_graph, bool allow_unused) {
  TensorList seeds = grad_outputs;
  if (seeds.empty())
    for (const auto& o : outputs) {
      STRIATE_CHECK(o.numel() == 1, AutogradError,
                    "grad: grad can be implicitly created only for one-element outputs, got shape ", o.sizes());
      seeds.push_back(ones_like(o));
    }
  std::unordered_map<const Node*, TensorList> capture;
  std::vector<Edge> targets;
  for (const auto& in : inputs) {
    STRIATE_CHECK(in.requires_grad(), AutogradError, "grad: one of the inputs does not require grad");
    targets.push_back(gradient_edge(in));
    capture[targets.back().fn.get()] = {};
  }
  execute(root_edges(outputs, seeds), seeds, retain_graph, &capture);
  TensorList result;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorList& got = capture[targets[i].fn.get()];
    Tensor g = targets[i].input_nr < got.size() ? got[targets[i].input_nr] : Tensor();
    STRIATE_CHECK(g.defined() || allow_unused, AutogradError, "grad: input ", i,
                  " was not used in the graph; pass allow_unused=true to get an undefined gradient");
    result.push_back(g);
  }
  return result;
}

}  // namespace autograd
}  // namespace striate
