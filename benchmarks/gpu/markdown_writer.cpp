// The Markdown form of a Report: a header of facts, then one table per part.
#include <cmath>
#include <cstdio>
#include <sstream>

#include "striate/core/memory_stats.h"
#include "writers.h"

namespace striate::bench {
namespace {

constexpr size_t kMaxErrorChars = 160;  // the JSON keeps the whole message

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}
std::string fixed(std::optional<double> v, int decimals) { return v ? fixed(*v, decimals) : "-"; }
std::string percent(std::optional<double> value, double scale, double of) {
  if (!value || !(of > 0)) return "-";
  return fixed(100 * *value * scale / of, 1) + "%";
}

// Milliseconds with about four significant digits.
std::string ms(double v) { return fixed(v, v >= 100 ? 1 : v >= 10 ? 2 : v >= 1 ? 3 : 4); }

std::string error_cell(const std::string& error) {
  std::string e = error.size() > kMaxErrorChars ? error.substr(0, kMaxErrorChars) + "..." : error;
  return markdown_cell("error: " + e);
}

std::string time_cell(const Measurement& m) {
  if (m.ok()) return ms(m.time.median);
  return is_not_a_failure(m.error) ? markdown_cell("n/a: " + m.error) : error_cell(m.error);
}

void header(std::ostringstream& os, const Report& r) {
  const DeviceFacts& d = r.device;
  os << "# Striate kernel benchmarks\n\n| | |\n|---|---|\n";
  os << "| device | " << markdown_cell(d.name) << " (sm_" << d.cc_major << d.cc_minor << ", " << d.sm_count << " SMs, "
     << fixed(d.clock_khz / 1e3, 0) << " MHz, " << format_bytes(d.memory_bytes) << ", L2 " << format_bytes(d.l2_bytes)
     << ") |\n";
  os << "| driver / CUDA runtime | " << markdown_cell(d.driver_release) << " (CUDA "
     << format_cuda_version(d.driver_version) << ") / " << format_cuda_version(d.runtime_version) << " |\n";
  os << "| cuDNN / cuBLAS | " << markdown_cell(d.cudnn_version) << " / " << markdown_cell(d.cublas_version) << " |\n";
  os << "| commit | " << markdown_cell(d.commit) << " |\n| date | " << markdown_cell(d.date) << " |\n";
  os << "| mode | " << r.mode << " |\n";
  os << "| peak f32 | " << fixed(d.peak_f32_flops / 1e12, 1) << " TFLOP/s = " << d.sm_count << " SMs x "
     << fixed(d.clock_khz / 1e3, 0) << " MHz x " << d.fp32_lanes_per_sm
     << " FP32 lanes x 2: the non-tensor-core peak |\n";
  os << "| peak TF32 | ";
  if (d.tf32_flops_per_sm_clock > 0)
    os << fixed(d.peak_tf32_flops / 1e12, 1) << " TFLOP/s = " << d.sm_count << " SMs x " << fixed(d.clock_khz / 1e3, 0)
       << " MHz x " << d.tf32_flops_per_sm_clock << " dense TF32 FLOPs per clock |\n";
  else
    os << "unknown for this GPU |\n";
  os << "| memory floor | ";
  if (d.copy_error.empty())
    os << fixed(d.copy_bytes_per_second / 1e9, 0) << " GB/s: device-to-device copy of "
       << format_bytes(d.copy_buffer_bytes) << " (bytes read + written), median of " << d.copy_time.count << " |\n";
  else
    os << error_cell(d.copy_error) << " |\n";
  os << "\n";
}

void conv_tables(std::ostringstream& os, const Report& r) {
  if (r.conv.empty()) return;
  os << "## Convolutions\n\n"
     << "ratio = cuDNN time / native time (medians): above 1, the native kernel is faster. Native is "
        "kernels::cuda::conv2d_* (its own dispatch), cuDNN is its best algorithm (found once, before timing). "
        "TFLOP/s count 2*N*O*oH*oW*(C/g)*kH*kW per pass. math f32 is true f32 on both sides (cuDNN's FMA "
        "math), % peak of the f32 non-tensor-core peak; tf32 allows TF32 tensor cores on both (the native TF32 "
        "tile, cuDNN's default math), % peak of the TF32 peak. NHWC is channels last for both: NHWC tensors, OHWI "
        "weights.\n\n";
  os << "| suite | case | shape | layout | math | pass | native ms | cuDNN ms | ratio cuDNN/native (>1: native "
        "faster) | native TFLOP/s | native % peak | cuDNN TFLOP/s | cuDNN % peak |\n"
     << "|---|---|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|\n";
  for (const ConvResult& c : r.conv) {
    const double peak = conv_peak_flops(r.device, c.c.params);
    const double flops = conv_flops(c.c.params);
    const auto native = tflops(flops, c.native), library = tflops(flops, c.library);
    os << "| " << c.c.suite << " | " << markdown_cell(c.c.name) << " | " << conv_shape(c.c.params) << " | "
       << layout_name(c.c.params) << " | " << math_name(c.c.params) << " | " << pass_name(c.pass) << " | "
       << time_cell(c.native) << " | " << time_cell(c.library) << " | " << fixed(speed_ratio(c.native, c.library), 2)
       << " | " << fixed(native, 2) << " | " << percent(native, 1e12, peak) << " | " << fixed(library, 2) << " | "
       << percent(library, 1e12, peak) << " |\n";
  }
  os << "\nPer suite, over every pass (ratio cuDNN/native, >1: native faster; target: median >= 0.8 on resnet50 "
        "and vgg16, none below 0.5 without a reason):\n\n"
     << "| suite | layout | math | cases timed | median ratio | min ratio | below 0.5 |\n"
     << "|---|---|---|--:|--:|--:|--:|\n";
  for (const RatioSummary& s : conv_ratio_summaries(r.conv))
    os << "| " << s.suite << " | " << s.layout << " | " << s.math << " | " << s.cases << " | "
       << (s.cases ? fixed(s.median, 2) : "-") << " | " << (s.cases ? fixed(s.min, 2) : "-") << " | " << s.below_half
       << " |\n";
  os << "\n";
}

void gemm_table(std::ostringstream& os, const Report& r) {
  if (r.gemm.empty()) return;
  const double peak = r.device.peak_f32_flops;
  os << "## GEMM (f32, row-major, no TF32)\n\n"
     << "ratio = cuBLAS time / native time (medians): above 1, the native kernel is faster. TFLOP/s count 2*m*n*k.\n\n"
     << "| case | m x n x k | native ms | cuBLAS ms | ratio cuBLAS/native (>1: native faster) | native TFLOP/s | "
        "native % peak | cuBLAS TFLOP/s | cuBLAS % peak |\n"
     << "|---|---|--:|--:|--:|--:|--:|--:|--:|\n";
  for (const GemmResult& g : r.gemm) {
    const double flops = gemm_flops(g.c);
    const auto native = tflops(flops, g.native), library = tflops(flops, g.library);
    os << "| " << markdown_cell(g.c.name) << " | " << g.c.m << " x " << g.c.n << " x " << g.c.k << " | "
       << time_cell(g.native) << " | " << time_cell(g.library) << " | " << fixed(speed_ratio(g.native, g.library), 2)
       << " | " << fixed(native, 2) << " | " << percent(native, 1e12, peak) << " | " << fixed(library, 2) << " | "
       << percent(library, 1e12, peak) << " |\n";
  }
  os << "\n";
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void memory_table(std::ostringstream& os, const Report& r) {
  if (r.memory.empty()) return;
  const double copy = r.device.copy_bytes_per_second;
  os << "## Memory-bound kernels (f32, public ops)\n\n"
     << "GB/s = the bytes counted (the least traffic the op needs, as the last column says) / median time; "
        "% of copy is of the device-to-device copy above (target: 85%). Backward passes time the op's autograd "
        "node alone; the optimizers time step() over ResNet-50's parameter shapes.\n\n"
     << "| kernel | shape | MB counted | ms | GB/s | % of copy | bytes counted |\n|---|---|--:|--:|--:|--:|---|\n";
  for (const MemoryResult& m : r.memory) {
    const auto gbps = gigabytes_per_second(m.spec.bytes, m.time);
    os << "| " << m.spec.name << " | " << shape_text(m.spec.shape) << " | " << fixed(m.spec.bytes / 1e6, 0) << " | "
       << time_cell(m.time) << " | " << fixed(gbps, 0) << " | " << percent(gbps, 1e9, copy) << " | "
       << markdown_cell(m.spec.traffic) << " |\n";
  }
  os << "\n";
}

void allocator_section(std::ostringstream& os, const AllocatorResult& a) {
  os << "## Allocator\n\n";
  if (a.cache_error.empty())
    os << "- allocate + free of a 1 MiB tensor: " << fixed(a.cache_ns, 0) << " ns from the cache (mean of "
       << a.cache_iterations << "; target < 1000 ns), " << fixed(a.device_ns, 0)
       << " ns by cudaMalloc + cudaFree (mean of " << a.device_iterations << ")\n";
  else
    os << "- allocate + free: " << error_cell(a.cache_error) << "\n";
  if (a.training_error.empty()) {
    int64_t total = 0;
    std::string steps;
    for (int64_t n : a.steady_step_device_allocs) {
      total += n;
      steps += (steps.empty() ? "" : ", ") + std::to_string(n);
    }
    os << "- device allocations in a small CNN's training loop on the GPU (conv, relu, pool, linear, cross entropy, "
          "SGD): first step "
       << a.first_step_device_allocs << ", then " << a.steady_step_device_allocs.size() << " steps: " << steps << " ("
       << (total == 0 ? "zero in steady state, as required" : "NOT zero in steady state") << ")\n";
  } else {
    os << "- training loop: " << error_cell(a.training_error) << "\n";
  }
  if (a.resnet_error.empty())
    os << "- ResNet-50 training step at batch " << a.resnet_batch << ": peak allocated "
       << format_bytes(a.first_peak_allocated) << ", peak reserved " << format_bytes(a.first_peak_reserved)
       << " (first step); " << format_bytes(a.steady_peak_allocated) << " / " << format_bytes(a.steady_peak_reserved)
       << " (second step)\n";
  else
    os << "- ResNet-50 step: " << error_cell(a.resnet_error) << "\n";
  os << "\n";
}

void overhead_section(std::ostringstream& os, const OverheadResult& o) {
  os << "## Framework overhead\n\nHost time per launch of relu on " << o.elements << " elements on the GPU: "
     << o.calls << " calls with one synchronize at the end, median of " << o.rounds << " rounds.\n\n"
     << "| framework | µs per op |\n|---|--:|\n";
  os << "| Striate | " << (o.error.empty() ? fixed(o.striate_us, 2) : error_cell(o.error)) << " |\n";
  const std::string torch = "PyTorch eager" + (o.torch_version.empty() ? "" : " " + o.torch_version);
  os << "| " << markdown_cell(torch) << " | "
     << (o.torch_us ? fixed(*o.torch_us, 2) : markdown_cell(o.torch_note.empty() ? "not run" : o.torch_note))
     << " |\n\n";
}

}  // namespace

std::string markdown_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

std::string report_to_markdown(const Report& report) {
  std::ostringstream os;
  header(os, report);
  conv_tables(os, report);
  gemm_table(os, report);
  memory_table(os, report);
  if (report.allocator) allocator_section(os, *report.allocator);
  if (report.overhead) overhead_section(os, *report.overhead);
  if (!report.chart_file.empty() || !report.chart_note.empty())
    os << "Chart of the convolution ratios: " << markdown_cell(report.chart_file)
       << (report.chart_note.empty() ? "" : " (" + markdown_cell(report.chart_note) + ")") << "\n\n";
  if (!report.suites.empty()) {
    double total = 0;
    os << "## Suite durations\n\n| suite | seconds |\n|---|--:|\n";
    for (const SuiteTiming& s : report.suites) {
      os << "| " << s.suite << " | " << fixed(s.seconds, 1) << (s.error.empty() ? "" : " (" + error_cell(s.error) + ")")
         << " |\n";
      total += s.seconds;
    }
    os << "| total | " << fixed(total, 1) << " |\n\n";
  }
  const int64_t failures = failure_count(report);
  if (failures > 0) os << "**" << failures << " timing(s) failed**: see the error cells above.\n";
  return os.str();
}

}  // namespace striate::bench
