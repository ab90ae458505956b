// Pooling against naive loops written here (forward, indices and backward)
// over sweeps of kernel, stride, padding, dilation, ceil_mode,
// count_include_pad and divisor_override, where every invalid combination
// must raise; gradcheck in f64 on a subset; PyTorch reference values; layouts,
// channels-last against NCHW; dtypes and bad arguments.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <tuple>

#include "striate/core/gradcheck.h"
#include "striate/striate.h"
#include "support/npy.h"

using namespace striate;

namespace {

using Pair = std::array<int64_t, 2>;
constexpr double kInf = std::numeric_limits<double>::infinity();

// Distinct values (a shuffled ramp) so that no window has tied maxima, which
// would make finite differences of max pooling meaningless.
Tensor distinct(const Shape& sizes, uint64_t seed, DType dtype = kDouble) {
  const int64_t n = shape_numel(sizes);
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = (static_cast<double>(i) - n / 2.0) / (n / 4.0 + 1);
  uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (int64_t i = n - 1; i > 0; --i) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    std::swap(v[i], v[(s >> 33) % static_cast<uint64_t>(i + 1)]);
  }
  return from_vector(v, sizes, TensorOptions(dtype));
}

void expect_close(const Tensor& actual, const Tensor& expected, double tol, const std::string& what) {
  ASSERT_TRUE(actual.defined()) << what;
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const auto a = actual.to_vector<double>(), e = expected.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(e[i])) {
      EXPECT_TRUE(std::isnan(a[i])) << what << " at " << i << ": expected NaN, got " << a[i];
    } else if (std::isinf(e[i])) {
      EXPECT_EQ(a[i], e[i]) << what << " at " << i;
    } else {
      ASSERT_NEAR(a[i], e[i], tol * (1 + std::abs(e[i]))) << what << " at flat index " << i;
    }
  }
}

Tensor ref(const std::string& c, const std::string& name) {
  return striate::testing::load_npy(striate::testing::reference_path("pooling/" + c + "/" + name + ".npy"));
}

// ---- the naive oracle -------------------------------------------------------------------

struct Config {
  Pair kernel, stride, padding, dilation{1, 1};
  bool default_stride = false;
  bool ceil_mode = false;
  bool count_include_pad = true;
  std::optional<int64_t> divisor;

  std::string str() const {
    return "kernel (" + std::to_string(kernel[0]) + "," + std::to_string(kernel[1]) + ") stride " +
           (default_stride ? "default" : "(" + std::to_string(stride[0]) + "," + std::to_string(stride[1]) + ")") +
           " padding (" + std::to_string(padding[0]) + "," + std::to_string(padding[1]) + ") dilation (" +
           std::to_string(dilation[0]) + "," + std::to_string(dilation[1]) + ") ceil " +
           std::to_string(ceil_mode) + " cip " + std::to_string(count_include_pad) + " divisor " +
           (divisor ? std::to_string(*divisor) : "none");
  }
  Pair effective_stride() const { return default_stride ? kernel : stride; }
};

// Output size in floating point, then PyTorch's ceil_mode correction.
int64_t naive_out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  const double q = static_cast<double>(in + 2 * p - d * (k - 1) - 1) / static_cast<double>(s);
  int64_t out = static_cast<int64_t>(ceil_mode ? std::ceil(q) : std::floor(q)) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

struct Naive {
  bool valid = true;
  Shape out_sizes;
  std::vector<double> y, gx;
  std::vector<int64_t> idx;
};

// Taps of output position o along one axis: input coordinates (may be out of range).
std::vector<int64_t> taps(int64_t o, int64_t k, int64_t s, int64_t p, int64_t d) {
  std::vector<int64_t> t;
  for (int64_t i = 0; i < k; ++i) t.push_back(o * s - p + i * d);
  return t;
}

