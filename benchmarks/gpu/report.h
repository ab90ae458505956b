// The results of one benchmark run, and the figures derived from them (ratios
// to the libraries, TFLOP/s, GB/s, fractions of the device's limits). The
// writers (writers.h) turn a Report into JSON, Markdown and a chart. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stats.h"
#include "suites.h"

namespace striate::bench {

// The machine, the software and the two floors every result is held against.
struct DeviceFacts {
  std::string name;
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  int clock_khz = 0;         // peak SM clock
  int memory_clock_khz = 0;  // peak memory clock
  int memory_bus_bits = 0;
  int64_t memory_bytes = 0, l2_bytes = 0;
  int driver_version = 0, runtime_version = 0;  // CUDA's encoding: 1000 * major + 10 * minor
  std::string driver_release = "unknown";       // the kernel module's, e.g. "550.54.15"
  std::string cudnn_version = "not in this build", cublas_version = "not in this build";
  std::string commit = "unknown", date;
  // Non-tensor-core f32 peak: SMs x clock x FP32 lanes per SM x 2 (an FMA is two FLOPs).
  int fp32_lanes_per_sm = 0;
  double peak_f32_flops = 0;
  // Dense TF32 tensor-core peak: SMs x clock x TF32 FLOPs per SM per clock
  // (0 where unknown, or no TF32 before sm_80).
  int tf32_flops_per_sm_clock = 0;
  double peak_tf32_flops = 0;
  // The memory floor: a device-to-device cudaMemcpyAsync of copy_buffer_bytes,
  // counted as that many bytes read plus as many written.
  int64_t copy_buffer_bytes = 0;
  Summary copy_time;
  double copy_bytes_per_second = 0;
  std::string copy_error;
};

// Why a library column has no timing, in the cases that are not failures:
// the build lacks the library ("cuDNN is not in this build"), or the library
// took no algorithm for the case and its call ran the native kernel (timing
// that under cuDNN's name would compare the native kernel with itself).
inline constexpr const char* kNotInBuild = "is not in this build";
inline constexpr const char* kLibraryFellBack = "no cuDNN algorithm for this case: the native kernel ran";
bool is_not_a_failure(const std::string& error);

// One timing: a summary of milliseconds, or why there is none ("error: ...").
struct Measurement {
  Summary time;
  std::string error;
  int64_t copies = 1;  // input sets rotated through (stats.h: rotation_copies)
  bool ok() const { return error.empty() && time.count > 0; }
};

struct ConvResult {
  ConvCase c;
  ConvPass pass;
  Measurement native, library;  // kernels::cuda::conv2d_* and kernels::cudnn::conv2d_*
};

struct GemmResult {
  GemmCase c;
  Measurement native, library;  // kernels::cuda::gemm and kernels::cudnn::gemm (cuBLAS)
};

struct MemoryResult {
  MemorySpec spec;
  Measurement time;
};

struct AllocatorResult {
  // Host nanoseconds per allocate + free of a 1 MiB tensor, from the warm cache and from the driver.
  double cache_ns = 0, device_ns = 0;
  int64_t cache_iterations = 0, device_iterations = 0;
  std::string cache_error;
  // Device allocations (cudaMalloc) in the first step of a small CNN's
  // training loop on the GPU, then in each of the steady-state steps after it.
  int64_t first_step_device_allocs = -1;
  std::vector<int64_t> steady_step_device_allocs;
  std::string training_error;
  // One ResNet-50 training step (forward, backward, SGD) at this batch: the
  // allocator's peaks over the first step and over a second, steady one.
  int64_t resnet_batch = 0;
  int64_t first_peak_allocated = 0, first_peak_reserved = 0;
  int64_t steady_peak_allocated = 0, steady_peak_reserved = 0;
  std::string resnet_error;
};

struct OverheadResult {
  int64_t elements = 0, calls = 0, rounds = 0;
  double striate_us = 0;  // host microseconds per relu launch, median over rounds
  std::string error;
  // PyTorch eager on the same device (benchmarks/gpu/torch_overhead.py), when it ran.
  std::optional<double> torch_us;
  std::string torch_version, torch_note;
};

struct SuiteTiming {
  std::string suite;
  double seconds = 0;
  std::string error;  // the suite stopped early (its finished cases are kept)
};

struct Report {
  DeviceFacts device;
  std::string mode = "default";  // default, quick or full
  std::vector<ConvResult> conv;
  std::vector<GemmResult> gemm;
  std::vector<MemoryResult> memory;
  std::optional<AllocatorResult> allocator;
  std::optional<OverheadResult> overhead;
  std::vector<SuiteTiming> suites;
  std::string chart_file, chart_note;
};

// library time / native time: above 1 the native kernel is faster.
std::optional<double> speed_ratio(const Measurement& native, const Measurement& library);
// Achieved rates from the median time.
std::optional<double> tflops(double flops, const Measurement& m);
std::optional<double> gigabytes_per_second(int64_t bytes, const Measurement& m);

// The driver release from /proc/driver/nvidia/version's first line
// ("NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar ...",
// or "... Open Kernel Module for x86_64  570.86.15 ..."); "unknown" otherwise.
std::string parse_driver_release(const std::string& line);

// 12040 -> "12.4"; 0 -> "unknown".
std::string format_cuda_version(int version);
// cudnnGetVersion(): 90100 -> "9.1.0" (cuDNN 9: major*10000 + minor*100 + patch),
// 8906 -> "8.9.6" (cuDNN 8: major*1000 + minor*100 + patch).
std::string format_cudnn_version(int64_t version);
// FP32 lanes per SM: 64 on sm_60, sm_70/75 and sm_80 (A100); 128 on the rest
// from Pascal on (sm_61, sm_86, sm_89, H100's sm_90, ...).
int fp32_lanes_per_sm(int cc_major, int cc_minor);
double peak_f32_flops(int sm_count, int clock_khz, int lanes_per_sm);
// Dense TF32 tensor-core FLOPs per SM per clock: 1024 on sm_80 (A100), 256 on
// sm_86/87/89, 2048 on sm_90 (H100, H200); 0 otherwise (none, or not known here).
int tf32_flops_per_sm_clock(int cc_major, int cc_minor);
// The peak a convolution's math runs against: f32's, or TF32's where allowed.
double conv_peak_flops(const DeviceFacts& d, const kernels::ConvParams& p);

// The convolution ratios of one suite in one layout (all passes), for the
// summaries: median and minimum over the cases with both timings, and how
// many fell below 0.5.
struct RatioSummary {
  std::string suite, layout, math;
  int64_t cases = 0, below_half = 0;
  double median = 0, min = 0;
};
std::vector<RatioSummary> conv_ratio_summaries(const std::vector<ConvResult>& results);

// Reads torch_overhead.py's JSON ({"torch_version", "us_per_op", ...} or
// {"error": "..."}) into o; text that is not such JSON becomes o.torch_note.
void apply_torch_overhead(OverheadResult& o, const std::string& json_text);

// Cases whose timing failed (an error other than those is_not_a_failure names).
int64_t failure_count(const Report& report);

}  // namespace striate::bench
