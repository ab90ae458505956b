#include "report.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "striate/io/json.h"

namespace striate::bench {
namespace {

int64_t failures_in(const Measurement& m) { return !m.error.empty() && !is_not_a_failure(m.error) ? 1 : 0; }

}  // namespace

bool is_not_a_failure(const std::string& error) {
  return error.find(kNotInBuild) != std::string::npos || error == kLibraryFellBack;
}

std::optional<double> speed_ratio(const Measurement& native, const Measurement& library) {
  if (!native.ok() || !library.ok() || !(native.time.median > 0)) return std::nullopt;
  return library.time.median / native.time.median;
}

std::optional<double> tflops(double flops, const Measurement& m) {
  if (!m.ok() || !(m.time.median > 0)) return std::nullopt;
  return flops / (m.time.median * 1e-3) / 1e12;
}

std::optional<double> gigabytes_per_second(int64_t bytes, const Measurement& m) {
  if (!m.ok() || !(m.time.median > 0)) return std::nullopt;
  return static_cast<double>(bytes) / (m.time.median * 1e-3) / 1e9;
}

std::string parse_driver_release(const std::string& line) {
  const std::string marker = "Kernel Module";
  const size_t at = line.find(marker);
  if (at == std::string::npos) return "unknown";
  // The first word after the marker that starts with a digit: the open
  // module's line has "for x86_64" in between.
  std::istringstream words(line.substr(at + marker.size()));
  for (std::string word; words >> word;)
    if (std::isdigit(static_cast<unsigned char>(word[0])) && word.find('.') != std::string::npos) return word;
  return "unknown";
}

std::string format_cuda_version(int version) {
  if (version <= 0) return "unknown";
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

std::string format_cudnn_version(int64_t version) {
  if (version <= 0) return "unknown";
  const int64_t scale = version >= 10000 ? 10000 : 1000;
  return std::to_string(version / scale) + "." + std::to_string(version % scale / 100) + "." +
         std::to_string(version % 100);
}

int fp32_lanes_per_sm(int cc_major, int cc_minor) {
  if (cc_major <= 0) return 0;
  if ((cc_major == 6 && cc_minor == 0) || cc_major == 7 || (cc_major == 8 && cc_minor == 0)) return 64;
  return 128;
}

double peak_f32_flops(int sm_count, int clock_khz, int lanes_per_sm) {
  return static_cast<double>(sm_count) * clock_khz * 1e3 * lanes_per_sm * 2;
}

int tf32_flops_per_sm_clock(int cc_major, int cc_minor) {
  if (cc_major == 8) return cc_minor == 0 ? 1024 : 256;
  if (cc_major == 9 && cc_minor == 0) return 2048;
  return 0;
}

double conv_peak_flops(const DeviceFacts& d, const kernels::ConvParams& p) {
  return p.allow_tf32 ? d.peak_tf32_flops : d.peak_f32_flops;
}

std::vector<RatioSummary> conv_ratio_summaries(const std::vector<ConvResult>& results) {
  std::vector<RatioSummary> out;
  std::vector<std::vector<double>> ratios;
  for (const ConvResult& r : results) {
    const std::string layout = layout_name(r.c.params), math = math_name(r.c.params);
    auto it = std::find_if(out.begin(), out.end(), [&](const RatioSummary& s) {
      return s.suite == r.c.suite && s.layout == layout && s.math == math;
    });
    if (it == out.end()) {
      out.push_back({r.c.suite, layout, math});
      ratios.emplace_back();
      it = out.end() - 1;
    }
    if (const auto ratio = speed_ratio(r.native, r.library)) ratios[it - out.begin()].push_back(*ratio);
  }
  for (size_t i = 0; i < out.size(); ++i) {
    const std::vector<double>& v = ratios[i];
    out[i].cases = static_cast<int64_t>(v.size());
    out[i].below_half = std::count_if(v.begin(), v.end(), [](double x) { return x < 0.5; });
    out[i].median = median_of(v);
    out[i].min = v.empty() ? 0 : *std::min_element(v.begin(), v.end());
  }
  return out;
}

void apply_torch_overhead(OverheadResult& o, const std::string& json_text) {
  try {
    const io::Json j = io::parse_json(json_text);
    if (!j.is_object()) throw ValueError("not a JSON object");
    if (const io::Json* e = j.find("error"); e != nullptr && e->is_string()) {
      o.torch_note = e->as_string();
      return;
    }
    const io::Json* us = j.find("us_per_op");
    if (us == nullptr || !us->is_number()) throw ValueError("no us_per_op");
    o.torch_us = us->as_double();
    if (const io::Json* v = j.find("torch_version"); v != nullptr && v->is_string()) o.torch_version = v->as_string();
  } catch (const Error& e) {
    o.torch_note = std::string("unreadable torch_overhead.py output: ") + e.what();
  }
}

int64_t failure_count(const Report& report) {
  int64_t n = 0;
  for (const ConvResult& r : report.conv) n += failures_in(r.native) + failures_in(r.library);
  for (const GemmResult& r : report.gemm) n += failures_in(r.native) + failures_in(r.library);
  for (const MemoryResult& r : report.memory) n += failures_in(r.time);
  if (report.allocator) {
    const AllocatorResult& a = *report.allocator;
    n += !a.cache_error.empty() + !a.training_error.empty() + !a.resnet_error.empty();
  }
  if (report.overhead) n += !report.overhead->error.empty();
  if (!report.device.copy_error.empty()) ++n;
  for (const SuiteTiming& s : report.suites) n += !s.error.empty();
  return n;
}

}  // namespace striate::bench