// Max or average pooling of a contiguous [.., H, W] tensor, and the input
// gradient of sum(y * gout) (gout generated here with the output's shape).
Naive naive_pool(const Tensor& x, const Config& c, bool is_max, const std::function<Tensor(const Shape&)>& make_gout,
                 Tensor* gout_out) {
  Naive r;
  const Pair s = c.effective_stride();
  for (int i = 0; i < 2; ++i)
    if (c.kernel[i] <= 0 || s[i] <= 0 || c.dilation[i] <= 0 || c.padding[i] < 0 || 2 * c.padding[i] > c.kernel[i])
      r.valid = false;
  if (c.divisor && *c.divisor == 0) r.valid = false;
  if (!r.valid) return r;
  const int64_t H = x.size(-2), W = x.size(-1), planes = x.numel() / (H * W);
  const int64_t OH = naive_out_size(H, c.kernel[0], s[0], c.padding[0], c.dilation[0], c.ceil_mode);
  const int64_t OW = naive_out_size(W, c.kernel[1], s[1], c.padding[1], c.dilation[1], c.ceil_mode);
  if (OH < 1 || OW < 1) return r.valid = false, r;
  r.out_sizes = x.sizes();
  r.out_sizes[r.out_sizes.size() - 2] = OH;
  r.out_sizes.back() = OW;
  const Tensor gout = make_gout(r.out_sizes);
  *gout_out = gout;
  const auto xv = x.to_vector<double>(), gv = gout.to_vector<double>();
  r.y.assign(planes * OH * OW, 0);
  r.idx.assign(planes * OH * OW, -1);
  r.gx.assign(xv.size(), 0);
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t o = (pl * OH + oh) * OW + ow;
        const auto hs = taps(oh, c.kernel[0], s[0], c.padding[0], c.dilation[0]);
        const auto ws = taps(ow, c.kernel[1], s[1], c.padding[1], c.dilation[1]);
        double best = -kInf, total = 0;
        int64_t best_at = -1, inside = 0, inside_padded = 0;
        for (int64_t h : hs)
          for (int64_t w : ws) {
            if (h >= -c.padding[0] && h < H + c.padding[0] && w >= -c.padding[1] && w < W + c.padding[1])
              ++inside_padded;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            ++inside;
            const double v = xv[pl * H * W + h * W + w];
            total += v;
            if (best_at < 0 || v > best || std::isnan(v)) {
              best = v;
              best_at = h * W + w;
            }
          }
        if (is_max) {
          if (best_at < 0) return r.valid = false, r;  // a window of padding only
          r.y[o] = best;
          r.idx[o] = best_at;
          r.gx[pl * H * W + best_at] += gv[o];
        } else {
          const double divisor = c.divisor ? *c.divisor : c.count_include_pad ? inside_padded : inside;
          r.y[o] = total / divisor;
          for (int64_t h : hs)
            for (int64_t w : ws)
              if (h >= 0 && h < H && w >= 0 && w < W) r.gx[pl * H * W + h * W + w] += gv[o] / divisor;
        }
      }
  return r;
}

// Adaptive pooling with bins [floor(i * L / O), ceil((i + 1) * L / O)).
Naive naive_adaptive(const Tensor& x, Pair out, bool is_max, const Tensor& gout) {
  Naive r;
  const int64_t H = x.size(-2), W = x.size(-1), planes = x.numel() / (H * W);
  const auto xv = x.to_vector<double>(), gv = gout.to_vector<double>();
  r.y.assign(planes * out[0] * out[1], 0);
  r.idx.assign(r.y.size(), -1);
  r.gx.assign(xv.size(), 0);
  auto lo = [](int64_t i, int64_t in, int64_t o) { return static_cast<int64_t>(std::floor(double(i) * in / o)); };
  auto hi = [](int64_t i, int64_t in, int64_t o) { return static_cast<int64_t>(std::ceil(double(i + 1) * in / o)); };
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t oh = 0; oh < out[0]; ++oh)
      for (int64_t ow = 0; ow < out[1]; ++ow) {
        const int64_t o = (pl * out[0] + oh) * out[1] + ow;
        const int64_t h0 = lo(oh, H, out[0]), h1 = hi(oh, H, out[0]), w0 = lo(ow, W, out[1]), w1 = hi(ow, W, out[1]);
        double best = -kInf, total = 0;
        int64_t best_at = -1;
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) {
            const double v = xv[pl * H * W + h * W + w];
            total += v;
            if (best_at < 0 || v > best || std::isnan(v)) best = v, best_at = h * W + w;
          }
        const double count = static_cast<double>((h1 - h0) * (w1 - w0));
        r.y[o] = is_max ? best : total / count;
        r.idx[o] = best_at;
        if (is_max) {
          r.gx[pl * H * W + best_at] += gv[o];
        } else {
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) r.gx[pl * H * W + h * W + w] += gv[o] / count;
        }
      }
  return r;
}

OptionalExpandingArray<2> stride_arg(const Config& c) {
  if (c.default_stride) return {};
  return ExpandingArray<2>(std::vector<int64_t>{c.stride[0], c.stride[1]});
}
ExpandingArray<2> ea(const Pair& p) { return ExpandingArray<2>(std::vector<int64_t>{p[0], p[1]}); }

