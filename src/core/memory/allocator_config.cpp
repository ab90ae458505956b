// STRIATE_CUDA_ALLOC_CONF and the printing of MemoryStats.
#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "core/memory/caching_allocator.h"
#include "striate/core/error.h"

namespace striate {
namespace memory {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

int64_t parse_integer(std::string_view key, std::string_view value) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  STRIATE_CHECK(ec == std::errc() && end == value.data() + value.size(), ValueError,
                "STRIATE_CUDA_ALLOC_CONF: ", key, " expects an integer, got '", value, "'");
  return n;
}

}  // namespace

AllocatorConfig AllocatorConfig::parse(std::string_view spec) {
  AllocatorConfig config;
  while (!spec.empty()) {
    const size_t comma = spec.find(',');
    const std::string_view entry = trim(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    if (entry.empty()) continue;
    const size_t colon = entry.find(':');
    STRIATE_CHECK(colon != std::string_view::npos, ValueError, "STRIATE_CUDA_ALLOC_CONF: expected key:value, got '",
                  entry, "'");
    const std::string_view key = trim(entry.substr(0, colon));
    const std::string_view value = trim(entry.substr(colon + 1));
    if (key == "caching") {
      const int64_t on = parse_integer(key, value);
      STRIATE_CHECK(on == 0 || on == 1, ValueError, "STRIATE_CUDA_ALLOC_CONF: caching expects 0 or 1, got ", on);
      config.caching = on == 1;
    } else if (key == "poison") {
      const int64_t on = parse_integer(key, value);
      STRIATE_CHECK(on == 0 || on == 1, ValueError, "STRIATE_CUDA_ALLOC_CONF: poison expects 0 or 1, got ", on);
      config.poison = on == 1;
    } else if (key == "max_split_size_mb") {
      const int64_t mb = parse_integer(key, value);
      // At or below a large segment, every large block would be "big".
      constexpr int64_t kMinMb = static_cast<int64_t>(kLargeSegment >> 20) + 1;
      STRIATE_CHECK(mb >= kMinMb, ValueError, "STRIATE_CUDA_ALLOC_CONF: max_split_size_mb must be at least ",
                    kMinMb, ", got ", mb);
      // More megabytes than a size_t holds in bytes: no limit, like the default.
      const bool unlimited = static_cast<uint64_t>(mb) > (SIZE_MAX >> 20);
      config.max_split_size = unlimited ? SIZE_MAX : static_cast<size_t>(mb) << 20;
    } else {
      STRIATE_CHECK(false, ValueError, "STRIATE_CUDA_ALLOC_CONF: unknown option '", key,
                    "' (known: caching, max_split_size_mb, poison)");
    }
  }
  return config;
}

AllocatorConfig AllocatorConfig::from_env() {
  const char* spec = std::getenv("STRIATE_CUDA_ALLOC_CONF");
  return spec == nullptr ? AllocatorConfig{} : parse(spec);
}

}  // namespace memory

std::string format_bytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while ((value >= 1024 || value <= -1024) && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  if (unit == 0) std::snprintf(text, sizeof text, "%lld B", static_cast<long long>(bytes));
  else std::snprintf(text, sizeof text, "%.2f %s", value, units[unit]);
  return text;
}

std::ostream& operator<<(std::ostream& os, const MemoryStats& s) {
  return os << "allocated " << format_bytes(s.allocated_bytes) << " (peak " << format_bytes(s.allocated_bytes_peak)
            << ") in " << s.allocations << " blocks, reserved " << format_bytes(s.reserved_bytes) << " (peak "
            << format_bytes(s.reserved_bytes_peak) << ") in " << s.segments << " segments, active "
            << format_bytes(s.active_bytes) << ", " << s.num_device_allocs << " device allocations and "
            << s.num_device_frees << " frees, " << s.num_alloc_retries << " retries, " << s.num_ooms
            << " out-of-memory";
}

}  // namespace striate
