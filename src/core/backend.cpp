// The kernel-backend settings (striate/core/backend.h): a per-thread guard
// stack over a global choice over the environment.
#include "striate/core/backend.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <string>

#include "striate/core/error.h"

namespace striate {
namespace {

constexpr int kUnset = -1;

struct FamilyInfo {
  std::string_view name;
  const char* env_var;
  const char* library;  // as users name it
};

constexpr std::array<FamilyInfo, kNumOpFamilies> kFamilies{{
    {"conv", "STRIATE_CONV_BACKEND", "cudnn"},
    {"gemm", "STRIATE_GEMM_BACKEND", "cublas"},
    {"pooling", "STRIATE_POOL_BACKEND", "cudnn"},
    {"normalization", "STRIATE_NORM_BACKEND", "cudnn"},
    {"activation", "STRIATE_ACTIVATION_BACKEND", "cudnn"},
}};

const FamilyInfo& info(OpFamily family) { return kFamilies.at(static_cast<size_t>(family)); }

// The global choice per family: kUnset until set_kernel_backend or the
// environment (read on first use) fills it.
std::array<std::atomic<int>, kNumOpFamilies> global_choice{kUnset, kUnset, kUnset, kUnset, kUnset};
std::once_flag env_read;

void read_environment() {
  for (int f = 0; f < kNumOpFamilies; ++f) {
    const char* value = std::getenv(kFamilies[f].env_var);
    if (value == nullptr || *value == '\0') continue;
    KernelBackend backend;
    try {
      backend = parse_kernel_backend(value);
    } catch (const ValueError& e) {
      throw ValueError(std::string(kFamilies[f].env_var) + ": " + e.what());
    }
    int expected = kUnset;  // a set_kernel_backend made before the first use wins
    global_choice[f].compare_exchange_strong(expected, static_cast<int>(backend));
  }
}

thread_local std::array<int, kNumOpFamilies> thread_choice{kUnset, kUnset, kUnset, kUnset, kUnset};

}  // namespace

void set_kernel_backend(OpFamily family, KernelBackend backend) {
  global_choice.at(static_cast<size_t>(family)).store(static_cast<int>(backend));
}

KernelBackend kernel_backend(OpFamily family) {
  const auto f = static_cast<size_t>(family);
  if (thread_choice.at(f) != kUnset) return static_cast<KernelBackend>(thread_choice[f]);
  std::call_once(env_read, read_environment);
  const int global = global_choice[f].load();
  return global == kUnset ? KernelBackend::Native : static_cast<KernelBackend>(global);
}

std::string_view op_family_name(OpFamily family) { return info(family).name; }

std::string backend_name(OpFamily family, KernelBackend backend) {
  switch (backend) {
    case KernelBackend::Native: return "native";
    case KernelBackend::Library: return info(family).library;
    case KernelBackend::Auto: return "auto";
  }
  return "?";
}

KernelBackend parse_kernel_backend(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "native") return KernelBackend::Native;
  if (lower == "cudnn" || lower == "cublas" || lower == "library") return KernelBackend::Library;
  if (lower == "auto") return KernelBackend::Auto;
  throw ValueError("unknown kernel backend '" + std::string(text) + "' (expected native, cudnn, cublas or auto)");
}

std::string backend_env_var(OpFamily family) { return info(family).env_var; }

bool library_backend_compiled(OpFamily family) {
#if defined(STRIATE_WITH_CUBLAS)
  if (family == OpFamily::Gemm) return true;
#endif
#if defined(STRIATE_WITH_CUDNN)
  if (family != OpFamily::Gemm) return true;
#endif
  return false;
}

namespace {

// Conv, then Gemm: -1 until set_allow_tf32 or STRIATE_ALLOW_TF32 fills it.
std::array<std::atomic<int>, 2> tf32_allowed{kUnset, kUnset};
std::once_flag tf32_env_read;

size_t tf32_slot(OpFamily family) {
  STRIATE_CHECK(family == OpFamily::Conv || family == OpFamily::Gemm, ValueError,
                "allow_tf32: only the conv and gemm families have TF32 kernels, got ", op_family_name(family));
  return family == OpFamily::Conv ? 0 : 1;
}

void read_tf32_environment() {
  const char* value = std::getenv("STRIATE_ALLOW_TF32");
  if (value == nullptr || *value == '\0') return;
  const detail::Tf32Families allowed = detail::parse_allow_tf32(value);
  int expected = kUnset;  // a set_allow_tf32 made before the first use wins
  tf32_allowed[0].compare_exchange_strong(expected, allowed.conv ? 1 : 0);
  expected = kUnset;
  tf32_allowed[1].compare_exchange_strong(expected, allowed.gemm ? 1 : 0);
}

}  // namespace

detail::Tf32Families detail::parse_allow_tf32(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "1" || lower == "all") return {true, true};
  if (lower == "0" || lower == "none") return {};
  Tf32Families allowed;
  for (size_t begin = 0; begin <= lower.size();) {
    const size_t end = std::min(lower.find(',', begin), lower.size());
    const std::string item = lower.substr(begin, end - begin);
    if (item == "conv") allowed.conv = true;
    else if (item == "gemm") allowed.gemm = true;
    else
      throw ValueError("STRIATE_ALLOW_TF32: expected 1, all, 0, none or a comma-separated list of conv and gemm, "
                       "got '" + std::string(text) + "'");
    begin = end + 1;
  }
  return allowed;
}

void set_allow_tf32(OpFamily family, bool allow) { tf32_allowed[tf32_slot(family)].store(allow ? 1 : 0); }

bool allow_tf32(OpFamily family) {
  const size_t slot = tf32_slot(family);
  std::call_once(tf32_env_read, read_tf32_environment);
  return tf32_allowed[slot].load() == 1;
}

namespace {

std::atomic<int> deterministic{kUnset};  // until use_deterministic_algorithms or STRIATE_DETERMINISTIC fills it
std::once_flag deterministic_env_read;

void read_deterministic_environment() {
  const char* value = std::getenv("STRIATE_DETERMINISTIC");
  if (value == nullptr || *value == '\0') return;
  int expected = kUnset;  // a call made before the first use wins
  deterministic.compare_exchange_strong(expected, detail::parse_deterministic(value) ? 1 : 0);
}

}  // namespace

bool detail::parse_deterministic(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "1" || lower == "true" || lower == "on") return true;
  if (lower == "0" || lower == "false" || lower == "off") return false;
  throw ValueError("STRIATE_DETERMINISTIC: expected 1, true, on, 0, false or off, got '" + std::string(text) + "'");
}

void use_deterministic_algorithms(bool enabled) { deterministic.store(enabled ? 1 : 0); }

bool are_deterministic_algorithms_enabled() {
  std::call_once(deterministic_env_read, read_deterministic_environment);
  return deterministic.load() == 1;
}

KernelBackendGuard::KernelBackendGuard(OpFamily family, KernelBackend backend)
    : family_(family), previous_(thread_choice.at(static_cast<size_t>(family))) {
  thread_choice[static_cast<size_t>(family)] = static_cast<int>(backend);
}

KernelBackendGuard::~KernelBackendGuard() { thread_choice[static_cast<size_t>(family_)] = previous_; }

}  // namespace striate