std::tuple<Tensor, Tensor> run_max(const Tensor& x, const Config& c) {
  return max_pool2d_with_indices(x, ea(c.kernel), stride_arg(c), ea(c.padding), ea(c.dilation), c.ceil_mode);
}
Tensor run_avg(const Tensor& x, const Config& c) {
  return avg_pool2d(x, ea(c.kernel), stride_arg(c), ea(c.padding), c.ceil_mode, c.count_include_pad, c.divisor);
}

std::vector<Config> max_configs() {
  std::vector<Config> out;
  const std::vector<Pair> kernels{{1, 1}, {2, 2}, {3, 3}, {3, 2}, {2, 4}};
  const std::vector<std::optional<Pair>> strides{std::nullopt, Pair{1, 1}, Pair{2, 2}, Pair{3, 1}, Pair{1, 2}};
  const std::vector<Pair> paddings{{0, 0}, {1, 1}, {1, 0}, {2, 2}};
  const std::vector<Pair> dilations{{1, 1}, {2, 2}, {2, 1}};
  for (const auto& k : kernels)
    for (const auto& s : strides)
      for (const auto& p : paddings)
        for (const auto& d : dilations)
          for (bool ceil_mode : {false, true}) {
            Config c{k, s.value_or(Pair{0, 0}), p, d};
            c.default_stride = !s;
            c.ceil_mode = ceil_mode;
            out.push_back(c);
          }
  return out;
}

std::vector<Config> avg_configs() {
  std::vector<Config> out;
  const std::vector<Pair> kernels{{1, 1}, {2, 2}, {3, 3}, {3, 2}};
  const std::vector<std::optional<Pair>> strides{std::nullopt, Pair{1, 1}, Pair{2, 2}, Pair{3, 1}, Pair{1, 2}};
  const std::vector<Pair> paddings{{0, 0}, {1, 1}, {1, 0}, {2, 2}};
  for (const auto& k : kernels)
    for (const auto& s : strides)
      for (const auto& p : paddings)
        for (bool ceil_mode : {false, true})
          for (bool cip : {true, false})
            for (std::optional<int64_t> div : {std::optional<int64_t>(), std::optional<int64_t>(5)}) {
              if (div && !cip) continue;  // the divisor overrides count_include_pad anyway
              Config c{k, s.value_or(Pair{0, 0}), p};
              c.default_stride = !s;
              c.ceil_mode = ceil_mode;
              c.count_include_pad = cip;
              c.divisor = div;
              out.push_back(c);
            }
  return out;
}

}  // namespace

TEST(Pooling, MaxPool2dMatchesNaiveOverSweep) {
  int checked = 0, rejected = 0;
  for (const Shape& sizes : {Shape{2, 3, 7, 6}, Shape{1, 1, 5, 5}, Shape{2, 5, 4}}) {
    const Tensor x = distinct(sizes, 1);
    for (const Config& c : max_configs()) {
      Tensor gout;
      const Naive want = naive_pool(x, c, true, [&](const Shape& s) { return distinct(s, 2); }, &gout);
      const std::string what = c.str() + " input " + ::testing::PrintToString(sizes);
      if (!want.valid) {
        EXPECT_THROW(run_max(x, c), Error) << what;
        ++rejected;
        continue;
      }
      Tensor xl = x.detach().clone().requires_grad_(true);
      auto [y, idx] = run_max(xl, c);
      expect_close(y, from_vector(want.y, want.out_sizes), 0, what + " y");
      ASSERT_EQ(idx.dtype(), kLong);
      EXPECT_EQ(idx.to_vector<int64_t>(), want.idx) << what;
      y.backward(gout);
      expect_close(xl.grad(), from_vector(want.gx, sizes), 1e-15, what + " gx");
      ++checked;
    }
  }
  EXPECT_GT(checked, 500);
  EXPECT_GT(rejected, 100);
}

TEST(Pooling, AvgPool2dMatchesNaiveOverSweep) {
  int checked = 0;
  for (const Shape& sizes : {Shape{2, 3, 7, 6}, Shape{1, 1, 5, 5}, Shape{2, 5, 4}}) {
    const Tensor x = distinct(sizes, 3);
    for (const Config& c : avg_configs()) {
      Tensor gout;
      const Naive want = naive_pool(x, c, false, [&](const Shape& s) { return distinct(s, 4); }, &gout);
      const std::string what = c.str() + " input " + ::testing::PrintToString(sizes);
      if (!want.valid) {
        EXPECT_THROW(run_avg(x, c), Error) << what;
        continue;
      }
      Tensor xl = x.detach().clone().requires_grad_(true);
      Tensor y = run_avg(xl, c);
      expect_close(y, from_vector(want.y, want.out_sizes), 1e-14, what + " y");
      y.backward(gout);
      expect_close(xl.grad(), from_vector(want.gx, sizes), 1e-14, what + " gx");
      ++checked;
    }
  }
  EXPECT_GT(checked, 400);
}

