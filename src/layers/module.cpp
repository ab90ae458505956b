#include "striate/layers/module.h"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <typeinfo>
#include <unordered_map>
#include <unordered_set>

#include "striate/core/autograd.h"

namespace striate::nn {

const std::string& Module::type_name() const {
  if (type_name_.empty()) {
    // Named lazily: a constructor still sees the base class's type.
    const char* mangled = typeid(*this).name();
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> demangled(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                                     std::free);
    std::string name = status == 0 && demangled ? demangled.get() : mangled;
    const size_t template_args = name.find('<');
    const size_t last_colon = name.rfind("::", template_args);
    if (last_colon != std::string::npos) name = name.substr(last_colon + 2);
    if (name.size() > 4 && name.compare(name.size() - 4, 4, "Impl") == 0) name.resize(name.size() - 4);
    type_name_ = name;
  }
  return type_name_;
}

void Module::check_name(const std::string& name, const char* what) {
  STRIATE_CHECK(!name.empty() && name.find('.') == std::string::npos, ValueError, "register_", what,
                ": name must be non-empty and contain no '.', got \"", name, "\"");
}

template <typename V>
static bool has_name(const NamedList<V>& list, const std::string& name) {
  return std::any_of(list.begin(), list.end(), [&](const auto& p) { return p.first == name; });
}

Tensor Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
  check_name(name, "parameter");
  STRIATE_CHECK(!has_name(parameters_, name) && !has_name(buffers_, name) && !has_name(children_, name), ValueError,
                type_name_.empty() ? "Module" : type_name_, ": attribute \"", name, "\" is already registered");
  if (tensor.defined() && requires_grad) tensor.requires_grad_(true);
  parameters_.emplace_back(name, tensor);
  return tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor) {
  check_name(name, "buffer");
  STRIATE_CHECK(!has_name(parameters_, name) && !has_name(buffers_, name) && !has_name(children_, name), ValueError,
                type_name_.empty() ? "Module" : type_name_, ": attribute \"", name, "\" is already registered");
  buffers_.emplace_back(name, tensor);
  return tensor;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_name(name, "module");
  STRIATE_CHECK(module != nullptr, ValueError, "register_module: module \"", name, "\" is null");
  STRIATE_CHECK(!has_name(parameters_, name) && !has_name(buffers_, name) && !has_name(children_, name), ValueError,
                type_name_.empty() ? "Module" : type_name_, ": attribute \"", name, "\" is already registered");
  children_.emplace_back(name, std::move(module));
}

void Module::replace_tensor(const std::string& name, Tensor tensor) {
  for (auto* list : {&parameters_, &buffers_})
    for (auto& [n, t] : *list)
      if (n == name) {
        t = std::move(tensor);
        return;
      }
  throw ValueError(detail::concat(type_name(), ": no parameter or buffer named \"", name, "\""));
}

// Collects (prefix + name, value) from this module's own list and, when
// recursing, from every child's, depth first in registration order.
// A tensor reachable under several names is listed once (`seen`).
template <typename Get>
static void collect(const Module& m, const std::string& prefix, bool recurse, Get own, NamedList<Tensor>& out,
                    std::unordered_set<const void*>& seen) {
  for (const auto& [name, t] : own(m))
    if (t.defined() && seen.insert(t.unsafe_impl()).second) out.emplace_back(prefix + name, t);
  if (!recurse) return;
  for (const auto& [name, child] : m.named_children()) collect(*child, prefix + name + ".", true, own, out, seen);
}

NamedList<Tensor> Module::named_parameters(bool recurse) const {
  NamedList<Tensor> out;
  std::unordered_set<const void*> seen;
  collect(*this, "", recurse, [](const Module& m) -> const NamedList<Tensor>& { return m.parameters_; }, out, seen);
  return out;
}

NamedList<Tensor> Module::named_buffers(bool recurse) const {
  NamedList<Tensor> out;
  std::unordered_set<const void*> seen;
  collect(*this, "", recurse, [](const Module& m) -> const NamedList<Tensor>& { return m.buffers_; }, out, seen);
  return out;
}

static std::vector<Tensor> values(const NamedList<Tensor>& list) {
  std::vector<Tensor> out;
  out.reserve(list.size());
  for (const auto& [name, t] : list) out.push_back(t);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const { return values(named_parameters(recurse)); }
std::vector<Tensor> Module::buffers(bool recurse) const { return values(named_buffers(recurse)); }

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& [name, c] : children_) out.push_back(c);
  return out;
}

// Pre-order; a module registered under several names is listed once.
static void collect_modules(const std::shared_ptr<Module>& m, const std::string& prefix,
                            NamedList<std::shared_ptr<Module>>& out, std::unordered_set<const Module*>& seen) {
  if (!seen.insert(m.get()).second) return;
  out.emplace_back(prefix, m);
  for (const auto& [name, child] : m->named_children())
    collect_modules(child, prefix.empty() ? name : prefix + "." + name, out, seen);
}

NamedList<std::shared_ptr<Module>> Module::named_modules(const std::string& prefix) {
  NamedList<std::shared_ptr<Module>> out;
  std::unordered_set<const Module*> seen;
  collect_modules(shared_from_this(), prefix, out, seen);
  return out;
}

void Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& [name, child] : children_) child->apply(fn);
  fn(*this);
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::to(Device device) {
  NoGradGuard no_grad;
  for (auto& t : parameters())
    if (t.device() != device) {
      t.set_data(t.detach().to(device));
      if (t.grad().defined()) t.mutable_grad() = t.grad().to(device);
    }
  for (auto& t : buffers())
    if (t.device() != device) t.set_data(t.to(device));
}

