// nn::Module: the base of every layer and model.
//
// A module owns named parameters (trainable tensors), buffers (state such as
// batch norm's running statistics) and child modules, registered in order.
// Names compose with dots, so state_dict keys match PyTorch's
// (`features.0.weight`, `layer1.0.bn1.running_mean`) and weights exported
// from PyTorch load by name.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "striate/core/tensor.h"

namespace striate::nn {

// An insertion-ordered name -> value list (state_dict order matters).
template <typename V>
using NamedList = std::vector<std::pair<std::string, V>>;

using StateDict = NamedList<Tensor>;

template <typename Impl>
class ModuleHolder;

class Module : public std::enable_shared_from_this<Module> {
 public:
  // Without a name, the class name is taken from the dynamic type, less
  // namespaces and an "Impl" suffix (struct NetImpl : Module {} prints "Net").
  Module() = default;
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The class name shown by printing and summary(), e.g. "Conv2d".
  const std::string& type_name() const;

  // A tensor registered under several names (shared modules, tied weights)
  // is listed once, under its first name, as in PyTorch; state_dict() keeps
  // every name.
  std::vector<Tensor> parameters(bool recurse = true) const;
  NamedList<Tensor> named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  NamedList<Tensor> named_buffers(bool recurse = true) const;
  std::vector<std::shared_ptr<Module>> children() const;
  const NamedList<std::shared_ptr<Module>>& named_children() const { return children_; }
  // This module and every descendant, depth first; the root's name is "".
  NamedList<std::shared_ptr<Module>> named_modules(const std::string& prefix = "");
  // Calls fn on every descendant (depth first), then on this module, as
  // PyTorch's Module.apply; works inside a constructor too, e.g. to
  // initialise weights by layer type.
  void apply(const std::function<void(Module&)>& fn);

  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Moves/converts every parameter and buffer in place, so tensors the
  // caller already holds (and optimizers) keep referring to them.
  void to(Device device);
  void to(DType dtype);  // floating parameters and buffers only
  // Lays out every 4-D parameter and buffer (and gradient) in `format`, as
  // PyTorch's module.to(memory_format=...): with ChannelsLast, conv weights
  // become OHWI, so channels-last inputs run the NHWC kernels without
  // converting a weight each step. Other tensors are left as they are.
  void to(MemoryFormat format);
  void zero_grad(bool set_to_none = true);

  // Parameters then buffers, recursively, with dotted names.
  StateDict state_dict() const;
  // Copies matching tensors in. With strict, any missing, unexpected or
  // shape-mismatched key is an error listing all of them; nothing is copied
  // unless everything matches.
  void load_state_dict(const StateDict& state, bool strict = true);

  // One line for this module's own settings, e.g. "Conv2d(3, 64, kernel_size=[7, 7], stride=[2, 2])".
  virtual void pretty_print(std::ostream& os) const { os << type_name() << "()"; }

  // Number of elements over all parameters (optionally only trainable ones).
  int64_t parameter_count(bool trainable_only = false) const;

  // The one-tensor forward that Sequential and summary() use. Modules with
  // other signatures (losses take input and target) define their own
  // `forward` overloads instead, and this one says so if called.
  virtual Tensor forward(const Tensor& input);
  // forward(), then reports the call to the active ForwardObserver (summary()).
  Tensor operator()(const Tensor& input);

 protected:
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  Tensor register_buffer(const std::string& name, Tensor tensor);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }
  // For holders: `fc = register_module("fc", nn::Linear(4, 2));`
  template <typename Holder>
    requires std::is_base_of_v<ModuleHolder<typename Holder::element_type>, Holder>
  Holder register_module(const std::string& name, Holder holder) {
    add_child(name, holder.ptr());
    return holder;
  }
  // Replaces a registered parameter or buffer by name (e.g. after re-creating it).
  void replace_tensor(const std::string& name, Tensor tensor);

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  static void check_name(const std::string& name, const char* what);

  mutable std::string type_name_;
  bool training_ = true;
  NamedList<Tensor> parameters_;
  NamedList<Tensor> buffers_;
  NamedList<std::shared_ptr<Module>> children_;
};

// Sees every one-tensor module call while installed, innermost first; how
// summary() learns each layer's output shape without hooks in every layer.
using ForwardObserver = std::function<void(const Module& module, const Tensor& input, const Tensor& output)>;

class ForwardObserverGuard {
 public:
  explicit ForwardObserverGuard(ForwardObserver observer);
  ~ForwardObserverGuard();
  ForwardObserverGuard(const ForwardObserverGuard&) = delete;
  ForwardObserverGuard& operator=(const ForwardObserverGuard&) = delete;

 private:
  ForwardObserver previous_;
};

// Prints the module tree as PyTorch does:
//   Sequential(
//     (0): Conv2d(1, 6, kernel_size=[5, 5], stride=[1, 1])
//     (1): ReLU()
//   )
std::ostream& operator<<(std::ostream& os, const Module& m);

// Holds a module implementation by shared_ptr with value syntax, as
// LibTorch's ModuleHolder: `Conv2d conv(Conv2dOptions(1, 6, 5)); conv->forward(x); conv(x)`.
template <typename Impl>
class ModuleHolder {
 public:
  using element_type = Impl;
  // Constructs the implementation from the arguments (never hijacking a copy).
  template <typename... Args>
    requires(std::is_constructible_v<Impl, Args...> &&
             !(sizeof...(Args) == 1 && (std::is_base_of_v<ModuleHolder, std::decay_t<Args>> && ...)))
  explicit ModuleHolder(Args&&... args) : impl_(std::make_shared<Impl>(std::forward<Args>(args)...)) {}
  ModuleHolder(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}  // NOLINT
  ModuleHolder(std::nullptr_t) {}                                       // NOLINT: an empty holder

  Impl* operator->() const { return impl_.get(); }
  Impl& operator*() const { return *impl_; }
  const std::shared_ptr<Impl>& ptr() const { return impl_; }
  operator std::shared_ptr<Impl>() const { return impl_; }              // NOLINT
  operator std::shared_ptr<Module>() const { return impl_; }            // NOLINT
  bool is_empty() const { return impl_ == nullptr; }

  // Calls forward; a single-tensor call goes through Module::operator() so
  // that summary() sees it.
  template <typename... Args>
  decltype(auto) operator()(Args&&... args) const {
    if constexpr (sizeof...(Args) == 1 && (std::is_convertible_v<Args, const Tensor&> && ...))
      return static_cast<Module&>(*impl_)(std::forward<Args>(args)...);
    else
      return impl_->forward(std::forward<Args>(args)...);
  }

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace striate::nn

// STRIATE_MODULE(Conv2d) declares the holder `Conv2d` for `Conv2dImpl`.
#define STRIATE_MODULE(Name)                                  \
  class Name : public ::striate::nn::ModuleHolder<Name##Impl> { \
   public:                                                    \
    using ::striate::nn::ModuleHolder<Name##Impl>::ModuleHolder; \
  }
