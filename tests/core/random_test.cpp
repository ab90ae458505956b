// Philox random numbers: the block function against Random123's published
// vectors, the documented (seed, offset, element) -> value mapping of
// kernels/random.h recomputed here from the block function, reproducibility,
// generator independence, distribution statistics on fixed seeds, and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numbers>
#include <numeric>
#include <set>

#include "striate/core/philox.h"
#include "striate/striate.h"

using namespace striate;

namespace {

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

double mean_of(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); }

double variance_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / (v.size() - 1);
}

// The block serving element i when V elements share a counter.
philox::Block block_for(uint64_t seed, uint64_t offset, int64_t i, int per_counter) {
  return philox::philox4x32_10(offset + static_cast<uint64_t>(i / per_counter), 0, seed);
}

}  // namespace

// ---- the block function ----------------------------------------------------

TEST(Philox, MatchesRandom123KnownAnswers) {
  // Counter words (c0, c1, c2, c3) and key words (k0, k1) go in low word first.
  auto check = [](uint64_t lo, uint64_t hi, uint64_t key, std::array<uint32_t, 4> want) {
    philox::Block b = philox::philox4x32_10(lo, hi, key);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(b.x[i], want[i]) << "word " << i;
  };
  check(0, 0, 0, {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  check(~0ull, ~0ull, ~0ull, {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  check(0x85a308d3243f6a88ull, 0x0370734413198a2eull, 0x299f31d0a4093822ull,
        {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
}

TEST(Philox, UniformConversionsStayBelowOne) {
  EXPECT_EQ(philox::uniform_float(0), 0.0f);
  EXPECT_EQ(philox::uniform_float(0xffffffffu), 1.0f - 1.0f / 16777216.0f);
  EXPECT_EQ(philox::uniform_double(0, 0), 0.0);
  EXPECT_EQ(philox::uniform_double(0xffffffffu, 0xffffffffu), 1.0 - 1.0 / 9007199254740992.0);
}

// ---- the documented mapping ---------------------------------------------------

TEST(Random, RandFloatFollowsDocumentedMapping) {
  Generator g(1234);
  g.set_state(1234, 10);
  Tensor t = rand({9}, {}, &g);
  EXPECT_EQ(t.dtype(), kFloat);
  std::vector<float> got = t.to_vector<float>();
  for (int64_t i = 0; i < 9; ++i) {
    const uint32_t w = block_for(1234, 10, i, 4).x[i % 4];
    EXPECT_EQ(got[i], static_cast<float>(w >> 8) / 16777216.0f) << "element " << i;
  }
  EXPECT_EQ(g.offset(), 10u + 3u);  // ceil(9 / 4) counters
}

TEST(Random, RandDoubleFollowsDocumentedMapping) {
  Generator g(77);
  Tensor t = rand({5}, kDouble, &g);
  std::vector<double> got = values(t);
  for (int64_t i = 0; i < 5; ++i) {
    const philox::Block b = block_for(77, 0, i, 2);
    const int lane = static_cast<int>(i % 2);
    EXPECT_EQ(got[i], philox::uniform_double(b.x[2 * lane], b.x[2 * lane + 1])) << "element " << i;
  }
  EXPECT_EQ(g.offset(), 3u);
}

TEST(Random, RandnFloatIsBoxMullerOfTheDocumentedWords) {
  Generator g(99);
  std::vector<float> got = randn({6}, {}, &g).to_vector<float>();
  for (int64_t i = 0; i < 6; ++i) {
    const philox::Block b = block_for(99, 0, i, 4);
    const int pair = static_cast<int>(i % 4) & ~1;
    const double u1 = (b.x[pair] + 1.0) / 4294967296.0, u2 = b.x[pair + 1] / 4294967296.0;
    const double r = std::sqrt(-2 * std::log(u1)), angle = 2 * std::numbers::pi * u2;
    const double want = i % 2 ? r * std::sin(angle) : r * std::cos(angle);
    EXPECT_NEAR(got[i], want, 1e-6 * std::max(1.0, std::abs(want))) << "element " << i;
  }
}

TEST(Random, RandintFollowsDocumentedMapping) {
  Generator g(5);
  std::vector<int64_t> got = randint(-10, 7, {11}, kLong, &g).to_vector<int64_t>();
  for (int64_t i = 0; i < 11; ++i)
    EXPECT_EQ(got[i], -10 + static_cast<int64_t>(block_for(5, 0, i, 4).x[i % 4] % 17)) << "element " << i;
  // A range wider than 2^32 takes 64 bits, two words, per element.
  const int64_t low = -(int64_t{1} << 40), high = int64_t{1} << 41;
  Generator h(6);
  std::vector<int64_t> wide = randint(low, high, {3}, kLong, &h).to_vector<int64_t>();
  for (int64_t i = 0; i < 3; ++i) {
    const philox::Block b = block_for(6, 0, i, 2);
    const int lane = static_cast<int>(i % 2);
    const uint64_t r = (static_cast<uint64_t>(b.x[2 * lane]) << 32) | b.x[2 * lane + 1];
    EXPECT_EQ(wide[i], low + static_cast<int64_t>(r % static_cast<uint64_t>(high - low))) << "element " << i;
  }
  EXPECT_EQ(h.offset(), 2u);
}

TEST(Random, ValuesDependOnlyOnLogicalIndexNotLayout) {
  Generator g1(3), g2(3);
  Tensor a = empty({4, 5});
  uniform_(a, 0, 1, &g1);
  Tensor b = empty({5, 4}).t();  // the same logical shape, column-major
  ASSERT_FALSE(b.is_contiguous());
  uniform_(b, 0, 1, &g2);
  EXPECT_EQ(values(a), values(b));
  EXPECT_EQ(g1.offset(), g2.offset());
}

// ---- reproducibility and generators -------------------------------------------

TEST(Random, SameSeedSameValuesAndConsecutiveCallsDiffer) {
  manual_seed(42);
  std::vector<double> a = values(rand({100}));
  std::vector<double> a2 = values(rand({100}));
  manual_seed(42);
  EXPECT_EQ(values(rand({100})), a);
  EXPECT_EQ(values(rand({100})), a2);
  EXPECT_NE(a, a2);
  manual_seed(43);
  EXPECT_NE(values(rand({100})), a);
}

TEST(Random, OffsetSelectsTheStream) {
  Generator g(8);
  g.set_state(8, 0);
  std::vector<double> at0 = values(randn({8}, kDouble, &g));
  g.set_state(8, 4);
  std::vector<double> at4 = values(randn({8}, kDouble, &g));
  EXPECT_NE(at0, at4);
  g.set_state(8, 0);
  EXPECT_EQ(values(randn({8}, kDouble, &g)), at0);
  // The second half of the first draw is the first half of one started two counters later.
  g.set_state(8, 2);
  std::vector<double> at2 = values(randn({4}, kDouble, &g));
  EXPECT_EQ(std::vector<double>(at0.begin() + 4, at0.end()), at2);
}

TEST(Random, ExplicitGeneratorsAreIndependentOfTheDefault) {
  manual_seed(5);
  std::vector<double> expected = values(rand({10}));
  manual_seed(5);
  Generator g(5), h(5);
  const uint64_t before = default_generator().offset();
  std::vector<double> from_g = values(rand({10}, {}, &g));
  EXPECT_EQ(default_generator().offset(), before);
  EXPECT_EQ(values(rand({10})), expected);  // the default stream was untouched by g
  EXPECT_EQ(from_g, expected);              // same seed, same offset: same numbers
  EXPECT_EQ(values(rand({10}, {}, &h)), expected);
  EXPECT_EQ(g.offset(), 3u);
}

TEST(Random, EveryOpReservesItsCounters) {
  Generator g(1);
  rand({10}, {}, &g);  // 4 floats a counter
  EXPECT_EQ(g.offset(), 3u);
  rand({10}, kDouble, &g);  // 2 doubles a counter
  EXPECT_EQ(g.offset(), 8u);
  Tensor t = empty({7}, kHalf);
  normal_(t, 0, 1, &g);
  EXPECT_EQ(g.offset(), 10u);
  bernoulli_(t, 0.5, &g);
  EXPECT_EQ(g.offset(), 12u);
  randperm(5, kLong, &g);  // 4 swaps, two a counter
  EXPECT_EQ(g.offset(), 14u);
  rand({0}, {}, &g);
  EXPECT_EQ(g.offset(), 14u);
}

// ---- distributions --------------------------------------------------------------

TEST(Random, UniformStatisticsPerDtype) {
  for (DType dtype : {kFloat, kDouble, kHalf, kBFloat16}) {
    Generator g(2024);
    std::vector<double> v = values(rand({100000}, dtype, &g));
    EXPECT_NEAR(mean_of(v), 0.5, 0.005) << dtype;
    EXPECT_NEAR(variance_of(v), 1.0 / 12, 0.002) << dtype;
    EXPECT_GE(*std::min_element(v.begin(), v.end()), 0.0) << dtype;
    EXPECT_LT(*std::max_element(v.begin(), v.end()), 1.0) << dtype;
    EXPECT_GT(*std::max_element(v.begin(), v.end()), 0.99) << dtype;
  }
}

TEST(Random, NormalStatisticsPerDtype) {
  for (DType dtype : {kFloat, kDouble, kHalf, kBFloat16}) {
    Generator g(7);
    std::vector<double> v = values(randn({100000}, dtype, &g));
    EXPECT_NEAR(mean_of(v), 0.0, 0.012) << dtype;
    EXPECT_NEAR(variance_of(v), 1.0, 0.02) << dtype;
    // About 0.27% of N(0, 1) lies beyond 3 sigma.
    const auto tails = std::count_if(v.begin(), v.end(), [](double x) { return std::abs(x) > 3; });
    EXPECT_NEAR(tails / 1e5, 0.0027, 0.0006) << dtype;
    for (double x : v) ASSERT_TRUE(std::isfinite(x));
  }
}

TEST(Random, UniformAndNormalInPlaceUseTheirParameters) {
  Generator g(11);
  Tensor u = empty({100000}, kDouble);
  uniform_(u, -2, 3, &g);
  std::vector<double> v = values(u);
  EXPECT_GE(*std::min_element(v.begin(), v.end()), -2.0);
  EXPECT_LT(*std::max_element(v.begin(), v.end()), 3.0);
  EXPECT_NEAR(mean_of(v), 0.5, 0.03);
  EXPECT_NEAR(variance_of(v), 25.0 / 12, 0.05);

  Tensor n = empty({100000});
  normal_(n, 3, 2, &g);
  v = values(n);
  EXPECT_NEAR(mean_of(v), 3.0, 0.025);
  EXPECT_NEAR(std::sqrt(variance_of(v)), 2.0, 0.02);

  // Degenerate parameters.
  Tensor c = empty({10});
  uniform_(c, 1.5, 1.5, &g);
  for (double x : values(c)) EXPECT_EQ(x, 1.5);
  normal_(c, -4, 0, &g);
  for (double x : values(c)) EXPECT_EQ(x, -4);
}

TEST(Random, HalfUniformNeverRoundsUpToTheBound) {
  Generator g(31);
  Tensor h = empty({200000}, kHalf);
  uniform_(h, 0, 1, &g);
  std::vector<double> v = values(h);
  EXPECT_LT(*std::max_element(v.begin(), v.end()), 1.0);
  Tensor b = empty({200000}, kBFloat16);
  uniform_(b, 10, 11, &g);  // bf16 spacing at 10 is 1/16: rounding up to 11 must not escape
  v = values(b);
  EXPECT_GE(*std::min_element(v.begin(), v.end()), 10.0);
  EXPECT_LT(*std::max_element(v.begin(), v.end()), 11.0);
}

TEST(Random, BernoulliForFloatIntAndBool) {
  Generator g(13);
  Tensor f = empty({100000});
  bernoulli_(f, 0.3, &g);
  std::vector<double> v = values(f);
  for (double x : v) ASSERT_TRUE(x == 0 || x == 1);
  EXPECT_NEAR(mean_of(v), 0.3, 0.006);

  Tensor b = empty({1000}, kBool);
  bernoulli_(b, 0.0, &g);
  EXPECT_EQ(b.to(kLong).sum().item<int64_t>(), 0);
  bernoulli_(b, 1.0, &g);
  EXPECT_EQ(b.to(kLong).sum().item<int64_t>(), 1000);

  Tensor i = empty({20000}, kInt);
  bernoulli_(i, 0.75, &g);
  v = values(i);
  for (double x : v) ASSERT_TRUE(x == 0 || x == 1);
  EXPECT_NEAR(mean_of(v), 0.75, 0.015);
}

TEST(Random, RandintCoversTheRangeAndNothingElse) {
  Generator g(17);
  Tensor t = randint(-3, 5, {8000}, kLong, &g);
  EXPECT_EQ(t.dtype(), kLong);
  std::vector<int64_t> v = t.to_vector<int64_t>();
  std::map<int64_t, int> counts;
  for (int64_t x : v) ++counts[x];
  ASSERT_EQ(counts.size(), 8u);
  EXPECT_EQ(counts.begin()->first, -3);
  EXPECT_EQ(counts.rbegin()->first, 4);
  for (auto [value, n] : counts) EXPECT_NEAR(n, 1000, 120) << "value " << value;

  // Other dtypes, and a one-value range.
  std::vector<double> f = values(randint(0, 10, {1000}, kFloat, &g));
  EXPECT_EQ(std::set<double>(f.begin(), f.end()).size(), 10u);
  for (double x : f) EXPECT_EQ(x, std::floor(x));
  std::vector<int32_t> i = randint(100, 101, {5}, kInt, &g).to_vector<int32_t>();
  EXPECT_EQ(i, std::vector<int32_t>(5, 100));
  std::vector<uint8_t> u = randint(0, 256, {5000}, kByte, &g).to_vector<uint8_t>();
  EXPECT_EQ(std::set<uint8_t>(u.begin(), u.end()).size(), 256u);

  // A 64-bit range: the values spread over it.
  std::vector<int64_t> wide = randint(0, int64_t{1} << 62, {1000}, kLong, &g).to_vector<int64_t>();
  const auto [lo, hi] = std::minmax_element(wide.begin(), wide.end());
  EXPECT_GE(*lo, 0);
  EXPECT_LT(*hi, int64_t{1} << 62);
  EXPECT_GT(*hi, int64_t{1} << 61);
}

TEST(Random, RandpermIsAPermutation) {
  Generator g(19);
  std::vector<int64_t> p = randperm(1000, kLong, &g).to_vector<int64_t>();
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> iota(1000);
  std::iota(iota.begin(), iota.end(), 0);
  EXPECT_EQ(sorted, iota);
  EXPECT_NE(p, iota);
  // Few fixed points (about one is expected).
  int fixed = 0;
  for (int64_t i = 0; i < 1000; ++i) fixed += p[i] == i;
  EXPECT_LT(fixed, 8);

  Generator h(19);
  EXPECT_EQ(randperm(1000, kLong, &h).to_vector<int64_t>(), p);  // reproducible
  EXPECT_EQ(randperm(0).numel(), 0);
  EXPECT_EQ(randperm(1).to_vector<int64_t>(), std::vector<int64_t>{0});
  Tensor f = randperm(10, kFloat, &g);
  EXPECT_EQ(f.dtype(), kFloat);
  std::vector<double> fv = values(f);
  std::sort(fv.begin(), fv.end());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(fv[i], i);

  // Every position receives every value about equally often.
  std::vector<std::vector<int>> where(4, std::vector<int>(4, 0));
  for (int trial = 0; trial < 4000; ++trial) {
    std::vector<int64_t> q = randperm(4, kLong, &g).to_vector<int64_t>();
    for (int pos = 0; pos < 4; ++pos) ++where[pos][q[pos]];
  }
  for (auto& row : where)
    for (int n : row) EXPECT_NEAR(n, 1000, 110);
}

TEST(Random, LikeFactoriesAndOptions) {
  Generator g(23);
  Tensor like = zeros({3, 4}, kDouble);
  Tensor r = rand_like(like, &g);
  EXPECT_EQ(r.sizes(), (Shape{3, 4}));
  EXPECT_EQ(r.dtype(), kDouble);
  Tensor n = randn_like(like, &g);
  EXPECT_EQ(n.dtype(), kDouble);
  EXPECT_NE(values(r), values(n));
  Tensor leaf = rand({2}, TensorOptions().requires_grad(true), &g);
  EXPECT_TRUE(leaf.requires_grad());
  EXPECT_TRUE(leaf.is_leaf());
  Tensor scalar = randn({}, {}, &g);
  EXPECT_EQ(scalar.dim(), 0);
}

TEST(Random, InPlaceOnALeafThatRequiresGrad) {
  Tensor w = zeros({3}, TensorOptions().requires_grad(true));
  EXPECT_THROW(uniform_(w, 0, 1), AutogradError);
  {
    NoGradGuard guard;  // how initialisers fill parameters
    normal_(w, 0, 1);
  }
  EXPECT_TRUE(w.requires_grad());
  EXPECT_NE(values(w), std::vector<double>(3, 0.0));
  const uint32_t version = w._version();
  {
    NoGradGuard guard;
    bernoulli_(w, 0.5);
  }
  EXPECT_GT(w._version(), version);
}

TEST(Random, Errors) {
  EXPECT_THROW(randint(5, 5, {2}), ValueError);
  EXPECT_THROW(randint(5, 3, {2}), ValueError);
  EXPECT_THROW(randint(0, 300, {2}, kByte), ValueError);
  EXPECT_THROW(randint(-1, 1, {2}, kByte), ValueError);
  EXPECT_THROW(randint(0, 5000, {2}, kHalf), ValueError);
  EXPECT_THROW(rand({-1}), ShapeError);
  EXPECT_THROW(randn({2, -3}), ShapeError);
  EXPECT_THROW(randint(0, 2, {-1}), ShapeError);
  EXPECT_THROW(rand({2}, kLong), DTypeError);
  EXPECT_THROW(randn({2}, kInt), DTypeError);
  EXPECT_THROW(rand_like(zeros({2}, kLong)), DTypeError);
  EXPECT_THROW(randperm(-1), ValueError);
  EXPECT_THROW(randperm(300, kByte), ValueError);
  EXPECT_THROW(randperm(3000, kHalf), ValueError);
  Tensor t = empty({4});
  EXPECT_THROW(uniform_(t, 1, 0), ValueError);
  EXPECT_THROW(normal_(t, 0, -1), ValueError);
  EXPECT_THROW(bernoulli_(t, 1.5), ValueError);
  EXPECT_THROW(bernoulli_(t, -0.1), ValueError);
  Tensor ints = empty({4}, kLong);
  EXPECT_THROW(uniform_(ints), DTypeError);
  EXPECT_THROW(normal_(ints), DTypeError);
  Tensor undefined;
  EXPECT_THROW(uniform_(undefined), ValueError);
  try {
    randint(3, 3, {1});
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("randint"), std::string::npos) << e.what();
  }
}
