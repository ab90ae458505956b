#include "device.h"

#include <cuda_runtime.h>

#include <ctime>
#include <fstream>

#include "striate/striate.h"
#include "timing.h"

#ifdef STRIATE_WITH_CUDNN
#include <cudnn.h>
#endif
#ifdef STRIATE_WITH_CUBLAS
#include <cublas_v2.h>
#endif

namespace striate::bench {
namespace {

void check(cudaError_t status, const char* call) {
  if (status != cudaSuccess) throw DeviceError(std::string(call) + ": " + cudaGetErrorString(status));
}

int attribute(cudaDeviceAttr attr, int device) {
  int value = 0;
  check(cudaDeviceGetAttribute(&value, attr, device), "cudaDeviceGetAttribute");
  return value;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

#ifdef STRIATE_WITH_CUBLAS
std::string cublas_version() {
  int major = 0, minor = 0, patch = 0;
  if (cublasGetProperty(MAJOR_VERSION, &major) != CUBLAS_STATUS_SUCCESS ||
      cublasGetProperty(MINOR_VERSION, &minor) != CUBLAS_STATUS_SUCCESS ||
      cublasGetProperty(PATCH_LEVEL, &patch) != CUBLAS_STATUS_SUCCESS)
    return "unknown";
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}
#endif

}  // namespace

DeviceFacts query_device_facts(int device, const std::string& commit) {
  DeviceFacts f;
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  f.name = prop.name;
  f.cc_major = prop.major;
  f.cc_minor = prop.minor;
  f.memory_bytes = static_cast<int64_t>(prop.totalGlobalMem);
  // Clocks by attribute: CUDA 13's cudaDeviceProp no longer has them.
  f.sm_count = attribute(cudaDevAttrMultiProcessorCount, device);
  f.clock_khz = attribute(cudaDevAttrClockRate, device);
  f.memory_clock_khz = attribute(cudaDevAttrMemoryClockRate, device);
  f.memory_bus_bits = attribute(cudaDevAttrGlobalMemoryBusWidth, device);
  f.l2_bytes = attribute(cudaDevAttrL2CacheSize, device);
  check(cudaDriverGetVersion(&f.driver_version), "cudaDriverGetVersion");
  check(cudaRuntimeGetVersion(&f.runtime_version), "cudaRuntimeGetVersion");
  std::ifstream proc("/proc/driver/nvidia/version");
  std::string line;
  if (std::getline(proc, line)) f.driver_release = parse_driver_release(line);
#ifdef STRIATE_WITH_CUDNN
  f.cudnn_version = format_cudnn_version(static_cast<int64_t>(cudnnGetVersion()));
#endif
#ifdef STRIATE_WITH_CUBLAS
  f.cublas_version = cublas_version();
#endif
  f.commit = commit.empty() ? "unknown" : commit;
  f.date = utc_now();
  f.fp32_lanes_per_sm = fp32_lanes_per_sm(f.cc_major, f.cc_minor);
  f.peak_f32_flops = peak_f32_flops(f.sm_count, f.clock_khz, f.fp32_lanes_per_sm);
  f.tf32_flops_per_sm_clock = tf32_flops_per_sm_clock(f.cc_major, f.cc_minor);
  f.peak_tf32_flops = static_cast<double>(f.sm_count) * f.clock_khz * 1e3 * f.tf32_flops_per_sm_clock;
  return f;
}

void measure_copy_bandwidth(DeviceFacts& facts, const RepPolicy& policy) {
  try {
    const TensorOptions gpu = TensorOptions(kFloat).device(Device::cuda(cuda::current_device()));
    int64_t bytes = int64_t{1} << 30;
    size_t free_bytes = 0, total_bytes = 0;
    check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
    while (bytes > (int64_t{16} << 20) && 3 * bytes > static_cast<int64_t>(free_bytes)) bytes /= 2;
    Generator gen(1);
    const Tensor src = randn({bytes / 4}, gpu, &gen);
    const Tensor dst = empty({bytes / 4}, gpu);
    auto* stream = static_cast<cudaStream_t>(cuda::current_stream().native_handle());
    const Measurement m = time_on_gpu(
        [&](int64_t) {
          check(cudaMemcpyAsync(dst.data_ptr(), src.data_ptr(), static_cast<size_t>(bytes), cudaMemcpyDeviceToDevice,
                                stream),
                "cudaMemcpyAsync");
        },
        policy);
    if (!m.ok()) throw DeviceError(m.error);
    facts.copy_buffer_bytes = bytes;
    facts.copy_time = m.time;
    facts.copy_bytes_per_second = 2.0 * static_cast<double>(bytes) / (m.time.median * 1e-3);
  } catch (const std::exception& e) {
    facts.copy_error = e.what();
  }
}

}  // namespace striate::bench
