// The kernel benchmarks' statistics: summaries, repetition counts and L2 rotation.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "stats.h"

namespace striate::bench {
namespace {

TEST(BenchStats, SummaryOfOddAndEvenCounts) {
  const Summary odd = summarize({5, 1, 3});
  EXPECT_EQ(odd.count, 3);
  EXPECT_DOUBLE_EQ(odd.median, 3);
  EXPECT_DOUBLE_EQ(odd.min, 1);
  EXPECT_DOUBLE_EQ(odd.max, 5);
  EXPECT_DOUBLE_EQ(odd.mean, 3);

  const Summary even = summarize({4, 1, 2, 10});
  EXPECT_DOUBLE_EQ(even.median, 3);  // the two middle values' mean
  EXPECT_DOUBLE_EQ(even.min, 1);
  EXPECT_DOUBLE_EQ(even.mean, 4.25);

  const Summary none = summarize({});
  EXPECT_EQ(none.count, 0);
  EXPECT_DOUBLE_EQ(none.median, 0);
  EXPECT_DOUBLE_EQ(median_of({}), 0);
  EXPECT_DOUBLE_EQ(median_of({7}), 7);
}

TEST(BenchStats, OneSlowLaunchMovesTheMeanNotTheMedian) {
  const Summary s = summarize({1, 1, 1, 1, 100});
  EXPECT_DOUBLE_EQ(s.median, 1);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_GT(s.mean, 10);
}

TEST(BenchStats, RepetitionsFillTheTargetWithinBounds) {
  const RepPolicy p{2, 5, 50, 150};
  EXPECT_EQ(repetitions_for(10, p), 15);    // 150 ms / 10 ms
  EXPECT_EQ(repetitions_for(7, p), 22);     // rounded up
  EXPECT_EQ(repetitions_for(1000, p), 5);   // slow: at least min_reps
  EXPECT_EQ(repetitions_for(0.01, p), 50);  // fast: at most max_reps
  EXPECT_EQ(repetitions_for(0, p), 50);
  EXPECT_EQ(repetitions_for(-1, p), 50);
  EXPECT_EQ(repetitions_for(std::numeric_limits<double>::quiet_NaN(), p), 50);
  EXPECT_EQ(repetitions_for(std::numeric_limits<double>::infinity(), p), 50);
  // A policy with min above max still gives a count in [min, min].
  EXPECT_EQ(repetitions_for(1, RepPolicy{0, 8, 3, 100}), 8);
}

TEST(BenchStats, PoliciesOrderQuickDefaultFull) {
  const RepPolicy q = quick_policy(), d = default_policy(), f = full_policy();
  EXPECT_LT(q.max_reps, d.max_reps);
  EXPECT_LT(d.max_reps, f.max_reps);
  EXPECT_LT(q.target_ms, d.target_ms);
  EXPECT_LT(d.target_ms, f.target_ms);
  for (const RepPolicy& p : {q, d, f}) {
    EXPECT_GE(p.min_reps, 3);
    EXPECT_GE(p.warmup, 1);  // cuDNN's algorithm search must happen before timing
  }
}

TEST(BenchStats, RotationMakesALapTwiceTheL2) {
  const int64_t l2 = 50 << 20;
  EXPECT_EQ(rotation_copies(200 << 20, l2), 1);  // already larger than L2
  EXPECT_EQ(rotation_copies(100 << 20, l2), 1);  // exactly twice
  EXPECT_EQ(rotation_copies(60 << 20, l2), 2);
  EXPECT_EQ(rotation_copies(1 << 20, l2), 100);
  for (int64_t set : {int64_t{300000}, int64_t{777777}, int64_t{30} << 20}) {
    const int64_t n = rotation_copies(set, l2);
    EXPECT_GE(n * set, 2 * l2) << set;
    EXPECT_LT((n - 1) * set, 2 * l2) << set;  // no more copies than needed
  }
  EXPECT_EQ(rotation_copies(16, l2), kMaxRotationCopies);  // capped
  EXPECT_EQ(rotation_copies(16, l2, 10), 10);
  EXPECT_EQ(rotation_copies(0, l2), 1);
  EXPECT_EQ(rotation_copies(1000, 0), 1);  // L2 size unknown
}

}  // namespace
}  // namespace striate::bench
