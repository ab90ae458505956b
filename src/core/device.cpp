#include "striate/core/device.h"

#include "striate/core/error.h"

namespace striate {

Device::Device(DeviceType type, int index) : type_(type), index_(index) {
  if (type_ == DeviceType::CPU) {
    STRIATE_CHECK(index_ == -1 || index_ == 0, DeviceError, "Device: the CPU has no index ", index_);
    index_ = -1;
  } else {
    STRIATE_CHECK(index_ >= -1, DeviceError, "Device: invalid CUDA device index ", index_);
    if (index_ == -1) index_ = 0;
  }
}

Device::Device(const std::string& spec) : Device() {
  if (spec == "cpu") return;
  if (spec.rfind("cuda", 0) == 0) {
    type_ = DeviceType::CUDA;
    index_ = 0;
    if (spec.size() == 4) return;
    if (spec[4] == ':' && spec.size() > 5 && spec.find_first_not_of("0123456789", 5) == std::string::npos &&
        spec.size() < 10) {
      index_ = std::stoi(spec.substr(5));
      return;
    }
  }
  throw DeviceError("Device: expected \"cpu\", \"cuda\" or \"cuda:N\", got \"" + spec + "\"");
}

std::string Device::str() const {
  return is_cpu() ? "cpu" : "cuda:" + std::to_string(index_);
}

std::ostream& operator<<(std::ostream& os, const Device& d) { return os << d.str(); }

}  // namespace striate
