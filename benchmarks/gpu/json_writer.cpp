// The JSON form of a Report, built with the library's own io::Json (no
// dependency to install on a GPU machine).
#include <cmath>

#include "writers.h"

namespace striate::bench {
namespace {

using io::Json;

Json number(double v) { return std::isfinite(v) ? Json::number(v) : Json(); }
Json number(std::optional<double> v) { return v ? number(*v) : Json(); }
Json integer(int64_t v) { return Json::number(v); }
Json text(const std::string& s) { return Json::string(s); }

// value * scale / of: a rate as a fraction of its floor (null without either).
std::optional<double> share(std::optional<double> value, double scale, double of) {
  if (!value || !(of > 0)) return std::nullopt;
  return *value * scale / of;
}

Json shape(const std::vector<int64_t>& sizes) {
  Json::Array a;
  for (int64_t s : sizes) a.push_back(integer(s));
  return Json::array(std::move(a));
}

Json measurement(const Measurement& m) {
  if (!m.error.empty()) return Json::object({{"error", text(m.error)}});
  return Json::object({{"median_ms", number(m.time.median)},
                       {"min_ms", number(m.time.min)},
                       {"max_ms", number(m.time.max)},
                       {"mean_ms", number(m.time.mean)},
                       {"reps", integer(m.time.count)},
                       {"input_copies", integer(m.copies)}});
}

Json error_or(const std::string& error, Json value) {
  return error.empty() ? std::move(value) : Json::object({{"error", text(error)}});
}

Json device(const DeviceFacts& d) {
  return Json::object({
      {"name", text(d.name)},
      {"compute_capability", text(std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor))},
      {"sm_count", integer(d.sm_count)},
      {"clock_mhz", number(d.clock_khz / 1e3)},
      {"memory_clock_mhz", number(d.memory_clock_khz / 1e3)},
      {"memory_bus_bits", integer(d.memory_bus_bits)},
      {"memory_bytes", integer(d.memory_bytes)},
      {"l2_bytes", integer(d.l2_bytes)},
      {"driver", text(d.driver_release)},
      {"driver_cuda", text(format_cuda_version(d.driver_version))},
      {"cuda_runtime", text(format_cuda_version(d.runtime_version))},
      {"cudnn", text(d.cudnn_version)},
      {"cublas", text(d.cublas_version)},
      {"commit", text(d.commit)},
      {"date", text(d.date)},
      {"fp32_lanes_per_sm", integer(d.fp32_lanes_per_sm)},
      {"peak_f32_tflops", number(d.peak_f32_flops / 1e12)},
      {"peak_f32_rule", text("SMs x clock x FP32 lanes per SM x 2: the non-tensor-core f32 peak")},
      {"tf32_flops_per_sm_clock", integer(d.tf32_flops_per_sm_clock)},
      {"peak_tf32_tflops", number(d.peak_tf32_flops / 1e12)},
      {"peak_tf32_rule", text("SMs x clock x dense TF32 tensor-core FLOPs per SM per clock (0: unknown)")},
      {"copy_buffer_bytes", integer(d.copy_buffer_bytes)},
      {"copy", error_or(d.copy_error, measurement({d.copy_time, "", 1}))},
      {"copy_gb_per_s", number(d.copy_bytes_per_second / 1e9)},
      {"copy_rule", text("device-to-device cudaMemcpyAsync; bytes read + bytes written over the median time")},
  });
}

Json conv(const ConvResult& r, const DeviceFacts& d) {
  const double peak = conv_peak_flops(d, r.c.params);
  const double flops = conv_flops(r.c.params);
  const auto native = tflops(flops, r.native), library = tflops(flops, r.library);
  return Json::object({{"suite", text(r.c.suite)},
                       {"case", text(r.c.name)},
                       {"shape", text(conv_shape(r.c.params))},
                       {"layout", text(layout_name(r.c.params))},
                       {"math", text(math_name(r.c.params))},
                       {"pass", text(pass_name(r.pass))},
                       {"gflop", number(flops / 1e9)},
                       {"native", measurement(r.native)},
                       {"cudnn", measurement(r.library)},
                       {"ratio", number(speed_ratio(r.native, r.library))},
                       {"native_tflops", number(native)},
                       {"native_peak_fraction", number(share(native, 1e12, peak))},
                       {"cudnn_tflops", number(library)},
                       {"cudnn_peak_fraction", number(share(library, 1e12, peak))}});
}

Json gemm(const GemmResult& r, double peak) {
  const double flops = gemm_flops(r.c);
  const auto native = tflops(flops, r.native), library = tflops(flops, r.library);
  return Json::object({{"case", text(r.c.name)},
                       {"m", integer(r.c.m)},
                       {"n", integer(r.c.n)},
                       {"k", integer(r.c.k)},
                       {"trans_a", Json::boolean(r.c.trans_a)},
                       {"trans_b", Json::boolean(r.c.trans_b)},
                       {"gflop", number(flops / 1e9)},
                       {"native", measurement(r.native)},
                       {"cublas", measurement(r.library)},
                       {"ratio", number(speed_ratio(r.native, r.library))},
                       {"native_tflops", number(native)},
                       {"native_peak_fraction", number(share(native, 1e12, peak))},
                       {"cublas_tflops", number(library)},
                       {"cublas_peak_fraction", number(share(library, 1e12, peak))}});
}

Json memory(const MemoryResult& r, double copy_bytes_per_second) {
  const auto gbps = gigabytes_per_second(r.spec.bytes, r.time);
  return Json::object({{"case", text(r.spec.name)},
                       {"shape", shape(r.spec.shape)},
                       {"bytes", integer(r.spec.bytes)},
                       {"traffic", text(r.spec.traffic)},
                       {"time", measurement(r.time)},
                       {"gb_per_s", number(gbps)},
                       {"copy_fraction", number(share(gbps, 1e9, copy_bytes_per_second))}});
}

Json allocator(const AllocatorResult& a) {
  Json::Array steady;
  for (int64_t n : a.steady_step_device_allocs) steady.push_back(integer(n));
  int64_t steady_total = 0;
  for (int64_t n : a.steady_step_device_allocs) steady_total += n;
  return Json::object({
      {"alloc_free_1mib",
       error_or(a.cache_error, Json::object({{"cache_ns", number(a.cache_ns)},
                                             {"cache_iterations", integer(a.cache_iterations)},
                                             {"cuda_malloc_free_ns", number(a.device_ns)},
                                             {"cuda_malloc_free_iterations", integer(a.device_iterations)}}))},
      {"training_loop",
       error_or(a.training_error, Json::object({{"first_step_device_allocs", integer(a.first_step_device_allocs)},
                                                {"steady_step_device_allocs", Json::array(std::move(steady))},
                                                {"steady_total", integer(steady_total)},
                                                {"zero_in_steady_state", Json::boolean(steady_total == 0)}}))},
      {"resnet50_step",
       error_or(a.resnet_error, Json::object({{"batch", integer(a.resnet_batch)},
                                              {"first_peak_allocated_bytes", integer(a.first_peak_allocated)},
                                              {"first_peak_reserved_bytes", integer(a.first_peak_reserved)},
                                              {"steady_peak_allocated_bytes", integer(a.steady_peak_allocated)},
                                              {"steady_peak_reserved_bytes", integer(a.steady_peak_reserved)}}))},
  });
}

Json overhead(const OverheadResult& o) {
  Json::Object torch{{"us_per_op", number(o.torch_us)}};
  if (!o.torch_version.empty()) torch.emplace_back("version", text(o.torch_version));
  if (!o.torch_note.empty()) torch.emplace_back("note", text(o.torch_note));
  return Json::object({{"op", text("relu")},
                       {"elements", integer(o.elements)},
                       {"calls_per_round", integer(o.calls)},
                       {"rounds", integer(o.rounds)},
                       {"striate", error_or(o.error, Json::object({{"us_per_op", number(o.striate_us)}}))},
                       {"pytorch", Json::object(std::move(torch))}});
}

}  // namespace

