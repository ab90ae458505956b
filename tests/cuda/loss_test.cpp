// cross_entropy and nll_loss on the GPU (inputs, targets and weights all on
// the device) against the CPU backend, forward and backward (through
// autograd): reduction none / mean / sum, class weights, ignore_index (the
// default -100 and a valid class), label smoothing, [C], [N, C] and
// [N, C, d1, ...] inputs, N = 1 and odd N, C = 1, C = 1000 and C past the
// warp-per-row limit, f32 and f64, logits of +-80 and -inf, every label
// ignored, more samples than one grid covers; and PyTorch's reference
// values. The memory the results land in (per-sample losses, log-sum-exp,
// the double totals, the gradient) is filled with NaN first, so an element a
// kernel forgets to write, or totals it forgets to zero, shows up.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "striate/striate.h"
#include "support/gpu.h"
#include "support/npy.h"

namespace striate {
namespace {

const Device kGpu = testing::test_gpu();
constexpr double kInf = std::numeric_limits<double>::infinity();

struct Tolerance {
  double rtol, atol;
};

// The CPU sums in the tensor's type one class after another, the GPU in a
// tree; totals are double on both, added in another order on the GPU.
Tolerance tolerance_for(DType dtype) { return dtype == kDouble ? Tolerance{1e-11, 1e-12} : Tolerance{5e-5, 2e-5}; }

void expect_close(const Tensor& gpu, const Tensor& cpu, Tolerance tol, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(gpu.device(), kGpu);
  ASSERT_EQ(gpu.sizes(), cpu.sizes());
  ASSERT_EQ(gpu.dtype(), cpu.dtype());
  const auto g = gpu.cpu().to(kDouble).contiguous().flatten().to_vector<double>();
  const auto c = cpu.to(kDouble).contiguous().flatten().to_vector<double>();
  int64_t bad = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    const bool ok = std::isnan(c[i])   ? std::isnan(g[i])
                    : std::isinf(c[i]) ? g[i] == c[i]
                                       : std::abs(g[i] - c[i]) <= tol.atol + tol.rtol * std::abs(c[i]);
    if (!ok && bad++ < 5) ADD_FAILURE() << "element " << i << ": gpu " << g[i] << ", cpu " << c[i];
  }
  EXPECT_EQ(bad, 0) << bad << " of " << c.size() << " elements differ";
}

void expect_close(const Tensor& gpu, const Tensor& cpu, const std::string& what) {
  expect_close(gpu, cpu, tolerance_for(cpu.dtype()), what);
}

// Frees device blocks of these sizes filled with NaN bytes, so the caching
// allocator hands them to the next allocations of the same sizes.
void poison_cache(std::initializer_list<int64_t> bytes) {
  std::vector<Tensor> blocks;
  for (int64_t n : bytes) blocks.push_back(full({n}, 255, TensorOptions(kByte).device(kGpu)));
}

const char* reduction_name(Reduction r) { return r == kNone ? "none" : r == kMean ? "mean" : "sum"; }

Shape target_shape(const Shape& input) {
  if (input.size() == 1) return {};
  Shape t{input[0]};
  t.insert(t.end(), input.begin() + 2, input.end());
  return t;
}

int64_t classes_of(const Shape& input) { return input.size() == 1 ? input[0] : input[1]; }

enum class Values { Plain, Large, NegInf };

const char* values_name(Values v) { return v == Values::Plain ? "plain" : v == Values::Large ? "+-80" : "-inf"; }

// randn * 3; Large sets a third of the scores to +-80; NegInf sets every
// fifth score to -inf (target scores included).
Tensor scores(const Shape& shape, DType dtype, Values values, uint64_t seed) {
  Generator gen(seed);
  std::vector<double> v = (randn(shape, TensorOptions(kDouble), &gen) * 3).to_vector<double>();
  for (size_t k = 0; k < v.size(); ++k) {
    if (values == Values::Large && k % 3 == 0) v[k] = (k / 3) % 2 == 0 ? 80.0 : -80.0;
    if (values == Values::NegInf && k % 5 == 2) v[k] = -kInf;
  }
  return from_vector(v, shape).to(dtype);
}

// Labels in [0, classes); with `ignore` every third sample gets ignore_index.
Tensor labels(const Shape& shape, int64_t classes, int64_t ignore_index, bool ignore, uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> v = randint(0, classes, shape, TensorOptions(kLong), &gen).to_vector<int64_t>();
  if (ignore)
    for (size_t k = 0; k < v.size(); k += 3) v[k] = ignore_index;
  return from_vector(v, shape);
}

struct Options {
  bool weighted;
  int64_t ignore_index;
  bool ignore;  // whether any label is ignore_index
  double smoothing;
};

std::string describe(const char* op, const Shape& shape, DType dtype, const Options& o, Reduction r, Values v) {
  return std::string(op) + " " + shape_str(shape) + " " + dtype_name(dtype) + " weight " +
         std::to_string(o.weighted) + " ignore_index " + std::to_string(o.ignore_index) + " ignored " +
         std::to_string(o.ignore) + " smoothing " + std::to_string(o.smoothing) + " reduction " +
         reduction_name(r) + " " + values_name(v);
}

// Runs the loss forward and backward on the CPU and on the GPU and compares
// the result and the input's gradient.
void compare_class_loss(bool from_logits, const Shape& shape, DType dtype, const Options& o, Reduction red,
                        Values values, uint64_t seed, std::optional<Tolerance> tol = std::nullopt) {
  const int64_t classes = classes_of(shape);
  const Shape ts = target_shape(shape);
  const char* op = from_logits ? "cross_entropy" : "nll_loss";
  const std::string what = describe(op, shape, dtype, o, red, values);
  Tensor x0 = scores(shape, dtype, values, seed);
  if (!from_logits) x0 = log_softmax(x0, shape.size() == 1 ? 0 : 1);  // log-probabilities, as nll_loss expects
  const Tensor target = labels(ts, classes, o.ignore_index, o.ignore, seed + 1);
  Generator gen(seed + 2);
  const Tensor weight = o.weighted ? (rand({classes}, TensorOptions(dtype), &gen) * 2 + 0.1) : Tensor();

  auto loss = [&](const Tensor& x, const Tensor& t, const Tensor& w) {
    return from_logits ? cross_entropy(x, t, w, red, o.ignore_index, o.smoothing)
                       : nll_loss(x, t, w, red, o.ignore_index);
  };
  Tensor x_cpu = x0.detach().clone().requires_grad_();
  Tensor x_gpu = x0.to(kGpu).requires_grad_();
  const Tensor target_gpu = target.to(kGpu);
  const Tensor weight_gpu = weight.defined() ? weight.to(kGpu) : weight;

  const Tensor out_cpu = loss(x_cpu, target, weight);
  const int64_t per_sample = std::max<int64_t>(shape_numel(ts), 1) * static_cast<int64_t>(element_size(dtype));
  poison_cache({per_sample, per_sample, 16});  // loss, logsumexp, totals
  const Tensor out_gpu = loss(x_gpu, target_gpu, weight_gpu);
  const Tolerance t = tol ? *tol : tolerance_for(dtype);
  expect_close(out_gpu, out_cpu, t, what + " forward");

  Generator ggen(seed + 3);
  const Tensor up = red == kNone ? randn(ts, TensorOptions(dtype), &ggen) : full({}, 0.75, TensorOptions(dtype));
  out_cpu.backward(up);
  const Tensor up_gpu = up.to(kGpu);
  poison_cache({static_cast<int64_t>(x0.nbytes())});
  out_gpu.backward(up_gpu);
  ASSERT_TRUE(x_gpu.grad().defined()) << what;
  expect_close(x_gpu.grad(), x_cpu.grad(), t, what + " backward");
}

const Shape kShapes[] = {
    {1, 10},          // N = 1
    {7, 5},           // odd N
    {37, 1000},       // C = 1000
    {5, 1},           // C = 1
    {3, 1537},        // C past the warp-per-row limit: a block per row
    {10},             // unbatched [C]
    {3, 5, 17},       // [N, C, d1]
    {1, 7, 3, 5},     // N = 1, [N, C, d1, d2]
    {5, 1000, 3},     // C = 1000 over few columns: split columns
    {2, 1, 9},        // C = 1, inner > 1
};

std::vector<Options> option_sweep(bool from_logits) {
  std::vector<Options> sweep;
  for (bool weighted : {false, true})
    for (int64_t ignore_index : {int64_t{-100}, int64_t{1}})
      for (bool ignore : {false, true})
        for (double smoothing : {0.0, 0.15}) {
          if (!from_logits && smoothing > 0) continue;
          if (ignore_index == 1 && !ignore) continue;  // same as -100 without ignored labels
          sweep.push_back({weighted, ignore_index, ignore, smoothing});
        }
  return sweep;
}

void sweep_class_loss(bool from_logits) {
  uint64_t seed = from_logits ? 100 : 5000;
  for (const Shape& shape : kShapes)
    for (DType dtype : {kFloat, kDouble})
      for (const Options& o : option_sweep(from_logits))
        for (Reduction red : {kNone, kMean, kSum}) {
          compare_class_loss(from_logits, shape, dtype, o, red, Values::Plain, seed += 10);
          if (::testing::Test::HasFatalFailure()) return;
        }
}

TEST(CudaCrossEntropy, MatchesTheCpuOverEveryOption) {
  STRIATE_REQUIRE_GPU();
  sweep_class_loss(true);
}

TEST(CudaNllLoss, MatchesTheCpuOverEveryOption) {
  STRIATE_REQUIRE_GPU();
  sweep_class_loss(false);
}

TEST(CudaCrossEntropy, LargeAndInfiniteLogits) {
  STRIATE_REQUIRE_GPU();
  uint64_t seed = 9000;
  for (Values values : {Values::Large, Values::NegInf})
    for (const Shape& shape : {Shape{7, 1000}, Shape{9, 6}, Shape{3, 5, 17}, Shape{3, 1100}})
      for (DType dtype : {kFloat, kDouble})
        for (double smoothing : {0.0, 0.1})
          for (bool weighted : {false, true})
            for (Reduction red : {kNone, kMean, kSum}) {
              compare_class_loss(true, shape, dtype, {weighted, -100, true, smoothing}, red, values, seed += 10);
              compare_class_loss(false, shape, dtype, {weighted, -100, true, 0.0}, red, values, seed += 10);
            }
}

TEST(CudaCrossEntropy, EveryLabelIgnored) {
  STRIATE_REQUIRE_GPU();
  for (const Shape& shape : {Shape{3, 4}, Shape{2, 4, 5}}) {
    const Tensor x0 = scores(shape, kFloat, Values::Plain, 1);
    const Tensor target = full(target_shape(shape), -100, TensorOptions(kLong).device(kGpu));
    for (bool from_logits : {true, false}) {
      auto loss = [&](const Tensor& x, Reduction r) {
        return from_logits ? cross_entropy(x, target, {}, r, -100, 0.2) : nll_loss(x, target, {}, r);
      };
      poison_cache({64, 64, 16});
      EXPECT_TRUE(std::isnan(loss(x0.to(kGpu), kMean).item<double>()));
      poison_cache({64, 64, 16});
      EXPECT_EQ(loss(x0.to(kGpu), kSum).item<double>(), 0.0);
      for (double l : loss(x0.to(kGpu), kNone).cpu().to_vector<double>()) EXPECT_EQ(l, 0.0);
      Tensor x = x0.to(kGpu).requires_grad_();
      loss(x, kSum).backward();
      for (double g : x.grad().cpu().to_vector<double>()) EXPECT_EQ(g, 0.0);
    }
  }
}

TEST(CudaCrossEntropy, MoreSamplesThanOneGridCovers) {
  STRIATE_REQUIRE_GPU();
  // A weight with smoothing caps the grids at 1024 blocks (each block sums
  // the weight), so these shapes go round the grid several times.
  const Options o{true, -100, true, 0.1};
  for (const Shape& shape : {Shape{600001, 3}, Shape{3, 5, 200001}})
    for (Reduction red : {kNone, kMean}) {
      // Sums of 600000 per-sample losses: the order of the additions shows at float precision.
      compare_class_loss(true, shape, kFloat, o, red, Values::Plain, 77, Tolerance{1e-4, 2e-5});
      compare_class_loss(false, shape, kFloat, {true, -100, true, 0.0}, red, Values::Plain, 78, Tolerance{1e-4, 2e-5});
    }
  // No weight: 65535 blocks of 8 warps cover 524280 rows.
  compare_class_loss(true, {600001, 2}, kDouble, {false, -100, false, 0.0}, kSum, Values::Plain, 79);
}

TEST(CudaCrossEntropy, HalfPrecisionComputesInFloat) {
  STRIATE_REQUIRE_GPU();
  const Tensor x = scores({6, 11}, kFloat, Values::Plain, 3);
  const Tensor target = labels({6}, 11, -100, false, 4);
  for (DType dtype : {kHalf, kBFloat16}) {
    const Tensor cpu = cross_entropy(x.to(dtype), target, {}, kNone);
    const Tensor gpu = cross_entropy(x.to(dtype).to(kGpu), target.to(kGpu), {}, kNone);
    EXPECT_EQ(gpu.dtype(), dtype);
    expect_close(gpu, cpu, Tolerance{dtype == kHalf ? 2e-3 : 1.6e-2, 1e-3}, dtype_name(dtype));
  }
}

// ---- PyTorch's values ------------------------------------------------------------

Tensor ref(const std::string& family_case, const std::string& name) {
  return testing::load_npy(testing::reference_path(family_case + "/" + name + ".npy"));
}

TEST(CudaCrossEntropy, MatchesPyTorch) {
  STRIATE_REQUIRE_GPU();
  struct RefCase {
    const char* name;
    bool weighted;
    int64_t ignore_index;
    double smoothing;
  };
  const RefCase cases[] = {{"ce_plain", false, -100, 0.0},          {"ce_weight_ignore", true, -100, 0.0},
                           {"ce_smoothing", false, -100, 0.25},     {"ce_weight_ignore_smoothing", true, -100, 0.15},
                           {"ce_spatial", true, 2, 0.1},            {"ce_unbatched", true, -100, 0.05}};
  for (const RefCase& rc : cases) {
    const std::string c = std::string("loss/") + rc.name;
    const Tensor input = ref(c, "input").to(kGpu), target = ref(c, "target").to(kGpu);
    const Tensor weight = rc.weighted ? ref(c, "weight").to(kGpu) : Tensor();
    for (Reduction red : {kNone, kMean, kSum}) {
      const std::string r = reduction_name(red);
      Tensor x = input.detach().clone().requires_grad_();
      Tensor out = cross_entropy(x, target, weight, red, rc.ignore_index, rc.smoothing);
      expect_close(out, ref(c, "out_" + r), Tolerance{1e-12, 1e-12}, std::string(rc.name) + " forward " + r);
      (out * ref(c, "gout_" + r).to(kGpu)).sum().backward();
      expect_close(x.grad(), ref(c, "grad0_" + r), Tolerance{1e-12, 1e-12}, std::string(rc.name) + " backward " + r);
    }
  }
}

TEST(CudaNllLoss, MatchesPyTorch) {
  STRIATE_REQUIRE_GPU();
  const std::string c = "loss/nll_weight_ignore";
  for (Reduction red : {kNone, kMean, kSum}) {
    const std::string r = reduction_name(red);
    Tensor x = ref(c, "input").to(kGpu).requires_grad_();
    Tensor out = nll_loss(x, ref(c, "target").to(kGpu), ref(c, "weight").to(kGpu), red);
    expect_close(out, ref(c, "out_" + r), Tolerance{1e-12, 1e-12}, "nll forward " + r);
    (out * ref(c, "gout_" + r).to(kGpu)).sum().backward();
    expect_close(x.grad(), ref(c, "grad0_" + r), Tolerance{1e-12, 1e-12}, "nll backward " + r);
  }
}

}  // namespace
}  // namespace striate
