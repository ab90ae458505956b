// striate summary --model resnet50 --input 3x224x224
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.h"
#include "striate/layers/summary.h"
#include "zoo.h"

namespace striate::tools {

Shape parse_shape(const std::string& text, const std::string& option) {
  Shape shape;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find('x', start), text.size());
    const std::string part = text.substr(start, end - start);
    const bool digits = !part.empty() && part.size() <= 9 && part.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stoll(part) <= 0)
      throw UsageError(option + ": expected positive sizes joined by 'x', such as 3x224x224, got '" + text + "'");
    shape.push_back(std::stoll(part));
    start = end + 1;
  }
  return shape;
}

namespace {

bool is_small_model(const std::string& model) { return model.rfind("lenet5", 0) == 0 || model == "small-vgg"; }

class SummaryCommand : public Command {
 public:
  CLI::App* attach(CLI::App& parent) override {
    CLI::App* app = parent.add_subcommand("summary", "Print a model's layers, output shapes and parameter counts");
    app->add_option("--model", model_, "Model: " + model_names_joined())->required();
    app->add_option("--input", input_,
                    "Input shape CxHxW, without the batch (default: 1x28x28 for lenet5*/small-vgg, else 3x224x224)");
    app->add_option("--classes", classes_, "Number of classes (default: 10 for lenet5*/small-vgg, else 1000)");
    return app;
  }

  int run() override {
    if (!is_known_model(model_)) throw UsageError("--model: unknown model '" + model_ + "' (known: " + model_names_joined() + ")");
    const bool small = is_small_model(model_);
    const Shape input = parse_shape(input_.empty() ? (small ? "1x28x28" : "3x224x224") : input_, "--input");
    if (input.size() != 3) throw UsageError("--input: expected CxHxW (3 sizes), got '" + input_ + "'");
    const int64_t classes = classes_ > 0 ? classes_ : (small ? 10 : 1000);
    if (classes_ == 0 || classes_ < -1) throw UsageError("--classes: must be positive, got " + std::to_string(classes_));
    // LeNet-5 is built for the image side it is given (28 pads its first conv).
    auto model = make_model(model_, input[0], classes, input[1]);
    std::cout << model_ << " for input " << input[0] << "x" << input[1] << "x" << input[2] << ", " << classes
              << " classes\n";
    std::cout << nn::summary(*model, input);
    return 0;
  }

 private:
  std::string model_;
  std::string input_;
  int64_t classes_ = -1;
};

}  // namespace

std::unique_ptr<Command> make_summary_command() { return std::make_unique<SummaryCommand>(); }

}  // namespace striate::tools
