// The statistics of the kernel benchmarks: a summary of repeated timings,
// how many repetitions a case gets, and how many copies of its inputs keep
// the L2 cache from flattering it. Pure functions (tested on the CPU).
#pragma once

#include <cstdint>
#include <vector>

namespace striate::bench {

// Milliseconds over `count` repetitions. The median is what tables report
// (robust to a stray slow launch); the minimum is the best the kernel did.
struct Summary {
  int64_t count = 0;
  double median = 0, min = 0, max = 0, mean = 0;
};

// Empty samples give count 0 (and zeros elsewhere).
Summary summarize(std::vector<double> samples);

// How long a case is timed: `warmup` untimed calls, then enough timed ones
// to fill about `target_ms`, at least min_reps and at most max_reps.
struct RepPolicy {
  int warmup = 2;
  int min_reps = 5;
  int max_reps = 50;
  double target_ms = 150;
};

RepPolicy default_policy();
RepPolicy quick_policy();  // --quick: a smoke run
RepPolicy full_policy();   // --full: tighter medians

// The repetitions for a case whose one call took `estimate_ms`; an estimate
// that is not a positive number gets max_reps.
int repetitions_for(double estimate_ms, const RepPolicy& policy);

// Copies of a working set of `set_bytes` to cycle through so that one lap
// (copies * set_bytes) is at least twice the L2 cache: every repetition then
// reads its inputs from device memory, as a layer in a real network does.
// At least 1, at most `max_copies`.
inline constexpr int64_t kMaxRotationCopies = 1024;
int64_t rotation_copies(int64_t set_bytes, int64_t l2_bytes, int64_t max_copies = kMaxRotationCopies);

// The median of the values (0 when there are none); for summaries of ratios.
double median_of(std::vector<double> values);

}  // namespace striate::bench
