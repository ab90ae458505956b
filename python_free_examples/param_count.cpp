// Why convolutions: parameter counts of a dense layer and a convolution
// looking at the same image, with the arithmetic spelled out, then
// summary() of LeNet-5 and ResNet-18.
//
// A dense (Linear) layer connects every input value to every unit:
//   params = inputs * units + units (one bias per unit).
// A convolution slides a small filter over the image, sharing its weights
// across every position:
//   params = kernel_h * kernel_w * in_channels * filters + filters.
// The first grows with the image; the second does not.
//
// Exits non-zero if a module's parameter_count() disagrees with the formula.
#include <cstdio>
#include <iostream>
#include <string>

#include <striate/striate.h>

using namespace striate;

namespace {

bool ok = true;

void check(const std::string& what, int64_t formula, int64_t counted) {
  if (formula != counted) {
    std::fprintf(stderr, "param_count: %s: formula gives %lld, the module has %lld\n", what.c_str(),
                 static_cast<long long>(formula), static_cast<long long>(counted));
    ok = false;
  }
}

// Prints and checks one image size: a dense layer of `units` vs `filters` k×k filters.
void compare(int64_t height, int64_t width, int64_t channels, int64_t units, int64_t filters, int64_t k,
             bool build_modules) {
  const int64_t inputs = height * width * channels;
  const int64_t dense = inputs * units + units;
  const int64_t conv = k * k * channels * filters + filters;
  std::printf("A %lldx%lldx%lld image (%s values):\n", static_cast<long long>(height),
              static_cast<long long>(width), static_cast<long long>(channels), nn::format_thousands(inputs).c_str());
  std::printf("  Linear(%lld, %lld):  %lld*%lld*%lld * %lld + %lld = %s parameters\n",
              static_cast<long long>(inputs), static_cast<long long>(units), static_cast<long long>(height),
              static_cast<long long>(width), static_cast<long long>(channels), static_cast<long long>(units),
              static_cast<long long>(units), nn::format_thousands(dense).c_str());
  std::printf("  Conv2d(%lld, %lld, %lld): %lld*%lld*%lld * %lld + %lld = %s parameters\n",
              static_cast<long long>(channels), static_cast<long long>(filters), static_cast<long long>(k),
              static_cast<long long>(k), static_cast<long long>(k), static_cast<long long>(channels),
              static_cast<long long>(filters), static_cast<long long>(filters), nn::format_thousands(conv).c_str());
  std::printf("  the dense layer has %.1fx as many\n\n", static_cast<double>(dense) / static_cast<double>(conv));
  if (build_modules) {
    check("Linear", dense, nn::Linear(inputs, units)->parameter_count());
    check("Conv2d", conv, nn::Conv2d(channels, filters, k)->parameter_count());
  }
}

}  // namespace

int main() {
  compare(10, 10, 1, 32, 32, 3, true);
  compare(28, 28, 1, 128, 32, 3, true);
  // Too big to build for a demonstration (2.3 GiB of float weights): arithmetic only.
  compare(224, 224, 3, 4096, 64, 3, false);

  std::cout << "LeNet-5 (the 1998 layout) on a 1x32x32 image:\n";
  nn::ModelSummary lenet = nn::summary(models::LeNet5(), {1, 32, 32});
  std::cout << lenet << "\n";
  check("LeNet-5", 61706, lenet.total_params);

  std::cout << "ResNet-18 on a 3x224x224 image:\n";
  nn::ModelSummary resnet = nn::summary(models::resnet18(), {3, 224, 224});
  std::cout << resnet;
  check("ResNet-18", 11689512, resnet.total_params);
  return ok ? 0 : 1;
}
