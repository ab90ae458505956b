// The CUDA class losses (loss.cu) run by the emulator against the CPU: cross
// entropy from logits (with and without class weights, label smoothing and
// an ignored label) and nll_loss from log-probabilities, forward (per-sample
// losses, logsumexp, and the totals summed with atomicAdd in double) and
// backward, over the layouts of the row kernels: a warp per sample, a block
// per sample for many classes, and threads per (sample, position) column
// for [N, C, d] scores.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "compare.h"
#include "kernels/loss.h"

namespace striate::emu_test {
namespace {

struct LossCase {
  const char* name;
  kernels::ClassLossShape shape;
  bool from_logits, weighted;
  double smoothing;
};

const std::vector<LossCase> kCases = {
    {"cross entropy, warp rows", {21, 10, 1}, true, false, 0},
    {"cross entropy, weighted, smoothed", {9, 37, 1}, true, true, 0.1},
    {"cross entropy, block rows", {3, 1500, 1}, true, true, 0},
    {"cross entropy, columns", {4, 40, 6}, true, false, 0.2},
    {"nll, weighted", {17, 12, 1}, false, true, 0},
    {"nll, columns", {3, 9, 7}, false, false, 0},
};

template <typename T>
void expect_loss_matches(const LossCase& c) {
  const DType dtype = std::is_same_v<T, float> ? DType::F32 : DType::F64;
  const std::string where = std::string(c.name) + ", " + dtype_name(dtype);
  const kernels::ClassLossShape& s = c.shape;
  const size_t samples = static_cast<size_t>(s.outer * s.inner), scores = samples * static_cast<size_t>(s.classes);
  const std::vector<T> x = random_values<T>(scores, 51), w = random_values<T>(static_cast<size_t>(s.classes), 52);
  std::vector<T> w_pos(w.size());
  for (size_t i = 0; i < w.size(); ++i) w_pos[i] = std::abs(w[i]);
  std::vector<int64_t> target(samples);
  std::mt19937 gen(53);
  for (int64_t& t : target) t = static_cast<int64_t>(gen() % static_cast<uint32_t>(s.classes));
  target[samples / 2] = -100;  // ignored

  kernels::ClassLossArgs args{x.data(), target.data(), c.weighted ? w_pos.data() : nullptr, s, dtype, -100,
                              c.smoothing, c.from_logits};
  std::vector<T> loss = poisoned<T>(samples), lse = poisoned<T>(samples), want_loss(samples), want_lse(samples);
  std::vector<double> totals = poisoned<double>(2), want_totals(2);
  kernels::cuda::class_loss_forward({args, loss.data(), c.from_logits ? lse.data() : nullptr, totals.data()});
  kernels::cpu::class_loss_forward({args, want_loss.data(), c.from_logits ? want_lse.data() : nullptr,
                                    want_totals.data()});
  // Each loss is about log(classes) + a few: its scale is the class count's.
  const double eps = std::numeric_limits<T>::epsilon();
  expect_close(loss, to_f64(want_loss), scale_of(to_f64(want_loss)), s.classes, where + ": loss");
  if (c.from_logits) expect_close(lse, to_f64(want_lse), scale_of(to_f64(want_lse)), s.classes, where + ": logsumexp");
  std::vector<double> abs_loss = abs_f64(want_loss);
  double total_size = 0;
  for (double v : abs_loss) total_size += v;
  expect_close_eps(totals, want_totals, {total_size, want_totals[1]}, static_cast<int64_t>(samples * s.classes), eps,
                   where + ": totals");

  for (int64_t stride : {int64_t{1}, int64_t{0}}) {
    const std::vector<T> grad_loss = random_values<T>(samples, 54);
    std::vector<T> gx = poisoned<T>(scores), want_gx(scores);
    kernels::cuda::class_loss_backward({args, want_lse.data(), grad_loss.data(), stride, gx.data()});
    kernels::cpu::class_loss_backward({args, want_lse.data(), grad_loss.data(), stride, want_gx.data()});
    expect_close(gx, to_f64(want_gx), scale_of(to_f64(want_gx)), s.classes,
                 where + (stride ? ": backward" : ": backward, one upstream gradient"));
  }
}

TEST(EmulatedLoss, ClassLossesMatchTheCpu) {
  for (const LossCase& c : kCases) {
    expect_loss_matches<float>(c);
    expect_loss_matches<double>(c);
  }
}

}  // namespace
}  // namespace striate::emu_test
