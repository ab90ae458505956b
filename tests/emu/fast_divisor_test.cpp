// FastDivisor (fast_divisor.cuh) against the hardware's / and %, over every
// small divisor, divisors at and beside each power of two, and dividends
// from 0 up to the largest int, where its 32-bit sum is closest to overflow.
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/cuda/fast_divisor.cuh"
#include "striate/core/error.h"

namespace {

using striate::kernels::cuda::FastDivisor;

// Candidates are formed in 64 bits (divisor + 1 overflows an int when the
// divisor is INT_MAX) and kept when they are valid dividends.
std::vector<int> dividends_for(int divisor, std::mt19937& gen) {
  const int64_t d = divisor;
  std::vector<int64_t> candidates = {0, 1, d - 1, d, d + 1, INT_MAX, INT_MAX - 1, INT_MAX - d};
  for (int64_t q : {int64_t{2}, int64_t{3}, int64_t{1000}, INT_MAX / d})
    for (int64_t delta : {-1, 0, 1}) candidates.push_back(q * d + delta);
  std::vector<int> n;
  for (int64_t v : candidates)
    if (v >= 0 && v <= INT_MAX) n.push_back(static_cast<int>(v));
  std::uniform_int_distribution<int> any(0, INT_MAX);
  for (int i = 0; i < 64; ++i) n.push_back(any(gen));
  return n;
}

void expect_exact(int divisor, std::mt19937& gen) {
  const FastDivisor by(divisor);
  EXPECT_EQ(by.divisor(), divisor);
  for (int n : dividends_for(divisor, gen)) {
    const auto [q, r] = by.divmod(n);
    ASSERT_EQ(q, n / divisor) << n << " / " << divisor;
    ASSERT_EQ(r, n % divisor) << n << " % " << divisor;
    ASSERT_EQ(by.div(n), q);
  }
}

TEST(FastDivisor, DividesExactlyByEverySmallDivisor) {
  std::mt19937 gen(7);
  for (int divisor = 1; divisor <= 4096; ++divisor) expect_exact(divisor, gen);
  for (int n = 0; n < 70000; ++n)  // every dividend of a typical pixel count, by typical sizes
    for (int divisor : {3, 7, 49, 56, 3136, 50176}) ASSERT_EQ(FastDivisor(divisor).divmod(n).quotient, n / divisor);
}

TEST(FastDivisor, DividesExactlyByLargeDivisorsAroundPowersOfTwo) {
  std::mt19937 gen(11);
  for (int bit = 12; bit <= 30; ++bit)
    for (int64_t delta : {-3, -1, 0, 1, 3}) expect_exact(static_cast<int>((int64_t{1} << bit) + delta), gen);
  expect_exact(INT_MAX, gen);
  std::uniform_int_distribution<int> any(1, INT_MAX);
  for (int i = 0; i < 2000; ++i) expect_exact(any(gen), gen);
}

TEST(FastDivisor, RefusesDivisorsBelowOne) {
  EXPECT_THROW(FastDivisor(0), striate::ValueError);
  EXPECT_THROW(FastDivisor(-5), striate::ValueError);
}

}  // namespace