TEST(Pooling, AdaptiveMatchesNaive) {
  for (const Shape& sizes : {Shape{2, 3, 7, 5}, Shape{1, 2, 3, 4}, Shape{1, 1, 1, 1}, Shape{3, 6, 6}})
    for (const Pair& out : {Pair{1, 1}, Pair{3, 2}, Pair{5, 7}, Pair{4, 4}, Pair{2, 5}}) {
      const Tensor x = distinct(sizes, 5);
      Shape out_sizes = sizes;
      out_sizes[out_sizes.size() - 2] = out[0];
      out_sizes.back() = out[1];
      const Tensor gout = distinct(out_sizes, 6);
      const std::string what = ::testing::PrintToString(sizes) + " -> (" + std::to_string(out[0]) + "," +
                               std::to_string(out[1]) + ")";
      for (bool is_max : {false, true}) {
        const Naive want = naive_adaptive(x, out, is_max, gout);
        Tensor xl = x.detach().clone().requires_grad_(true);
        Tensor y;
        if (is_max) {
          Tensor idx;
          std::tie(y, idx) = adaptive_max_pool2d(xl, ea(out));
          EXPECT_EQ(idx.to_vector<int64_t>(), want.idx) << what;
        } else {
          y = adaptive_avg_pool2d(xl, ea(out));
        }
        expect_close(y, from_vector(want.y, out_sizes), 1e-14, what + (is_max ? " max y" : " avg y"));
        y.backward(gout);
        expect_close(xl.grad(), from_vector(want.gx, sizes), 1e-14, what + (is_max ? " max gx" : " avg gx"));
      }
    }
}

TEST(Pooling, OneDimensionalFormsMatchNaive) {
  for (const Shape& sizes : {Shape{2, 3, 11}, Shape{3, 8}}) {
    const Tensor x = distinct(sizes, 7);
    // The 2-D oracle on [.., 1, L] with a one-row window.
    Shape sizes2 = sizes;
    sizes2.insert(sizes2.end() - 1, 1);
    const Tensor x2 = x.reshape(sizes2);
    for (int64_t k : {1, 2, 3, 4})
      for (std::optional<int64_t> s : {std::optional<int64_t>(), std::optional<int64_t>(1), std::optional<int64_t>(3)})
        for (int64_t p : {0, 1, 2})
          for (int64_t d : {1, 2})
            for (bool ceil_mode : {false, true}) {
              Config c{{1, k}, {1, s.value_or(0)}, {0, p}, {1, d}};
              c.default_stride = !s;
              c.ceil_mode = ceil_mode;
              const OptionalExpandingArray<1> stride1 = s ? OptionalExpandingArray<1>(*s) : OptionalExpandingArray<1>();
              Tensor gout;
              const std::string what = "1-D " + c.str();
              const Naive want = naive_pool(x2, c, true, [&](const Shape& sh) { return distinct(sh, 8); }, &gout);
              if (!want.valid) {
                EXPECT_THROW(max_pool1d_with_indices(x, k, stride1, p, d, ceil_mode), Error) << what;
              } else {
                Tensor xl = x.detach().clone().requires_grad_(true);
                auto [y, idx] = max_pool1d_with_indices(xl, k, stride1, p, d, ceil_mode);
                Shape want_sizes = want.out_sizes;
                want_sizes.erase(want_sizes.end() - 2);
                expect_close(y, from_vector(want.y, want_sizes), 0, what + " max y");
                EXPECT_EQ(idx.to_vector<int64_t>(), want.idx) << what;
                y.backward(gout.reshape(want_sizes));
                expect_close(xl.grad(), from_vector(want.gx, sizes), 1e-15, what + " max gx");
                EXPECT_EQ(max_pool1d(x, k, stride1, p, d, ceil_mode).sizes(), want_sizes);
              }
              if (d != 1) continue;
              for (bool cip : {true, false}) {
                c.count_include_pad = cip;
                const Naive avg = naive_pool(x2, c, false, [&](const Shape& sh) { return distinct(sh, 9); }, &gout);
                if (!avg.valid) {
                  EXPECT_THROW(avg_pool1d(x, k, stride1, p, ceil_mode, cip), Error) << what;
                  continue;
                }
                Tensor xl = x.detach().clone().requires_grad_(true);
                Tensor y = avg_pool1d(xl, k, stride1, p, ceil_mode, cip);
                Shape want_sizes = avg.out_sizes;
                want_sizes.erase(want_sizes.end() - 2);
                expect_close(y, from_vector(avg.y, want_sizes), 1e-14, what + " avg y");
                y.backward(gout.reshape(want_sizes));
                expect_close(xl.grad(), from_vector(avg.gx, sizes), 1e-14, what + " avg gx");
              }
            }
    for (int64_t out : {1, 3, 4, 13}) {
      Shape out2 = sizes2;
      out2.back() = out;
      const Tensor gout = distinct(out2, 10);
      for (bool is_max : {false, true}) {
        const Naive want = naive_adaptive(x2, {1, out}, is_max, gout);
        Shape want_sizes = out2;
        want_sizes.erase(want_sizes.end() - 2);
        Tensor xl = x.detach().clone().requires_grad_(true);
        Tensor y = is_max ? std::get<0>(adaptive_max_pool1d(xl, out)) : adaptive_avg_pool1d(xl, out);
        expect_close(y, from_vector(want.y, want_sizes), 1e-14, "adaptive 1-D y");
        y.backward(gout.reshape(want_sizes));
        expect_close(xl.grad(), from_vector(want.gx, sizes), 1e-14, "adaptive 1-D gx");
      }
    }
  }
}

