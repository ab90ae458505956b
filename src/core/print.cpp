// Printing a tensor exactly as PyTorch's print(tensor) does (torch/_tensor_str.py,
// default print options: precision 4, threshold 1000, edgeitems 3,
// linewidth 80), so that output can be compared with PyTorch's by eye or diff.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "striate/core/autograd.h"
#include "striate/core/tensor.h"

namespace striate {
namespace {

constexpr int kPrecision = 4;
constexpr int64_t kThreshold = 1000;  // more elements than this are summarised
constexpr int64_t kEdgeItems = 3;     // shown at each end of a summarised dim
constexpr int kLineWidth = 80;

// Python's str.format of a float: "nan" and "inf" carry no sign other than
// "-inf", unlike printf's "-nan".
std::string format_double(double v, const char* spec, int precision, int width = 0) {
  std::string s;
  if (std::isnan(v)) {
    s = "nan";
  } else if (std::isinf(v)) {
    s = v < 0 ? "-inf" : "inf";
  } else {
    char buf[512];
    std::snprintf(buf, sizeof buf, spec, precision, v);
    s = buf;
  }
  if (static_cast<int>(s.size()) < width) s.insert(0, width - s.size(), ' ');
  return s;
}
std::string fixed(double v, int precision) { return format_double(v, "%.*f", precision); }
std::string scientific(double v, int width = 0) { return format_double(v, "%.*e", kPrecision, width); }

// The host copy a tensor prints from: floating values as doubles, integers
// (and bools) as int64, row-major.
struct HostValues {
  Shape sizes;
  Shape strides;  // contiguous, in elements
  bool floating = false;
  bool boolean = false;
  std::vector<double> reals;
  std::vector<int64_t> ints;
};

HostValues host_values(const Tensor& t) {
  HostValues v;
  v.sizes = t.sizes();
  v.strides = contiguous_strides(t.sizes());
  v.floating = t.is_floating_point();
  v.boolean = t.dtype() == DType::Bool;
  Tensor plain = t.detach();
  if (v.floating) v.reals = plain.to_vector<double>();
  else v.ints = plain.to_vector<int64_t>();
  return v;
}

// The indices of a dim that are printed: all of them, or the edge items at
// each end when the tensor is summarised.
std::vector<int64_t> shown_indices(int64_t size, bool summarize) {
  std::vector<int64_t> idx;
  if (summarize && size > 2 * kEdgeItems) {
    for (int64_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
    for (int64_t i = size - kEdgeItems; i < size; ++i) idx.push_back(i);
  } else {
    for (int64_t i = 0; i < size; ++i) idx.push_back(i);
  }
  return idx;
}

// The flat indices of every element that will be printed.
void collect_shown(const HostValues& v, size_t dim, int64_t offset, bool summarize, std::vector<int64_t>& out) {
  if (dim == v.sizes.size()) {
    out.push_back(offset);
    return;
  }
  for (int64_t i : shown_indices(v.sizes[dim], summarize))
    collect_shown(v, dim + 1, offset + i * v.strides[dim], summarize, out);
}

// PyTorch's _Formatter: one width and one notation for every printed
// element, chosen from the printed elements alone.
class Formatter {
 public:
  Formatter(const HostValues& v, const std::vector<int64_t>& shown) : v_(v) {
    if (!v.floating) {
      for (int64_t i : shown) max_width_ = std::max(max_width_, static_cast<int>(integer_str(v.ints[i]).size()));
      return;
    }
    std::vector<double> finite;  // nonzero and finite: the values that decide the notation
    for (int64_t i : shown)
      if (std::isfinite(v.reals[i]) && v.reals[i] != 0) finite.push_back(v.reals[i]);
    if (finite.empty()) return;
    double min_abs = std::abs(finite[0]), max_abs = min_abs;
    for (double x : finite) {
      min_abs = std::min(min_abs, std::abs(x));
      max_abs = std::max(max_abs, std::abs(x));
      if (x != std::ceil(x)) int_mode_ = false;
    }
    const bool wide_range = max_abs / min_abs > 1000. || max_abs > 1.e8;
    sci_mode_ = wide_range || (!int_mode_ && min_abs < 1.e-4);
    for (double x : finite) {
      // In int mode a '.' follows each number, to show the dtype is floating.
      const size_t len = sci_mode_   ? scientific(x).size()
                         : int_mode_ ? fixed(x, 0).size() + 1
                                     : fixed(x, kPrecision).size();
      max_width_ = std::max(max_width_, static_cast<int>(len));
    }
  }

  int width() const { return max_width_; }

  std::string format(int64_t flat) const {
    std::string s;
    if (!v_.floating) {
      s = integer_str(v_.ints[flat]);
    } else {
      const double x = v_.reals[flat];
      if (sci_mode_) {
        s = scientific(x, max_width_);
      } else if (int_mode_) {
        s = fixed(x, 0);
        if (std::isfinite(x)) s += '.';
      } else {
        s = fixed(x, kPrecision);
      }
    }
    if (static_cast<int>(s.size()) < max_width_) s.insert(0, max_width_ - s.size(), ' ');
    return s;
  }

 private:
  std::string integer_str(int64_t x) const {
    if (v_.boolean) return x ? "True" : "False";
    return std::to_string(x);
  }

  const HostValues& v_;
  bool int_mode_ = true;
  bool sci_mode_ = false;
  int max_width_ = 1;
};

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

// Appending rather than "[" + s + "]", which trips GCC 12's -Wrestrict.
std::string bracketed(const std::string& inner) {
  std::string out;
  out.reserve(inner.size() + 2);
  out += '[';
  out += inner;
  out += ']';
  return out;
}

// One 1-D row: as many elements per line as fit in the line width.
std::string vector_str(const HostValues& v, int64_t offset, int indent, bool summarize, const Formatter& f) {
  const size_t dim = v.sizes.size() - 1;
  const int64_t size = v.sizes[dim], stride = v.strides[dim];
  const int element_length = f.width() + 2;
  const int per_line = std::max(1, (kLineWidth - indent) / element_length);
  std::vector<std::string> data;
  const bool elide = summarize && size > 2 * kEdgeItems;
  for (int64_t i : shown_indices(size, summarize)) {
    if (elide && i == size - kEdgeItems) data.push_back(" ...");
    data.push_back(f.format(offset + i * stride));
  }
  std::vector<std::string> lines;
  for (size_t i = 0; i < data.size(); i += per_line) {
    const auto line_end = data.begin() + static_cast<std::ptrdiff_t>(std::min(data.size(), i + per_line));
    lines.push_back(join(std::vector<std::string>(data.begin() + static_cast<std::ptrdiff_t>(i), line_end), ", "));
  }
  return bracketed(join(lines, ",\n" + std::string(indent + 1, ' ')));
}

std::string tensor_str(const HostValues& v, size_t dim, int64_t offset, int indent, bool summarize,
                       const Formatter& f) {
  const size_t ndim = v.sizes.size() - dim;  // dims of the sub-tensor printed here
  if (ndim == 0) return f.format(offset);
  if (ndim == 1) return vector_str(v, offset, indent, summarize, f);
  const int64_t size = v.sizes[dim];
  const bool elide = summarize && size > 2 * kEdgeItems;
  std::vector<std::string> slices;
  for (int64_t i : shown_indices(size, summarize)) {
    if (elide && i == size - kEdgeItems) slices.push_back("...");
    slices.push_back(tensor_str(v, dim + 1, offset + i * v.strides[dim], indent + 1, summarize, f));
  }
  std::string separator(1, ',');
  separator.append(ndim - 1, '\n').append(indent + 1, ' ');
  return bracketed(join(slices, separator));
}

// Appends ", suffix" to the closing line, or starts a new line when the
// suffix would pass the line width (PyTorch's _add_suffixes, including its
// count of the last line's length).
std::string add_suffixes(const std::string& body, const std::vector<std::string>& suffixes, int indent) {
  std::string out = body;
  const size_t newline = body.rfind('\n');
  int64_t last_line_len = static_cast<int64_t>(body.size()) -
                          (newline == std::string::npos ? -1 : static_cast<int64_t>(newline)) + 1;
  for (const auto& suffix : suffixes) {
    const auto len = static_cast<int64_t>(suffix.size());
    if (last_line_len + len + 2 > kLineWidth) {
      out += ",\n" + std::string(indent, ' ') + suffix;
      last_line_len = indent + len;
    } else {
      out += ", " + suffix;
      last_line_len += len + 2;
    }
  }
  return out + ")";
}

std::string shape_tuple(const Shape& sizes) {
  std::string s = "(";
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + (sizes.size() == 1 ? ",)" : ")");
}

}  // namespace

std::string Tensor::toString() const {
  if (!defined()) return "[ Tensor (undefined) ]";
  const std::string prefix = "tensor(";
  const int indent = static_cast<int>(prefix.size());
  std::vector<std::string> suffixes;
  if (!is_cpu()) suffixes.push_back("device='" + device().str() + "'");
  const bool default_dtype = dtype() == kFloat || dtype() == kLong || dtype() == kBool;
  std::string body;
  if (numel() == 0) {
    // NumPy-like: the shape is shown unless it is (0,), and the dtype unless
    // it is the default float one (nothing else tells an empty tensor's type).
    if (dim() != 1) suffixes.push_back("size=" + shape_tuple(sizes()));
    if (dtype() != kFloat) suffixes.push_back(std::string("dtype=torch.") + dtype_name(dtype()));
    body = "[]";
  } else {
    if (!default_dtype) suffixes.push_back(std::string("dtype=torch.") + dtype_name(dtype()));
    const HostValues values = host_values(*this);
    const bool summarize = numel() > kThreshold;
    std::vector<int64_t> shown;
    collect_shown(values, 0, 0, summarize, shown);
    const Formatter formatter(values, shown);
    body = tensor_str(values, 0, 0, indent, summarize, formatter);
  }
  if (const auto& fn = grad_fn()) suffixes.push_back("grad_fn=<" + fn->name() + ">");
  else if (requires_grad()) suffixes.push_back("requires_grad=True");
  return add_suffixes(prefix + body, suffixes, indent);
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.toString(); }

}  // namespace striate
