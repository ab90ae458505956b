// Helpers shared by the io tests: a scratch directory, raw file access, a
// scoped write-failure hook, and bit-exact tensor comparison.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "striate/io/io.h"
#include "striate/striate.h"

namespace striate::io::test {

// A fresh directory, removed with everything in it at scope exit.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("striate_io_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // The names in the directory, sorted: how tests see leftover temporary files.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::filesystem::path path_;
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Installs an atomic-write hook for one scope, so a failing test cannot leave
// it behind for the next.
class ScopedWriteHook {
 public:
  explicit ScopedWriteHook(test_hooks::AtomicWriteHook hook) { test_hooks::set_atomic_write_hook(std::move(hook)); }
  ~ScopedWriteHook() { test_hooks::set_atomic_write_hook(nullptr); }
  ScopedWriteHook(const ScopedWriteHook&) = delete;
  ScopedWriteHook& operator=(const ScopedWriteHook&) = delete;
};

// Same dtype, same shape, same bytes (NaN payloads and -0.0 included).
inline void expect_identical(const Tensor& actual, const Tensor& expected, const std::string& what = "") {
  ASSERT_TRUE(actual.defined()) << what;
  ASSERT_EQ(actual.dtype(), expected.dtype()) << what;
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const Tensor a = actual.contiguous();
  const Tensor e = expected.contiguous();
  if (e.nbytes() > 0) EXPECT_EQ(std::memcmp(a.data_ptr(), e.data_ptr(), e.nbytes()), 0) << what;
}

}  // namespace striate::io::test