TEST(Pooling, Gradcheck) {
  const Tensor x0 = distinct({1, 2, 5, 6}, 11);
  int n = 0;
  const auto mc = max_configs();
  for (size_t i = 0; i < mc.size(); i += 13) {
    Tensor gout;
    if (!naive_pool(x0, mc[i], true, [](const Shape& s) { return zeros(s); }, &gout).valid) continue;
    Tensor x = x0.clone().requires_grad_(true);
    EXPECT_TRUE(gradcheck([&](const TensorList& in) { return std::get<0>(run_max(in[0], mc[i])); }, {x}))
        << mc[i].str();
    ++n;
  }
  const auto ac = avg_configs();
  for (size_t i = 0; i < ac.size(); i += 11) {
    Tensor gout;
    if (!naive_pool(x0, ac[i], false, [](const Shape& s) { return zeros(s); }, &gout).valid) continue;
    Tensor x = x0.clone().requires_grad_(true);
    EXPECT_TRUE(gradcheck([&](const TensorList& in) { return run_avg(in[0], ac[i]); }, {x})) << ac[i].str();
    ++n;
  }
  EXPECT_GT(n, 40);
  for (const Pair& out : {Pair{1, 1}, Pair{3, 4}, Pair{7, 4}}) {
    Tensor x = x0.clone().requires_grad_(true);
    EXPECT_TRUE(gradcheck([&](const TensorList& in) { return adaptive_avg_pool2d(in[0], ea(out)); }, {x}));
    EXPECT_TRUE(gradcheck([&](const TensorList& in) { return std::get<0>(adaptive_max_pool2d(in[0], ea(out))); }, {x}));
  }
  // Unbatched, a transposed (non-contiguous) input, and the 1-D forms.
  Tensor xt = distinct({2, 6, 5}, 12).transpose(1, 2).requires_grad_(true);
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return max_pool2d(in[0], {3, 2}, {2, 1}, {1, 0}, 1, true); }, {xt}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return avg_pool2d(in[0], 3, 2, 1, true, false); }, {xt}));
  Tensor x1 = distinct({2, 2, 9}, 13).requires_grad_(true);
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return max_pool1d(in[0], 3, 2, 1, 2); }, {x1}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return avg_pool1d(in[0], 4, 3, 2, true, false); }, {x1}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return adaptive_avg_pool1d(in[0], 4); }, {x1}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return std::get<0>(adaptive_max_pool1d(in[0], 5)); }, {x1}));
}

