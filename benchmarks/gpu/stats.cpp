#include "stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace striate::bench {

double median_of(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

Summary summarize(std::vector<double> samples) {
  Summary s;
  if (samples.empty()) return s;
  s.count = static_cast<int64_t>(samples.size());
  s.min = *std::min_element(samples.begin(), samples.end());
  s.max = *std::max_element(samples.begin(), samples.end());
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
  s.median = median_of(std::move(samples));
  return s;
}

RepPolicy default_policy() { return {}; }
RepPolicy quick_policy() { return {1, 3, 10, 30}; }
RepPolicy full_policy() { return {3, 10, 200, 500}; }

int repetitions_for(double estimate_ms, const RepPolicy& policy) {
  const int lo = std::max(1, policy.min_reps), hi = std::max(lo, policy.max_reps);
  if (!(estimate_ms > 0) || !std::isfinite(estimate_ms)) return hi;
  const double wanted = std::ceil(policy.target_ms / estimate_ms);
  if (wanted >= hi) return hi;
  return std::max(lo, static_cast<int>(wanted));
}

int64_t rotation_copies(int64_t set_bytes, int64_t l2_bytes, int64_t max_copies) {
  if (set_bytes <= 0 || l2_bytes <= 0) return 1;
  const int64_t lap = 2 * l2_bytes;
  const int64_t wanted = (lap + set_bytes - 1) / set_bytes;
  return std::clamp<int64_t>(wanted, 1, std::max<int64_t>(1, max_copies));
}

}  // namespace striate::bench
