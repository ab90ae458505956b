// The kernel benchmarks' report writers: JSON that parses back with every
// figure, Markdown tables that state their conventions, and the ratio chart.
#include <gtest/gtest.h>

#include <string>

#include "chart.h"
#include "striate/io/json.h"
#include "writers.h"

namespace striate::bench {
namespace {

Measurement timed(double median_ms) {
  Measurement m;
  m.time = summarize({median_ms, median_ms * 1.5, median_ms * 0.9});
  return m;
}

Measurement failed(const std::string& why) {
  Measurement m;
  m.error = why;
  return m;
}

// A small report with one of everything, some of it failed.
Report sample_report() {
  Report r;
  DeviceFacts& d = r.device;
  d.name = "NVIDIA H100 80GB HBM3";
  d.cc_major = 9;
  d.sm_count = 132;
  d.clock_khz = 1'980'000;
  d.memory_bytes = int64_t{80} << 30;
  d.l2_bytes = int64_t{50} << 20;
  d.driver_version = 12040;
  d.runtime_version = 12040;
  d.driver_release = "550.54.15";
  d.cudnn_version = "9.1.0";
  d.cublas_version = "12.4.5";
  d.commit = "abc1234";
  d.date = "2025-01-01 12:00 UTC";
  d.fp32_lanes_per_sm = 128;
  d.peak_f32_flops = peak_f32_flops(132, 1'980'000, 128);
  d.tf32_flops_per_sm_clock = 2048;
  d.peak_tf32_flops = 132 * 1.98e9 * 2048;
  d.copy_buffer_bytes = int64_t{1} << 30;
  d.copy_time = summarize({0.8});
  d.copy_bytes_per_second = 2.0 * (int64_t{1} << 30) / 0.8e-3;

  const std::vector<ConvCase> resnet = conv_suite("resnet50");
  r.conv.push_back({resnet[0], ConvPass::Forward, timed(2), timed(1)});
  r.conv.push_back({resnet[0], ConvPass::GradInput, timed(1), timed(1.25)});
  r.conv.push_back({resnet[1], ConvPass::GradWeight, failed("kernel | launch failed\nat line 3"), timed(1)});
  r.conv.push_back({in_layouts({resnet[0]}, false, true)[0], ConvPass::Forward, timed(1), timed(1.5)});
  r.conv.push_back({in_maths({resnet[0]}, false, true)[0], ConvPass::Forward, timed(0.5), timed(0.25)});
  r.gemm.push_back({gemm_cases()[0], timed(0.1), timed(0.05)});
  r.memory.push_back({memory_suite()[0], timed(0.25)});
  r.memory.push_back({memory_suite()[1], failed("out of memory")});
  AllocatorResult a;
  a.cache_ns = 450;
  a.cache_iterations = 100000;
  a.device_ns = 60000;
  a.device_iterations = 1000;
  a.first_step_device_allocs = 12;
  a.steady_step_device_allocs = std::vector<int64_t>(10, 0);
  a.resnet_batch = 32;
  a.first_peak_allocated = a.steady_peak_allocated = int64_t{5} << 30;
  a.first_peak_reserved = a.steady_peak_reserved = int64_t{6} << 30;
  r.allocator = a;
  OverheadResult o;
  o.elements = 1024;
  o.calls = 10000;
  o.rounds = 3;
  o.striate_us = 4.5;
  o.torch_us = 6.0;
  o.torch_version = "2.5.1";
  r.overhead = o;
  r.suites = {{"resnet50", 12.5, ""}, {"gemm", 3.0, ""}};
  return r;
}

const io::Json& member(const io::Json& j, const char* key) {
  const io::Json* m = j.find(key);
  EXPECT_NE(m, nullptr) << key;
  static const io::Json null;
  return m ? *m : null;
}

TEST(BenchJson, ParsesBackWithTheDeviceAndEveryCase) {
  const Report r = sample_report();
  const io::Json j = io::parse_json(report_json_text(r));
  const io::Json& device = member(j, "device");
  EXPECT_EQ(member(device, "name").as_string(), "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(member(device, "driver").as_string(), "550.54.15");
  EXPECT_EQ(member(device, "cuda_runtime").as_string(), "12.4");
  EXPECT_EQ(member(device, "cudnn").as_string(), "9.1.0");
  EXPECT_EQ(member(device, "cublas").as_string(), "12.4.5");
  EXPECT_EQ(member(device, "commit").as_string(), "abc1234");
  EXPECT_NEAR(member(device, "peak_f32_tflops").as_double(), 66.908, 1e-3);
  EXPECT_NEAR(member(device, "peak_tf32_tflops").as_double(), 535.26, 0.01);
  EXPECT_NEAR(member(device, "copy_gb_per_s").as_double(), 2684.35, 0.01);
  EXPECT_NE(member(member(j, "conventions"), "ratio").as_string().find("above 1, the native kernel is faster"),
            std::string::npos);

  const io::Json::Array& conv = member(j, "conv").as_array();
  ASSERT_EQ(conv.size(), 5u);
  EXPECT_EQ(member(conv[0], "suite").as_string(), "resnet50");
  EXPECT_EQ(member(conv[0], "layout").as_string(), "NCHW");
  EXPECT_EQ(member(conv[3], "layout").as_string(), "NHWC");
  EXPECT_EQ(member(conv[0], "math").as_string(), "f32");
  EXPECT_EQ(member(conv[4], "math").as_string(), "tf32");
  EXPECT_NEAR(member(conv[4], "native_peak_fraction").as_double(), 15.106 / 535.26, 1e-4);  // of the TF32 peak
  EXPECT_EQ(member(conv[0], "pass").as_string(), "forward");
  EXPECT_DOUBLE_EQ(member(conv[0], "ratio").as_double(), 0.5);
  EXPECT_DOUBLE_EQ(member(member(conv[0], "native"), "median_ms").as_double(), 2);
  EXPECT_DOUBLE_EQ(member(member(conv[0], "native"), "min_ms").as_double(), 1.8);
  EXPECT_EQ(member(member(conv[0], "native"), "reps").as_int64(), 3);
  // 7.55 GFLOP in 2 ms and in 1 ms.
  EXPECT_NEAR(member(conv[0], "native_tflops").as_double(), 3.7764, 1e-4);
  EXPECT_NEAR(member(conv[0], "cudnn_peak_fraction").as_double(), 7.5529 / 66.908, 1e-4);
  // A failed timing: its error, and no ratio.
  EXPECT_TRUE(member(conv[2], "ratio").is_null());
  EXPECT_EQ(member(member(conv[2], "native"), "error").as_string(), "kernel | launch failed\nat line 3");
  EXPECT_TRUE(member(conv[2], "native_tflops").is_null());

  EXPECT_DOUBLE_EQ(member(member(j, "gemm").as_array()[0], "ratio").as_double(), 0.5);
  const io::Json::Array& memory = member(j, "memory").as_array();
  ASSERT_EQ(memory.size(), 2u);
  EXPECT_EQ(member(memory[0], "bytes").as_int64(), 536870912);
  EXPECT_NEAR(member(memory[0], "gb_per_s").as_double(), 2147.48, 0.01);
  EXPECT_NEAR(member(memory[0], "copy_fraction").as_double(), 0.8, 1e-9);
  EXPECT_TRUE(member(memory[1], "gb_per_s").is_null());

  const io::Json& training = member(member(j, "allocator"), "training_loop");
  EXPECT_TRUE(member(training, "zero_in_steady_state").as_bool());
  EXPECT_EQ(member(training, "first_step_device_allocs").as_int64(), 12);
  EXPECT_DOUBLE_EQ(member(member(member(j, "overhead"), "pytorch"), "us_per_op").as_double(), 6.0);
  EXPECT_EQ(member(j, "suites").as_array().size(), 2u);
  EXPECT_EQ(member(j, "failures").as_int64(), 2);
}

TEST(BenchJson, AnEmptyReportIsValidJson) {
  Report r;
  r.device.copy_error = "no memory";
  const io::Json j = io::parse_json(report_json_text(r));  // no NaN or infinity slips in
  EXPECT_TRUE(member(j, "allocator").is_null());
  EXPECT_EQ(member(member(member(j, "device"), "copy"), "error").as_string(), "no memory");
  EXPECT_TRUE(member(member(j, "device"), "copy_gb_per_s").is_number());
}

TEST(BenchMarkdown, HeaderAndTablesStateTheirConventions) {
  const std::string md = report_to_markdown(sample_report());
  for (const char* expected :
       {"# Striate kernel benchmarks", "NVIDIA H100 80GB HBM3", "550.54.15 (CUDA 12.4) / 12.4", "9.1.0 / 12.4.5",
        "abc1234", "2025-01-01 12:00 UTC", "66.9 TFLOP/s", "non-tensor-core", "2684 GB/s",
        "ratio cuDNN/native (>1: native faster)", "ratio cuBLAS/native (>1: native faster)",
        "NHWC is channels last", "| resnet50 | stem 7x7/2 3-64 @224 | 32x3x224x224 * 64x3x7x7 /2 p3 | NCHW | f32 | forward | "
        "2.000 | 1.000 | 0.50 |",
        "| resnet50 | stem 7x7/2 3-64 @224 | 32x3x224x224 * 64x3x7x7 /2 p3 | NHWC | f32 | forward | 1.000 | 1.500 | 1.50 |",
        "| resnet50 | NCHW | f32 | 2 | 0.88 | 0.50 | 0 |", "| resnet50 | NHWC | f32 | 1 | 1.50 | 1.50 | 0 |",
        // TF32: its own summary row, and % peak of the TF32 peak (15.11 of 535.3 TFLOP/s).
        "535.3 TFLOP/s", "| NCHW | tf32 | forward | 0.5000 | 0.2500 | 0.50 | 15.11 | 2.8% |",
        "| resnet50 | NCHW | tf32 | 1 | 0.50 | 0.50 | 0 |",
        "% of copy", "| relu forward | [67108864] | 537 | 0.2500 | 2147 | 80.0% |", "450 ns from the cache",
        "zero in steady state, as required", "| Striate | 4.50 |", "| PyTorch eager 2.5.1 | 6.00 |",
        "| total | 15.5 |", "**2 timing(s) failed**"})
    EXPECT_NE(md.find(expected), std::string::npos) << "missing: " << expected << "\n" << md;
  // An error stays inside its cell.
  EXPECT_NE(md.find("error: kernel \\| launch failed at line 3"), std::string::npos) << md;
}

TEST(BenchMarkdown, ALibraryFallbackIsMarkedNotTimedAndNotAFailure) {
  Report r = sample_report();
  r.conv[1].library = failed(kLibraryFellBack);
  const std::string md = report_to_markdown(r);
  EXPECT_NE(md.find("| n/a: no cuDNN algorithm for this case: the native kernel ran | - |"), std::string::npos) << md;
  EXPECT_NE(md.find("**2 timing(s) failed**"), std::string::npos) << md;  // the sample's own two, no more
}

TEST(BenchMarkdown, SteadyStateAllocationsAreFlagged) {
  Report r = sample_report();
  r.allocator->steady_step_device_allocs[3] = 2;
  EXPECT_NE(report_to_markdown(r).find("NOT zero in steady state"), std::string::npos);
}

TEST(BenchMarkdown, CellsEscapePipesAndLineBreaks) {
  EXPECT_EQ(markdown_cell("a|b\nc"), "a\\|b c");
  EXPECT_EQ(markdown_cell("plain"), "plain");
}

TEST(BenchChart, BarsForTheCasesWithBothTimings) {
  const Report r = sample_report();
  const std::vector<Bar> bars = ratio_bars(r.conv);
  ASSERT_EQ(bars.size(), 4u);
  EXPECT_EQ(bars[0].label, "resnet50 stem 7x7/2 3-64 @224 NCHW fwd");
  EXPECT_DOUBLE_EQ(bars[0].value, 0.5);
  EXPECT_DOUBLE_EQ(bars[1].value, 1.25);
  EXPECT_EQ(bars[2].label, "resnet50 stem 7x7/2 3-64 @224 NHWC fwd");
  EXPECT_EQ(bars[3].label, "resnet50 stem 7x7/2 3-64 @224 NCHW tf32 fwd");
  EXPECT_DOUBLE_EQ(chart_axis_max(bars), 2);
  EXPECT_DOUBLE_EQ(chart_axis_max({{"x", 2.3}}), 2.5);
  EXPECT_DOUBLE_EQ(chart_axis_max({{"x", 40}}), 4);  // capped; the bar is clipped
}

TEST(BenchChart, SvgHasABarPerCaseAndEscapesLabels) {
  const std::vector<Bar> bars = {{"a <b>", 0.4}, {"c & d", 1.1}, {"e", 0.9}};
  const std::string svg = ratio_chart_svg(bars, "title");
  size_t count = 0;
  for (size_t at = svg.find("class=\"bar\""); at != std::string::npos; at = svg.find("class=\"bar\"", at + 1)) ++count;
  EXPECT_EQ(count, 3u);
  EXPECT_NE(svg.find("a &lt;b&gt;"), std::string::npos);
  EXPECT_NE(svg.find("c &amp; d"), std::string::npos);
  EXPECT_EQ(svg.find("<b>"), std::string::npos);
  EXPECT_EQ(svg.rfind("</svg>\n"), svg.size() - 7);
}

TEST(BenchChart, CanvasRowsAndBandColours) {
  const std::vector<Bar> bars = {{"slow", 0.3}, {"fast", 1.5}};
  const tools::Canvas c = render_ratio_chart(bars, "t");
  EXPECT_EQ(c.height(), 34 + 2 * 14 + 40);
  const auto pixel = [&](int x, int y) {
    const uint8_t* p = &c.pixels()[(static_cast<size_t>(y) * c.width() + x) * 3];
    return tools::Rgb{p[0], p[1], p[2]};
  };
  const auto same = [](tools::Rgb a, tools::Rgb b) { return a.r == b.r && a.g == b.g && a.b == b.b; };
  // The bars start right of the labels; a third of the way into the 0.3 bar is red, into the 1.5 bar green.
  int left = 0;
  while (left < c.width() && !same(pixel(left, 34 + 2 + 5), tools::kRed)) ++left;
  ASSERT_LT(left, c.width());
  EXPECT_TRUE(same(pixel(left + 10, 34 + 2 + 5), tools::kRed));
  EXPECT_TRUE(same(pixel(left + 10, 34 + 14 + 2 + 5), tools::kGreen));
  // 0.3 of a 2.0 axis over 600 pixels is 90 pixels: the red bar ends there.
  EXPECT_FALSE(same(pixel(left + 95, 34 + 2 + 5), tools::kRed));
}

}  // namespace
}  // namespace striate::bench