TEST(Pooling, MatchesPyTorch) {
  using Op = std::function<std::tuple<Tensor, Tensor>(const Tensor&)>;
  auto values = [](std::function<Tensor(const Tensor&)> f) -> Op {
    return [f](const Tensor& x) { return std::make_tuple(f(x), Tensor()); };
  };
  const std::vector<std::pair<std::string, Op>> table = {
      {"max2d_k3s2p1", [](const Tensor& x) { return max_pool2d_with_indices(x, 3, 2, 1); }},
      {"max2d_k2_default_stride", [](const Tensor& x) { return max_pool2d_with_indices(x, 2); }},
      {"max2d_rect_k32_s31_p10", [](const Tensor& x) { return max_pool2d_with_indices(x, {3, 2}, {3, 1}, {1, 0}); }},
      {"max2d_k3_s12_p1_d2_ceil", [](const Tensor& x) { return max_pool2d_with_indices(x, 3, {1, 2}, 1, 2, true); }},
      {"max2d_ceil_drops_last_window", [](const Tensor& x) { return max_pool2d_with_indices(x, 3, 3, 1, 1, true); }},
      {"max2d_unbatched", [](const Tensor& x) { return max_pool2d_with_indices(x, 2, 1); }},
      {"max2d_ties_nan_inf", [](const Tensor& x) { return max_pool2d_with_indices(x, 2, 1); }},
      {"max2d_alexnet_k3s2", [](const Tensor& x) { return max_pool2d_with_indices(x, 3, 2); }},
      {"max1d_k3s2p1d2", [](const Tensor& x) { return max_pool1d_with_indices(x, 3, 2, 1, 2); }},
      {"max1d_k2_ceil", [](const Tensor& x) { return max_pool1d_with_indices(x, 2, 2, 0, 1, true); }},
      {"avg2d_k3s2p1", values([](const Tensor& x) { return avg_pool2d(x, 3, 2, 1); })},
      {"avg2d_k3s2p1_exclude_pad", values([](const Tensor& x) { return avg_pool2d(x, 3, 2, 1, false, false); })},
      {"avg2d_rect_k32_s31_p11_ceil_exclude_pad",
       values([](const Tensor& x) { return avg_pool2d(x, {3, 2}, {3, 1}, 1, true, false); })},
      {"avg2d_k3s2p1_ceil_divisor5", values([](const Tensor& x) { return avg_pool2d(x, 3, 2, 1, true, true, 5); })},
      {"avg2d_unbatched_k2", values([](const Tensor& x) { return avg_pool2d(x, 2); })},
      {"avg2d_ceil_drops_last_window", values([](const Tensor& x) { return avg_pool2d(x, 3, 3, 1, true); })},
      {"avg2d_s12_ceil", values([](const Tensor& x) { return avg_pool2d(x, 2, {1, 2}, 0, true); })},
      {"avg1d_k3s2p1_ceil_exclude_pad", values([](const Tensor& x) { return avg_pool1d(x, 3, 2, 1, true, false); })},
      {"adaptive_avg2d_3x2", values([](const Tensor& x) { return adaptive_avg_pool2d(x, {3, 2}); })},
      {"adaptive_avg2d_1x1", values([](const Tensor& x) { return adaptive_avg_pool2d(x, 1); })},
      {"adaptive_avg2d_up_5x7", values([](const Tensor& x) { return adaptive_avg_pool2d(x, {5, 7}); })},
      {"adaptive_avg2d_unbatched", values([](const Tensor& x) { return adaptive_avg_pool2d(x, {4, 3}); })},
      {"adaptive_max2d_3x2", [](const Tensor& x) { return adaptive_max_pool2d(x, {3, 2}); }},
      {"adaptive_max2d_up_5x7", [](const Tensor& x) { return adaptive_max_pool2d(x, {5, 7}); }},
      {"adaptive_max2d_ties_nan_inf", [](const Tensor& x) { return adaptive_max_pool2d(x, {2, 3}); }},
      {"adaptive_avg1d_4", values([](const Tensor& x) { return adaptive_avg_pool1d(x, 4); })},
      {"adaptive_max1d_3", [](const Tensor& x) { return adaptive_max_pool1d(x, 3); }},
  };
  for (const auto& [name, op] : table) {
    Tensor x = ref(name, "x").requires_grad_(true);
    auto [y, idx] = op(x);
    expect_close(y, ref(name, "y"), 1e-14, name + " y");
    if (idx.defined()) EXPECT_EQ(idx.to_vector<int64_t>(), ref(name, "idx").to_vector<int64_t>()) << name;
    y.backward(ref(name, "gout"));
    expect_close(x.grad(), ref(name, "gx"), 1e-14, name + " gx");
  }
}

