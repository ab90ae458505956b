// CPU pooling kernels. The window bounds along each axis depend only on the
// output position, so they are computed once per call (one span per output
// row and per output column) and shared by every plane; the per-element
// loops then walk the rows of one plane (at a stride of C elements when the
// block is channels-last), plane after plane.
#include "kernels/pooling.h"

#include "kernels/pool_plane.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace striate::kernels::cpu {
namespace {

// Input positions begin, begin + step, ... < end of one output position, and
// for average pooling the window length counted with padding.
struct Span {
  int64_t begin = 0, end = 0;
  int64_t padded_length = 0;
};

// Max pooling: dilated windows, the first in-bounds tap found by stepping.
std::vector<Span> max_spans(int64_t out, int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation) {
  std::vector<Span> spans(out);
  for (int64_t o = 0; o < out; ++o) {
    int64_t start = o * stride - pad;
    const int64_t end = std::min(start + (kernel - 1) * dilation + 1, in);
    if (start < 0) start += (-start + dilation - 1) / dilation * dilation;
    spans[o] = {start, end, 0};
  }
  return spans;
}

// Average pooling: contiguous windows clipped to the padded input for the
// count, then to the input for the sum.
std::vector<Span> avg_spans(int64_t out, int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
  std::vector<Span> spans(out);
  for (int64_t o = 0; o < out; ++o) {
    const int64_t start = o * stride - pad;
    const int64_t end = std::min(start + kernel, in + pad);
    spans[o] = {std::max<int64_t>(start, 0), std::min(end, in), end - start};
  }
  return spans;
}

// Adaptive bins: [floor(o * in / out), ceil((o + 1) * in / out)).
std::vector<Span> adaptive_spans(int64_t out, int64_t in) {
  std::vector<Span> spans(out);
  for (int64_t o = 0; o < out; ++o) {
    const int64_t begin = o * in / out, end = ((o + 1) * in + out - 1) / out;
    spans[o] = {begin, end, end - begin};
  }
  return spans;
}

int64_t avg_divisor(const Span& h, const Span& w, bool count_include_pad, int64_t divisor_override) {
  if (divisor_override != 0) return divisor_override;
  if (count_include_pad) return h.padded_length * w.padded_length;
  return (h.end - h.begin) * (w.end - w.begin);
}

// The maximum over rows/columns of `hs` x `ws` stepping by (dh, dw). A NaN
// wins and a later NaN replaces an earlier one, as PyTorch's CPU kernel does;
// with no element above -inf the first position is reported.
template <typename T>
inline void window_max(const Plane<const T>& in, const Span& hs, const Span& ws, int64_t dh, int64_t dw, T& best,
                       int64_t& best_index) {
  best = -std::numeric_limits<T>::infinity();
  best_index = hs.begin * in.width + ws.begin;
  for (int64_t h = hs.begin; h < hs.end; h += dh)
    for (int64_t w = ws.begin; w < ws.end; w += dw) {
      const T v = in.at(h, w);
      if (v > best || std::isnan(v)) {
        best = v;
        best_index = h * in.width + w;
      }
    }
}

template <typename T>
inline T window_sum(const Plane<const T>& in, const Span& hs, const Span& ws) {
  T sum = 0;
  for (int64_t h = hs.begin; h < hs.end; ++h)
    for (int64_t w = ws.begin; w < ws.end; ++w) sum += in.at(h, w);
  return sum;
}

// Adds `share` to every element of the window.
template <typename T>
inline void window_add(const Plane<T>& gi, const Span& hs, const Span& ws, T share) {
  for (int64_t h = hs.begin; h < hs.end; ++h)
    for (int64_t w = ws.begin; w < ws.end; ++w) gi.at(h, w) += share;
}

template <typename T>
void max_pool2d_typed(const MaxPool2dParams& p) {
  const auto& s = p.shape;
  const auto& k = p.window;
  const auto rows = max_spans(s.out_h, s.in_h, k.kernel_h, k.stride_h, k.pad_h, k.dilation_h);
  const auto cols = max_spans(s.out_w, s.in_w, k.kernel_w, k.stride_w, k.pad_w, k.dilation_w);
  for (int64_t c = 0; c < s.planes; ++c) {
    const auto in = plane_of(static_cast<const T*>(p.input), s, c, s.in_h, s.in_w);
    const auto out = plane_of(static_cast<T*>(p.output), s, c, s.out_h, s.out_w);
    const Plane<int64_t> idx = p.indices ? plane_of(p.indices, s, c, s.out_h, s.out_w) : Plane<int64_t>{};
    for (int64_t oh = 0; oh < s.out_h; ++oh)
      for (int64_t ow = 0; ow < s.out_w; ++ow) {
        T best;
        int64_t best_index;
        window_max(in, rows[oh], cols[ow], k.dilation_h, k.dilation_w, best, best_index);
        out.at(oh, ow) = best;
        if (p.indices) idx.at(oh, ow) = best_index;
      }
  }
}

template <typename T>
void max_pool_backward_typed(const MaxPoolBackwardParams& p) {
  const auto& s = p.shape;
  T* gi_all = static_cast<T*>(p.grad_input);
  std::fill(gi_all, gi_all + s.planes * s.in_h * s.in_w, T(0));
  for (int64_t c = 0; c < s.planes; ++c) {
    const auto go = plane_of(static_cast<const T*>(p.grad_out), s, c, s.out_h, s.out_w);
    const auto idx = plane_of(p.indices, s, c, s.out_h, s.out_w);
    const auto gi = plane_of(gi_all, s, c, s.in_h, s.in_w);
    for (int64_t o = 0; o < s.out_h * s.out_w; ++o) gi.at(idx.at(o)) += go.at(o);
  }
}

template <typename T>
void avg_pool2d_typed(const AvgPool2dParams& p) {
  const auto& s = p.shape;
  const auto& k = p.window;
  const auto rows = avg_spans(s.out_h, s.in_h, k.kernel_h, k.stride_h, k.pad_h);
  const auto cols = avg_spans(s.out_w, s.in_w, k.kernel_w, k.stride_w, k.pad_w);
  for (int64_t c = 0; c < s.planes; ++c) {
    const auto in = plane_of(static_cast<const T*>(p.input), s, c, s.in_h, s.in_w);
    const auto out = plane_of(static_cast<T*>(p.output), s, c, s.out_h, s.out_w);
    for (int64_t oh = 0; oh < s.out_h; ++oh) {
      const Span& hs = rows[oh];
      for (int64_t ow = 0; ow < s.out_w; ++ow) {
        const Span& ws = cols[ow];
        const T sum = window_sum(in, hs, ws);
        // A window lying wholly in the padding averages to 0, as in PyTorch.
        const bool empty = hs.begin >= hs.end || ws.begin >= ws.end;
        out.at(oh, ow) =
            empty ? T(0) : sum / static_cast<T>(avg_divisor(hs, ws, p.count_include_pad, p.divisor_override));
      }
    }
  }
}

template <typename T>
void avg_pool2d_backward_typed(const AvgPool2dBackwardParams& p) {
  const auto& s = p.shape;
  const auto& k = p.window;
  const auto rows = avg_spans(s.out_h, s.in_h, k.kernel_h, k.stride_h, k.pad_h);
  const auto cols = avg_spans(s.out_w, s.in_w, k.kernel_w, k.stride_w, k.pad_w);
  T* gi_all = static_cast<T*>(p.grad_input);
  std::fill(gi_all, gi_all + s.planes * s.in_h * s.in_w, T(0));
  for (int64_t c = 0; c < s.planes; ++c) {
    const auto go = plane_of(static_cast<const T*>(p.grad_out), s, c, s.out_h, s.out_w);
    const auto gi = plane_of(gi_all, s, c, s.in_h, s.in_w);
    for (int64_t oh = 0; oh < s.out_h; ++oh) {
      const Span& hs = rows[oh];
      for (int64_t ow = 0; ow < s.out_w; ++ow) {
        const Span& ws = cols[ow];
        if (hs.begin >= hs.end || ws.begin >= ws.end) continue;
        window_add(gi, hs, ws,
                   go.at(oh, ow) / static_cast<T>(avg_divisor(hs, ws, p.count_include_pad, p.divisor_override)));
      }
    }
  }
}

template <typename T>
void adaptive_avg_pool2d_typed(const AdaptivePool2dParams& p) {
  const auto& s = p.shape;
  const auto rows = adaptive_spans(s.out_h, s.in_h), cols = adaptive_spans(s.out_w, s.in_w);
  for (int64_t c = 0; c < s.planes; ++c) {
    const auto in = plane_of(static_cast<const T*>(p.input), s, c, s.in_h, s.in_w);
    const auto out = plane_of(static_cast<T*>(p.output), s, c, s.out_h, s.out_w);
    for (int64_t oh = 0; oh < s.out_h; ++oh)
      for (int64_t ow = 0; ow < s.out_w; ++ow)
        out.at(oh, ow) = window_sum(in, rows[oh], cols[ow]) /
                         static_cast<T>(rows[oh].padded_length * cols[ow].padded_length);
  }
}

template <typename T>
void adaptive_avg_pool2d_backward_typed(const AdaptiveAvgPool2dBackwardParams& p) {
  const auto& s = p.shape;
  const auto rows = adaptive_spans(s.out_h, s.in_h), cols = adaptive_spans(s.out_w, s.in_w);
  T* gi_all = static_cast<T*>(p.grad_input);
  std::fill(gi_all, gi_all + s.planes * s.in_h * s.in_w, T(0));
  for (int64_t c = 0; c < s.planes; ++c) {
    const auto go = plane_of(static_cast<const T*>(p.grad_out), s, c, s.out_h, s.out_w);
    const auto gi = plane_of(gi_all, s, c, s.in_h, s.in_w);
    for (int64_t oh = 0; oh < s.out_h; ++oh)
      for (int64_t ow = 0; ow < s.out_w; ++ow)
        window_add(gi, rows[oh], cols[ow],
                   go.at(oh, ow) / static_cast<T>(rows[oh].padded_length * cols[ow].padded_length));
  }
}

template <typename T>
void adaptive_max_pool2d_typed(const AdaptivePool2dParams& p) {
  const auto& s = p.shape;
  const auto rows = adaptive_spans(s.out_h, s.in_h), cols = adaptive_spans(s.out_w, s.in_w);
  for (int64_t c = 0; c < s.planes; ++c) {
    const auto in = plane_of(static_cast<const T*>(p.input), s, c, s.in_h, s.in_w);
    const auto out = plane_of(static_cast<T*>(p.output), s, c, s.out_h, s.out_w);
    const Plane<int64_t> idx = p.indices ? plane_of(p.indices, s, c, s.out_h, s.out_w) : Plane<int64_t>{};
    for (int64_t oh = 0; oh < s.out_h; ++oh)
      for (int64_t ow = 0; ow < s.out_w; ++ow) {
        T best;
        int64_t best_index;
        window_max(in, rows[oh], cols[ow], 1, 1, best, best_index);
        out.at(oh, ow) = best;
        if (p.indices) idx.at(oh, ow) = best_index;
      }
  }
}

template <typename F>
void visit_f32_f64(DType t, const char* op, F&& f) {
  if (t == DType::F32) return f.template operator()<float>();
  if (t == DType::F64) return f.template operator()<double>();
  throw DTypeError(detail::concat(op, ": the CPU kernel takes float32 or float64, got ", dtype_name(t)));
}

}  // namespace

