#include "striate/layers/container.h"

namespace striate::nn {

void SequentialImpl::push_back(const std::string& name, std::shared_ptr<Module> module) {
  register_module(name, module);
  modules_.push_back(std::move(module));
}

Tensor SequentialImpl::forward(const Tensor& input) {
  Tensor x = input;
  for (auto& m : modules_) x = (*m)(x);
  return x;
}

const std::shared_ptr<Module>& SequentialImpl::operator[](size_t index) const {
  STRIATE_CHECK(index < modules_.size(), IndexError, "Sequential: index ", index, " is out of range for ",
                modules_.size(), " modules");
  return modules_[index];
}

void ModuleListImpl::push_back(std::shared_ptr<Module> module) {
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
}

const std::shared_ptr<Module>& ModuleListImpl::operator[](size_t index) const {
  STRIATE_CHECK(index < modules_.size(), IndexError, "ModuleList: index ", index, " is out of range for ",
                modules_.size(), " modules");
  return modules_[index];
}

}  // namespace striate::nn