// The channels-last kernels (planes interleaved pixel by pixel) against the
// NCHW ones: every pooling op over kernels, strides, paddings, dilations,
// ceil_mode and the averaging rules, forward, indices and backward, bit for
// bit (each plane is computed in the same order in either layout), with
// upstream gradients in both layouts.
TEST(Pooling, ChannelsLastMatchesNchwOverSweep) {
  using Op = std::function<std::tuple<Tensor, Tensor>(const Tensor&)>;
  std::vector<std::pair<std::string, Op>> ops;
  for (const Pair& k : {Pair{1, 1}, Pair{2, 2}, Pair{3, 3}, Pair{3, 2}})
    for (int64_t st : {1, 2})
      for (int64_t pad : {0, 1})
        for (bool ceil_mode : {false, true}) {
          if (pad > std::min(k[0], k[1]) / 2) continue;
          const std::string at = "kernel " + std::to_string(k[0]) + "x" + std::to_string(k[1]) + " stride " +
                                 std::to_string(st) + " pad " + std::to_string(pad) + (ceil_mode ? " ceil" : "");
          for (int64_t d : {1, 2})
            ops.emplace_back("max " + at + " dilation " + std::to_string(d), [=](const Tensor& t) {
              return max_pool2d_with_indices(t, {k[0], k[1]}, st, pad, d, ceil_mode);
            });
          for (bool include_pad : {true, false})
            for (std::optional<int64_t> divisor : {std::optional<int64_t>(), std::optional<int64_t>(5)})
              ops.emplace_back("avg " + at + (include_pad ? " include pad" : "") + (divisor ? " divisor 5" : ""),
                               [=](const Tensor& t) {
                                 return std::tuple{
                                     avg_pool2d(t, {k[0], k[1]}, st, pad, ceil_mode, include_pad, divisor), Tensor()};
                               });
        }
  for (const Pair& out : {Pair{3, 4}, Pair{4, 3}, Pair{1, 1}, Pair{8, 9}}) {
    const std::string at = std::to_string(out[0]) + "x" + std::to_string(out[1]);
    ops.emplace_back("adaptive avg " + at,
                     [=](const Tensor& t) { return std::tuple{adaptive_avg_pool2d(t, {out[0], out[1]}), Tensor()}; });
    ops.emplace_back("adaptive max " + at, [=](const Tensor& t) { return adaptive_max_pool2d(t, {out[0], out[1]}); });
  }
  const Tensor x = distinct({2, 5, 7, 6}, 20);
  int checked = 0;
  for (const auto& [name, op] : ops) {
    SCOPED_TRACE(name);
    Tensor a = x.detach().clone().requires_grad_(true);
    Tensor b = x.detach().contiguous(MemoryFormat::ChannelsLast).requires_grad_(true);
    ASSERT_TRUE(b.is_contiguous(MemoryFormat::ChannelsLast));
    auto [ya, ia] = op(a);
    auto [yb, ib] = op(b);
    EXPECT_TRUE(yb.is_contiguous(MemoryFormat::ChannelsLast));
    EXPECT_EQ(yb.to_vector<double>(), ya.to_vector<double>());
    if (ia.defined()) {
      EXPECT_TRUE(ib.is_contiguous(MemoryFormat::ChannelsLast));
      EXPECT_EQ(ib.to_vector<int64_t>(), ia.to_vector<int64_t>());
    }
    const Tensor g = distinct(ya.sizes(), 21);
    ya.backward(g);
    yb.backward(checked % 2 ? g : g.contiguous(MemoryFormat::ChannelsLast));
    EXPECT_TRUE(b.grad().is_contiguous(MemoryFormat::ChannelsLast));
    EXPECT_EQ(b.grad().to_vector<double>(), a.grad().to_vector<double>());
    ++checked;
  }
  EXPECT_GT(checked, 100);
}

TEST(Pooling, DTypesAndEmptyBatch) {
  const Tensor x = distinct({2, 3, 7, 6}, 20);
  const Tensor cl = x.contiguous(MemoryFormat::ChannelsLast);
  const std::vector<std::pair<std::string, std::function<Tensor(const Tensor&)>>> ops = {
      {"max", [](const Tensor& t) { return max_pool2d(t, 3, 2, 1); }},
      {"avg", [](const Tensor& t) { return avg_pool2d(t, {3, 2}, {2, 1}, {1, 0}, true, false); }},
      {"adaptive avg", [](const Tensor& t) { return adaptive_avg_pool2d(t, {3, 4}); }},
      {"adaptive max", [](const Tensor& t) { return std::get<0>(adaptive_max_pool2d(t, {4, 3})); }},
  };
  for (const auto& [name, op] : ops)
    for (DType t : {kFloat, kHalf, kBFloat16})
      for (const Tensor& input : {x, cl}) {
        Tensor xt = input.to(t).requires_grad_(true);
        Tensor yt = op(xt);
        EXPECT_EQ(yt.dtype(), t) << name;
        EXPECT_EQ(yt.suggest_memory_format(), input.suggest_memory_format()) << name;
        expect_close(yt.to(kDouble), op(x.to(t).to(kDouble)), t == kFloat ? 1e-6 : t == kHalf ? 2e-3 : 2e-2,
                     name + " " + dtype_name(t));
        sum(yt).backward();
        EXPECT_EQ(xt.grad().dtype(), t) << name;
        EXPECT_EQ(xt.grad().suggest_memory_format(), input.suggest_memory_format()) << name;
      }
  auto [v, i] = max_pool2d_with_indices(cl, 2);
  EXPECT_TRUE(i.is_contiguous(MemoryFormat::ChannelsLast));
  EXPECT_EQ(i.to_vector<int64_t>(), std::get<1>(max_pool2d_with_indices(x, 2)).to_vector<int64_t>());
  // A batch of zero samples gives an empty result.
  EXPECT_EQ(max_pool2d(empty({0, 3, 8, 8}), 2).sizes(), (Shape{0, 3, 4, 4}));
  EXPECT_EQ(avg_pool2d(empty({0, 3, 8, 8}), 2).sizes(), (Shape{0, 3, 4, 4}));
  EXPECT_EQ(adaptive_avg_pool2d(empty({0, 3, 8, 8}), 2).sizes(), (Shape{0, 3, 2, 2}));
  // Overlapping windows sum their gradients where one element is the max of several.
  Tensor peak = zeros({1, 1, 4, 4}, TensorOptions(kDouble));
  peak.fill_(-1.0);
  Tensor center = peak.narrow(2, 1, 1).narrow(3, 1, 1);
  center.fill_(5.0);
  peak.requires_grad_(true);
  sum(max_pool2d(peak, 3, 1, 1)).backward();
  EXPECT_EQ(peak.grad().to_vector<double>()[5], 9.0);  // the max of all 9 windows around it
}