void Module::to(DType dtype) {
  STRIATE_CHECK(is_floating_point(dtype), DTypeError, "Module::to: expected a floating dtype, got ", dtype);
  NoGradGuard no_grad;
  for (auto& t : parameters())
    if (t.is_floating_point() && t.dtype() != dtype) {
      t.set_data(t.detach().to(dtype));
      if (t.grad().defined()) t.mutable_grad() = t.grad().to(dtype);
    }
  for (auto& t : buffers())
    if (t.is_floating_point() && t.dtype() != dtype) t.set_data(t.to(dtype));
}

void Module::to(MemoryFormat format) {
  STRIATE_CHECK(format != MemoryFormat::Preserve, ValueError,
                "Module::to: expected MemoryFormat::Contiguous or ChannelsLast, got Preserve");
  NoGradGuard no_grad;
  const auto relaid = [format](const Tensor& t) { return t.defined() && t.dim() == 4 && !t.is_contiguous(format); };
  for (auto& t : parameters()) {
    if (relaid(t)) t.set_data(t.detach().contiguous(format));
    if (relaid(t.grad())) t.mutable_grad() = t.grad().contiguous(format);
  }
  for (auto& t : buffers())
    if (relaid(t)) t.set_data(t.contiguous(format));
}

void Module::zero_grad(bool set_to_none) {
  for (auto& t : parameters()) {
    if (!t.grad().defined()) continue;
    if (set_to_none) t.mutable_grad() = Tensor();
    else t.mutable_grad().zero_();
  }
}

StateDict Module::state_dict() const {
  // PyTorch's order: a module's own parameters, then its own buffers, then
  // each child's entries.
  StateDict out;
  std::function<void(const Module&, const std::string&)> walk = [&](const Module& m, const std::string& prefix) {
    for (const auto& [n, t] : m.parameters_)
      if (t.defined()) out.emplace_back(prefix + n, t);
    for (const auto& [n, t] : m.buffers_)
      if (t.defined()) out.emplace_back(prefix + n, t);
    for (const auto& [n, c] : m.children_) walk(*c, prefix + n + ".");
  };
  walk(*this, "");
  return out;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  StateDict own = state_dict();
  std::unordered_map<std::string, const Tensor*> given, wanted;
  for (const auto& [name, t] : state) given.emplace(name, &t);
  for (const auto& [name, t] : own) wanted.emplace(name, &t);
  std::vector<std::string> missing, unexpected, mismatched;
  std::vector<std::pair<Tensor, Tensor>> copies;  // (destination, source)
  for (const auto& [name, dst] : own) {
    auto it = given.find(name);
    if (it == given.end() || !it->second->defined()) {
      missing.push_back(name);
    } else if (it->second->sizes() != dst.sizes()) {
      mismatched.push_back("\"" + name + "\": " + shape_str(it->second->sizes()) + " in the state dict, " +
                           shape_str(dst.sizes()) + " in the model");
    } else {
      copies.emplace_back(dst, *it->second);
    }
  }
  for (const auto& [name, src] : state)
    if (!wanted.count(name)) unexpected.push_back(name);
  if (!mismatched.empty() || (strict && (!missing.empty() || !unexpected.empty()))) {
    std::ostringstream msg;
    msg << "load_state_dict: error(s) in loading state_dict for " << type_name() << ":";
    auto list = [&](const char* what, const std::vector<std::string>& keys) {
      if (keys.empty()) return;
      msg << "\n  " << what << ": ";
      for (size_t i = 0; i < keys.size(); ++i) msg << (i ? ", " : "") << '"' << keys[i] << '"';
    };
    list("missing key(s)", missing);
    list("unexpected key(s)", unexpected);
    for (const auto& m : mismatched) msg << "\n  size mismatch for " << m;
    throw ValueError(msg.str());
  }
  NoGradGuard no_grad;
  for (auto& [dst, src] : copies) dst.copy_(src);
}

int64_t Module::parameter_count(bool trainable_only) const {
  int64_t n = 0;
  for (const auto& t : parameters())
    if (!trainable_only || t.requires_grad()) n += t.numel();
  return n;
}

Tensor Module::forward(const Tensor&) {
  throw NotImplementedError(detail::concat(type_name(), ": forward(Tensor) is not defined for this module; call its own "
                                           "forward overload"));
}

static thread_local ForwardObserver active_observer;

ForwardObserverGuard::ForwardObserverGuard(ForwardObserver observer) : previous_(std::move(active_observer)) {
  active_observer = std::move(observer);
}
ForwardObserverGuard::~ForwardObserverGuard() { active_observer = std::move(previous_); }

Tensor Module::operator()(const Tensor& input) {
  Tensor output = forward(input);
  if (active_observer) active_observer(*this, input, output);
  return output;
}

static void print_tree(std::ostream& os, const Module& m, int indent) {
  if (m.named_children().empty()) {
    m.pretty_print(os);
    return;
  }
  os << m.type_name() << "(\n";
  for (const auto& [name, child] : m.named_children()) {
    os << std::string(indent + 2, ' ') << "(" << name << "): ";
    print_tree(os, *child, indent + 2);
    os << "\n";
  }
  os << std::string(indent, ' ') << ")";
}

std::ostream& operator<<(std::ostream& os, const Module& m) {
  print_tree(os, m, 0);
  return os;
}

}  // namespace striate::nn
