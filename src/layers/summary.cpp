#include "striate/layers/summary.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <sstream>
#include <unordered_map>

#include "striate/core/autograd.h"
#include "striate/core/ops/factory.h"

namespace striate::nn {

std::string format_thousands(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

namespace {

// Every module's dotted name (first name wins for a shared module) and its
// training flag, in pre-order, without needing shared_from_this().
void walk(Module& m, const std::string& name, std::unordered_map<const Module*, std::string>& names,
          std::vector<std::pair<Module*, bool>>& modes) {
  if (!names.emplace(&m, name).second) return;
  modes.emplace_back(&m, m.is_training());
  for (const auto& [child_name, child] : m.named_children())
    walk(*child, name.empty() ? child_name : name + "." + child_name, names, modes);
}

// Puts every module back in the mode it had; pre-order, so a parent's
// recursive train() is overridden by its children's own flags.
class RestoreModes {
 public:
  explicit RestoreModes(std::vector<std::pair<Module*, bool>> modes) : modes_(std::move(modes)) {}
  ~RestoreModes() {
    for (auto& [m, training] : modes_) m->train(training);
  }

 private:
  std::vector<std::pair<Module*, bool>> modes_;
};

std::string batch_free_shape(const Shape& shape) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << (i == 0 ? int64_t{-1} : shape[i]);
  os << ']';
  return os.str();
}

std::string megabytes(double mb) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", mb);
  return buf;
}

std::string render(const ModelSummary& s) {
  const std::string h1 = "Layer (type)", h2 = "Output Shape", h3 = "Param #";
  std::vector<std::string> c1, c2, c3;
  for (const auto& l : s.layers) {
    c1.push_back((l.name.empty() ? std::string("(model)") : l.name) + " (" + l.type + ")");
    c2.push_back(batch_free_shape(l.output_shape));
    c3.push_back(format_thousands(l.params));
  }
  auto widest = [](const std::string& header, const std::vector<std::string>& cells) {
    size_t w = header.size();
    for (const auto& c : cells) w = std::max(w, c.size());
    return w;
  };
  const size_t w1 = widest(h1, c1) + 3, w2 = widest(h2, c2) + 3, w3 = widest(h3, c3) + 4;
  const size_t width = std::max<size_t>(w1 + w2 + w3, 40);
  auto pad_right = [](const std::string& text, size_t w) { return text + std::string(w - text.size(), ' '); };
  auto pad_left = [](const std::string& text, size_t w) { return std::string(w - text.size(), ' ') + text; };

  std::ostringstream os;
  const std::string rule(width, '-'), double_rule(width, '=');
  os << rule << '\n' << pad_right(h1, w1) << pad_right(h2, w2) << pad_left(h3, w3) << '\n' << double_rule << '\n';
  for (size_t i = 0; i < s.layers.size(); ++i)
    os << pad_right(c1[i], w1) << pad_right(c2[i], w2) << pad_left(c3[i], w3) << '\n';
  os << double_rule << '\n'
     << "Total params: " << format_thousands(s.total_params) << '\n'
     << "Trainable params: " << format_thousands(s.trainable_params) << '\n'
     << "Non-trainable params: " << format_thousands(s.non_trainable_params) << '\n'
     << rule << '\n'
     << "Input size (MB): " << megabytes(s.input_mb) << '\n'
     << "Forward/backward pass size (MB): " << megabytes(s.forward_backward_mb) << '\n'
     << "Params size (MB): " << megabytes(s.params_mb) << '\n'
     << "Estimated Total Size (MB): " << megabytes(s.total_mb) << '\n'
     << rule << '\n';
  return os.str();
}

}  // namespace

ModelSummary summary(Module& model, const Shape& input_shape, const SummaryOptions& options) {
  for (int64_t d : input_shape)
    STRIATE_CHECK(d > 0, ShapeError, "summary: input_shape (without the batch dim) must have positive sizes, got ",
                  input_shape);

  DType dtype = kFloat;
  Device device = Device::cpu();
  for (const auto& p : model.parameters())
    if (p.is_floating_point()) {
      dtype = p.dtype();
      device = p.device();
      break;
    }
  if (options.dtype) dtype = *options.dtype;
  if (options.device) device = *options.device;

  std::unordered_map<const Module*, std::string> names;
  std::vector<std::pair<Module*, bool>> modes;
  walk(model, "", names, modes);

  ModelSummary s;
  Shape batched{1};
  batched.insert(batched.end(), input_shape.begin(), input_shape.end());
  {
    RestoreModes restore(modes);
    model.eval();
    NoGradGuard no_grad;
    ForwardObserverGuard observe([&](const Module& m, const Tensor&, const Tensor& output) {
      if (!m.named_children().empty()) return;
      auto it = names.find(&m);
      LayerSummary row;
      row.name = it != names.end() ? it->second : "?";
      row.type = m.type_name();
      row.output_shape = output.sizes();
      row.params = m.parameter_count();
      row.output_bytes = static_cast<int64_t>(output.nbytes());
      s.layers.push_back(std::move(row));
    });
    model(zeros(batched, TensorOptions(dtype).device(device)));
  }

  int64_t activation_bytes = 0, param_bytes = 0;
  for (const auto& l : s.layers) activation_bytes += l.output_bytes;
  for (const auto& p : model.parameters()) {
    s.total_params += p.numel();
    if (p.requires_grad()) s.trainable_params += p.numel();
    param_bytes += static_cast<int64_t>(p.nbytes());
  }
  s.non_trainable_params = s.total_params - s.trainable_params;
  constexpr double kMiB = 1024.0 * 1024.0;
  s.input_mb = static_cast<double>(shape_numel(batched)) * static_cast<double>(element_size(dtype)) / kMiB;
  s.forward_backward_mb = 2.0 * static_cast<double>(activation_bytes) / kMiB;
  s.params_mb = static_cast<double>(param_bytes) / kMiB;
  s.total_mb = s.input_mb + s.forward_backward_mb + s.params_mb;
  s.table = render(s);
  return s;
}

std::ostream& operator<<(std::ostream& os, const ModelSummary& s) { return os << s.table; }

}  // namespace striate::nn