TEST(Pooling, BadArguments) {
  const Tensor x = distinct({1, 2, 6, 6}, 30);
  // Wrong rank.
  EXPECT_THROW(max_pool2d(distinct({6, 6}, 31), 2), ShapeError);
  EXPECT_THROW(max_pool2d(distinct({1, 1, 2, 6, 6}, 32), 2), ShapeError);
  EXPECT_THROW(max_pool1d(x, 2), ShapeError);
  EXPECT_THROW(avg_pool1d(distinct({6}, 33), 2), ShapeError);
  EXPECT_THROW(adaptive_avg_pool2d(distinct({6, 6}, 34), 2), ShapeError);
  EXPECT_THROW(adaptive_max_pool1d(x, 2), ShapeError);
  // Zero-sized non-batch dims.
  EXPECT_THROW(max_pool2d(empty({1, 0, 4, 4}), 2), ShapeError);
  // Kernel larger than the padded input.
  EXPECT_THROW(max_pool2d(x, 7), ShapeError);
  EXPECT_THROW(avg_pool2d(x, {3, 9}, 1, 1), ShapeError);
  EXPECT_THROW(max_pool2d(x, 3, 1, 0, 3), ShapeError);  // dilation 3: the window spans 7
  // Zero or negative arguments.
  EXPECT_THROW(max_pool2d(x, 2, 0), ValueError);
  EXPECT_THROW(avg_pool2d(x, 2, {1, 0}), ValueError);
  EXPECT_THROW(max_pool2d(x, 0), ValueError);
  EXPECT_THROW(max_pool2d(x, 2, 1, -1), ValueError);
  EXPECT_THROW(max_pool2d(x, 2, 1, 0, 0), ValueError);
  EXPECT_THROW(max_pool1d(distinct({2, 8}, 35), 2, 0), ValueError);
  // Padding more than half the kernel.
  EXPECT_THROW(max_pool2d(x, 3, 1, 2), ValueError);
  EXPECT_THROW(avg_pool2d(x, {2, 4}, 1, {2, 1}), ValueError);
  EXPECT_THROW(avg_pool2d(x, 2, 2, 0, false, true, 0), ValueError);  // divisor_override 0
  EXPECT_THROW(adaptive_avg_pool2d(x, {-1, 2}), ValueError);
  // A dilated window that steps over the whole input.
  EXPECT_THROW(max_pool2d(distinct({1, 1, 2, 2}, 36), 2, 1, 1, 3), ValueError);
  EXPECT_THROW(max_pool2d(x.to(kLong), 2), DTypeError);
  EXPECT_THROW(max_pool2d(Tensor(), 2), Error);
  try {
    max_pool2d(x, 3, 1, 0, 3);
    FAIL();
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("max_pool2d"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[6, 6]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("too small"), std::string::npos) << msg;
  }
  try {
    max_pool1d(distinct({2, 8}, 37), 2, 1, 2);
    FAIL();
  } catch (const ValueError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("max_pool1d: padding should be at most half of kernel_size, got padding [2] with kernel_size [2]"),
              std::string::npos)
        << msg;
  }
}
