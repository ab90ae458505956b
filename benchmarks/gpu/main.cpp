// striate_kernel_bench: every native kernel against cuDNN/cuBLAS and the
// device's limits, on the current GPU. Writes kernel_bench.json,
// kernel_bench.md and a chart of the convolution ratios into --out (after
// every suite, so a run cut short keeps what it measured), and prints the
// Markdown to stdout. Exit status: 0 all timed, 1 some case failed (see the
// error cells), 2 bad arguments or no GPU. See benchmarks/README.md.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "benches.h"
#include "chart.h"
#include "device.h"
#include "options.h"
#include "striate/io/atomic_file.h"
#include "striate/striate.h"
#include "writers.h"

namespace striate::bench {
namespace {

const char* const kJsonName = "kernel_bench.json";
const char* const kMarkdownName = "kernel_bench.md";
const char* const kChartTitle = "striate native vs cudnn, f32 nchw: cudnn time / native time";

std::string default_commit() {
#ifdef STRIATE_GIT_COMMIT
  return STRIATE_GIT_COMMIT;
#else
  return "unknown";
#endif
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  io::write_file_atomically(path.string(), [&](io::AtomicFileWriter& w) { w.write(text); });
}

void write_reports(const Report& report, const std::filesystem::path& out) {
  write_text(out / kJsonName, report_json_text(report));
  write_text(out / kMarkdownName, report_to_markdown(report));
}

// A PNG through the library's image writer when it has libpng, else SVG.
void write_chart(Report& report, const std::filesystem::path& out) {
  const std::vector<Bar> bars = ratio_bars(report.conv);
  if (bars.empty()) return;
  try {
    if (data::built_with_png()) {
      const tools::Canvas canvas = render_ratio_chart(bars, kChartTitle);
      std::vector<uint8_t> pixels = canvas.pixels();
      const Tensor image = from_blob(pixels.data(), {canvas.height(), canvas.width(), 3}, TensorOptions(kByte));
      report.chart_file = "kernel_bench_ratios.png";
      data::write_png((out / report.chart_file).string(), image, data::ImageLayout::HWC);
    } else {
      report.chart_file = "kernel_bench_ratios.svg";
      report.chart_note = "this build of the library has no PNG writer (no libpng), so the chart is SVG";
      write_text(out / report.chart_file, ratio_chart_svg(bars, kChartTitle));
    }
  } catch (const std::exception& e) {
    report.chart_note = std::string("chart not written: ") + e.what();
  }
}

void list_cases(const Options& o) {
  for (const std::string& suite : o.suites) {
    std::cout << suite << ":\n";
    if (is_conv_suite(suite))
      for (const ConvCase& c : in_maths(in_layouts(conv_suite(suite, o.full), o.nchw, o.nhwc), o.f32, o.tf32))
        std::cout << "  " << c.name << "  [" << conv_shape(c.params) << ' ' << layout_name(c.params) << ' '
                  << math_name(c.params) << "]  " << conv_flops(c.params) / 1e9 << " GFLOP a pass\n";
    else if (suite == "gemm")
      for (const GemmCase& c : gemm_cases()) std::cout << "  " << c.name << "  " << gemm_flops(c) / 1e9 << " GFLOP\n";
    else if (suite == "memory")
      for (const MemorySpec& s : in_layouts(memory_suite(), o.nchw, o.nhwc))
        std::cout << "  " << s.name << "  " << s.bytes / 1e6 << " MB\n";
  }
}

// Runs one suite into the report; a suite that throws keeps what it had.
void run_suite(const std::string& suite, const BenchContext& ctx, const Options& o, Report& report) {
  SuiteTiming timing{suite, 0, ""};
  const auto start = std::chrono::steady_clock::now();
  try {
    if (is_conv_suite(suite)) {
      const std::vector<ConvResult> r = run_conv_suite(suite, ctx);
      report.conv.insert(report.conv.end(), r.begin(), r.end());
    } else if (suite == "gemm") {
      report.gemm = run_gemm_suite(ctx);
    } else if (suite == "memory") {
      report.memory = run_memory_suite(ctx);
    } else if (suite == "allocator") {
      report.allocator = run_allocator_suite(ctx);
    } else if (suite == "overhead") {
      OverheadResult overhead = run_overhead_suite(ctx);
      if (o.torch_overhead.empty()) {
        overhead.torch_note = "not run (benchmarks/run.sh runs torch_overhead.py where PyTorch has CUDA)";
      } else {
        std::ifstream in(o.torch_overhead);
        std::stringstream text;
        text << in.rdbuf();
        apply_torch_overhead(overhead, text.str());
      }
      report.overhead = overhead;
    }
    cuda::synchronize();
    cuda::empty_cache();  // each suite starts from an empty cache
  } catch (const std::exception& e) {
    timing.error = e.what();
    std::fprintf(stderr, "[%s] stopped: %s\n", suite.c_str(), e.what());
  }
  timing.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "[%s] %.1f s\n", suite.c_str(), timing.seconds);
  report.suites.push_back(timing);
}

int run(const Options& o) {
  if (!cuda::is_available()) {
    std::fprintf(stderr, "striate_kernel_bench: %s: nothing to measure\n", cuda::unavailable_reason().c_str());
    return 2;
  }
  const std::filesystem::path out(o.out_dir);
  std::filesystem::create_directories(out);
  Report report;
  report.mode = o.mode();
  report.device = query_device_facts(cuda::current_device(), o.commit.empty() ? default_commit() : o.commit);
  const BenchContext ctx{o.policy(), o.full, report.device.l2_bytes, o.nchw, o.nhwc, o.f32, o.tf32};
  {
    const auto start = std::chrono::steady_clock::now();
    measure_copy_bandwidth(report.device, ctx.policy);
    cuda::empty_cache();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.suites.push_back({"copy bandwidth", seconds, ""});  // an error shows in the header
    std::fprintf(stderr, "[copy] %.0f GB/s (%s)\n", report.device.copy_bytes_per_second / 1e9,
                 report.device.copy_error.empty() ? "read + write" : report.device.copy_error.c_str());
  }
  write_reports(report, out);
  for (const std::string& suite : o.suites) {
    run_suite(suite, ctx, o, report);
    write_reports(report, out);
  }
  write_chart(report, out);
  write_reports(report, out);
  std::cout << report_to_markdown(report) << std::flush;
  std::fprintf(stderr, "striate_kernel_bench: wrote %s and %s%s%s in %s\n", kJsonName, kMarkdownName,
               report.chart_file.empty() ? "" : " and ", report.chart_file.c_str(), out.string().c_str());
  return failure_count(report) > 0 ? 1 : 0;
}

}  // namespace
}  // namespace striate::bench

int main(int argc, char** argv) {
  using namespace striate::bench;
  Options options;
  try {
    options = parse_options(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const striate::Error& e) {
    std::cerr << e.what() << "\n" << usage();
    return 2;
  }
  if (options.help) {
    std::cout << usage();
    return 0;
  }
  try {
    if (options.list) {
      list_cases(options);
      return 0;
    }
    return run(options);
  } catch (const std::exception& e) {
    std::cerr << "striate_kernel_bench: " << e.what() << "\n";
    return 1;
  }
}
