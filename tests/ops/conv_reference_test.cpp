// conv1d/conv2d outputs and gradients against values PyTorch computed
// (tests/reference/gen_conv.py lists the same cases).
#include <gtest/gtest.h>

#include <functional>

#include "striate/core/ops/conv.h"
#include "striate/striate.h"
#include "support/npy.h"

using namespace striate;
using striate::testing::load_npy;
using striate::testing::reference_path;

namespace {

using ConvFn = std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)>;

void check_case(const std::string& name, const ConvFn& conv) {
  auto load = [&](const char* what) { return load_npy(reference_path("conv/" + name + "/" + what + ".npy")); };
  Tensor x = load("x").requires_grad_(), w = load("w").requires_grad_(), b = load("b").requires_grad_();
  Tensor y = conv(x, w, b);
  EXPECT_TRUE(allclose(y, load("y"), 1e-10, 1e-10)) << name;
  (y * load("gout")).sum().backward();
  EXPECT_TRUE(allclose(x.grad(), load("gx"), 1e-10, 1e-10)) << name << " grad input";
  EXPECT_TRUE(allclose(w.grad(), load("gw"), 1e-10, 1e-10)) << name << " grad weight";
  EXPECT_TRUE(allclose(b.grad(), load("gb"), 1e-10, 1e-10)) << name << " grad bias";
}

}  // namespace

TEST(ConvReference, MatchesPyTorch) {
  using V = std::vector<int64_t>;
  check_case("basic", [](auto& x, auto& w, auto& b) { return conv2d(x, w, b, 1, 1); });
  check_case("stride_3_1", [](auto& x, auto& w, auto& b) { return conv2d(x, w, b, V{3, 1}, V{1, 0}); });
  check_case("same_even_kernel", [](auto& x, auto& w, auto& b) { return conv2d(x, w, b, 1, "same"); });
  check_case("dilation_2", [](auto& x, auto& w, auto& b) { return conv2d(x, w, b, 1, 2, 2); });
  check_case("groups_2", [](auto& x, auto& w, auto& b) { return conv2d(x, w, b, 1, 1, 1, 2); });
  check_case("depthwise", [](auto& x, auto& w, auto& b) { return conv2d(x, w, b, 2, 0, 1, 3); });
  check_case("pointwise", [](auto& x, auto& w, auto& b) { return conv2d(x, w, b); });
  check_case("alexnet_first", [](auto& x, auto& w, auto& b) { return conv2d(x, w, b, 4, 2); });
  check_case("conv1d", [](auto& x, auto& w, auto& b) { return conv1d(x, w, b, 2, 1, 2, 2); });
  check_case("conv1d_same", [](auto& x, auto& w, auto& b) { return conv1d(x, w, b, 1, "same"); });
}