Json report_to_json(const Report& report) {
  const double peak = report.device.peak_f32_flops;
  Json::Array convs, gemms, memories, suites;
  for (const ConvResult& r : report.conv) convs.push_back(conv(r, report.device));
  for (const GemmResult& r : report.gemm) gemms.push_back(gemm(r, peak));
  for (const MemoryResult& r : report.memory) memories.push_back(memory(r, report.device.copy_bytes_per_second));
  for (const SuiteTiming& s : report.suites) {
    Json::Object o{{"suite", text(s.suite)}, {"seconds", number(s.seconds)}};
    if (!s.error.empty()) o.emplace_back("error", text(s.error));
    suites.push_back(Json::object(std::move(o)));
  }
  Json::Object root{
      {"harness", text("striate_kernel_bench")},
      {"mode", text(report.mode)},
      {"device", device(report.device)},
      {"conventions",
       Json::object({{"ratio", text("library time / native time (median): above 1, the native kernel is faster")},
                     {"times", text("milliseconds between CUDA events around each call, after warm-up")},
                     {"tflops",
                      text("FLOPs of the pass over the median time; conv: 2*N*O*oH*oW*C/g*kH*kW, gemm: 2*m*n*k")},
                     {"memory", text("bytes of the least traffic the op needs (see each case's traffic) over the "
                                     "median time, as a fraction of the measured copy bandwidth")},
                     {"layout", text("NCHW, or NHWC: channels last for tensors and weights (OHWI)")},
                     {"math", text("f32: true f32 on both sides (cuDNN's FMA math); tf32: TF32 tensor cores allowed on "
                                   "both (the native TF32 tile, cuDNN's default math); peak fractions are of that "
                                   "math's peak")}})},
      {"conv", Json::array(std::move(convs))},
      {"gemm", Json::array(std::move(gemms))},
      {"memory", Json::array(std::move(memories))},
      {"allocator", report.allocator ? allocator(*report.allocator) : Json()},
      {"overhead", report.overhead ? overhead(*report.overhead) : Json()},
      {"suites", Json::array(std::move(suites))},
      {"failures", integer(failure_count(report))},
  };
  if (!report.chart_file.empty() || !report.chart_note.empty())
    root.emplace_back("chart", Json::object({{"file", text(report.chart_file)}, {"note", text(report.chart_note)}}));
  return Json::object(std::move(root));
}

std::string report_json_text(const Report& report) { return io::to_json(report_to_json(report)) + "\n"; }

}  // namespace striate::bench
