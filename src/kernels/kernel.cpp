// The registry's shared state: one-time notes and Auto's measurements.
#include "kernels/kernel.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "striate/core/cuda.h"

namespace striate::kernels::registry {
namespace {

std::mutex mutex;

std::set<std::string>& logged() {
  static std::set<std::string> messages;
  return messages;
}

using AutoKey = std::pair<std::string, std::vector<int64_t>>;
std::map<AutoKey, bool>& auto_choices() {
  static std::map<AutoKey, bool> choices;
  return choices;
}

}  // namespace

void log_once(const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex);
  if (logged().insert(message).second) std::fprintf(stderr, "%s\n", message.c_str());
}

int auto_choice(const char* kernel, const std::vector<int64_t>& key) {
  std::lock_guard<std::mutex> lock(mutex);
  const auto it = auto_choices().find({kernel, key});
  return it == auto_choices().end() ? -1 : (it->second ? 1 : 0);
}

void remember_auto_choice(const char* kernel, const std::vector<int64_t>& key, bool library, float native_ms,
                          float library_ms) {
  std::lock_guard<std::mutex> lock(mutex);
  auto_choices()[{kernel, key}] = library;
  if (std::getenv("STRIATE_LOG_AUTO") != nullptr)
    std::fprintf(stderr, "striate: auto %s: native %.3f ms, library %.3f ms -> %s\n", kernel, native_ms, library_ms,
                 library ? "library" : "native");
}

float elapsed_ms_of(void (*enqueue)(void*), void* context) {
  enqueue(context);  // warm-up: caches, lazy module loading, library plans
  cuda::Event start(true), end(true);
  start.record();
  enqueue(context);
  end.record();
  end.synchronize();
  return start.elapsed_time(end);
}

}  // namespace striate::kernels::registry
