// Containers: Sequential runs its children in order; ModuleList just holds
// them; Functional wraps a lambda so it can sit in a Sequential.
#pragma once

#include <functional>
#include <concepts>
#include <memory>
#include <type_traits>

#include "striate/layers/module.h"

namespace striate::nn {

// Anything that holds a module (a ModuleHolder such as Conv2d).
template <typename T>
concept HoldsModule = requires(const T& t) {
  { t.ptr() } -> std::convertible_to<std::shared_ptr<Module>>;
};

class FunctionalImpl : public Module {
 public:
  explicit FunctionalImpl(std::function<Tensor(const Tensor&)> fn) : Module("Functional"), fn_(std::move(fn)) {}
  Tensor forward(const Tensor& input) override { return fn_(input); }

 private:
  std::function<Tensor(const Tensor&)> fn_;
};
STRIATE_MODULE(Functional);

class SequentialImpl : public Module {
 public:
  SequentialImpl() : Module("Sequential") {}
  template <typename... Modules>
    requires(sizeof...(Modules) > 0)
  explicit SequentialImpl(Modules&&... modules) : SequentialImpl() {
    (push_back(std::forward<Modules>(modules)), ...);
  }

  // Children are named "0", "1", ... as in PyTorch, unless named here.
  void push_back(std::shared_ptr<Module> module) { push_back(std::to_string(size()), std::move(module)); }
  void push_back(const std::string& name, std::shared_ptr<Module> module);
  template <typename Impl>
  void push_back(const ModuleHolder<Impl>& holder) {
    push_back(std::shared_ptr<Module>(holder.ptr()));
  }
  template <typename F>
    requires(std::is_invocable_r_v<Tensor, F, const Tensor&> && !HoldsModule<std::decay_t<F>>)
  void push_back(F&& fn) {
    push_back(std::make_shared<FunctionalImpl>(std::function<Tensor(const Tensor&)>(std::forward<F>(fn))));
  }

  Tensor forward(const Tensor& input) override;
  size_t size() const { return modules_.size(); }
  const std::shared_ptr<Module>& operator[](size_t index) const;
  // The child at `index` as its concrete type, e.g. seq->at<Conv2dImpl>(0).
  template <typename T>
  T& at(size_t index) const {
    auto* p = dynamic_cast<T*>((*this)[index].get());
    STRIATE_CHECK(p != nullptr, ValueError, "Sequential::at: child ", index, " is a ", (*this)[index]->type_name(),
                  ", not the requested type");
    return *p;
  }
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};
STRIATE_MODULE(Sequential);

class ModuleListImpl : public Module {
 public:
  ModuleListImpl() : Module("ModuleList") {}
  void push_back(std::shared_ptr<Module> module);
  template <typename Impl>
  void push_back(const ModuleHolder<Impl>& holder) {
    push_back(std::shared_ptr<Module>(holder.ptr()));
  }
  size_t size() const { return modules_.size(); }
  const std::shared_ptr<Module>& operator[](size_t index) const;
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};
STRIATE_MODULE(ModuleList);

}  // namespace striate::nn
