// Shared helpers of the optimizer tests: reference files and comparisons.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "striate/striate.h"
#include "support/npy.h"

namespace striate::optim_test {

inline Tensor reference(const std::string& relative) {
  return striate::testing::load_npy(striate::testing::reference_path("optim/" + relative + ".npy"));
}

// Every element within atol + rtol * |expected|; reports the worst one.
inline void expect_close(const Tensor& actual, const Tensor& expected, double rtol, double atol,
                         const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const auto a = actual.to_vector<double>();
  const auto e = expected.to_vector<double>();
  size_t worst = 0;
  double worst_excess = -1;
  for (size_t i = 0; i < a.size(); ++i) {
    const double excess = std::abs(a[i] - e[i]) - (atol + rtol * std::abs(e[i]));
    if (excess > worst_excess || i == 0) {
      worst_excess = excess;
      worst = i;
    }
  }
  if (!a.empty())
    EXPECT_LE(worst_excess, 0.0) << what << ": element " << worst << " is " << a[worst] << ", expected " << e[worst];
}

inline void expect_close(const std::vector<double>& actual, const std::vector<double>& expected, double rtol,
                         const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], rtol * std::abs(expected[i]) + 1e-15) << what << " [" << i << "]";
}

}  // namespace striate::optim_test
