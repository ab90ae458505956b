// Where a tensor's memory lives: the CPU or the N-th CUDA GPU.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace striate {

enum class DeviceType : uint8_t { CPU, CUDA };
inline constexpr DeviceType kCPU = DeviceType::CPU;
inline constexpr DeviceType kCUDA = DeviceType::CUDA;

class Device {
 public:
  Device(DeviceType type = DeviceType::CPU, int index = -1);  // NOLINT: kCPU converts
  explicit Device(const std::string& spec);                   // "cpu", "cuda", "cuda:1"

  static Device cpu() { return Device(DeviceType::CPU); }
  static Device cuda(int index = 0) { return Device(DeviceType::CUDA, index); }

  DeviceType type() const { return type_; }
  // -1 for the CPU; for CUDA, the GPU ordinal (0 when created as plain kCUDA).
  int index() const { return index_; }
  bool is_cpu() const { return type_ == DeviceType::CPU; }
  bool is_cuda() const { return type_ == DeviceType::CUDA; }
  std::string str() const;  // "cpu", "cuda:0"

  bool operator==(const Device& o) const { return type_ == o.type_ && index_ == o.index_; }
  bool operator!=(const Device& o) const { return !(*this == o); }

 private:
  DeviceType type_;
  int index_;
};

std::ostream& operator<<(std::ostream& os, const Device& d);

namespace cuda {
// True when Striate was built with CUDA and the driver reports at least one GPU.
bool is_available();
int device_count();
// Why is_available() is false, with the driver's error when it gave one
// (cudaErrorInsufficientDriver, cudaErrorNoDevice, ...); empty when it is true.
std::string unavailable_reason();
// True when the library was compiled with its CUDA sources.
bool is_compiled();
}  // namespace cuda

}  // namespace striate