void max_pool2d(const MaxPool2dParams& p) {
  visit_f32_f64(p.dtype, "max_pool2d", [&]<typename T>() { max_pool2d_typed<T>(p); });
}
void max_pool_backward(const MaxPoolBackwardParams& p) {
  visit_f32_f64(p.dtype, "max_pool backward", [&]<typename T>() { max_pool_backward_typed<T>(p); });
}
void avg_pool2d(const AvgPool2dParams& p) {
  visit_f32_f64(p.dtype, "avg_pool2d", [&]<typename T>() { avg_pool2d_typed<T>(p); });
}
void avg_pool2d_backward(const AvgPool2dBackwardParams& p) {
  visit_f32_f64(p.dtype, "avg_pool2d backward", [&]<typename T>() { avg_pool2d_backward_typed<T>(p); });
}
void adaptive_avg_pool2d(const AdaptivePool2dParams& p) {
  visit_f32_f64(p.dtype, "adaptive_avg_pool2d", [&]<typename T>() { adaptive_avg_pool2d_typed<T>(p); });
}
void adaptive_avg_pool2d_backward(const AdaptiveAvgPool2dBackwardParams& p) {
  visit_f32_f64(p.dtype, "adaptive_avg_pool2d backward",
                [&]<typename T>() { adaptive_avg_pool2d_backward_typed<T>(p); });
}
void adaptive_max_pool2d(const AdaptivePool2dParams& p) {
  visit_f32_f64(p.dtype, "adaptive_max_pool2d", [&]<typename T>() { adaptive_max_pool2d_typed<T>(p); });
}

}  // namespace striate::kernels::cpu
