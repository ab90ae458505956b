// Helpers for the data tests: a scratch folder, byte builders for IDX, gzip
// and CIFAR files, and the committed fixtures.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "striate/striate.h"

namespace striate::data::test {

using Bytes = std::vector<uint8_t>;

// tests/data/fixtures, found from the reference folder tests/CMakeLists.txt defines.
inline std::string fixture(const std::string& name) {
  return (std::filesystem::path(STRIATE_REFERENCE_DIR) / ".." / ".." / "data" / "fixtures" / name).string();
}

// A fresh folder, removed with its contents at scope exit.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("striate_data_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const Bytes& bytes) const {
    const auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

inline Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void put_be32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

// An IDX file of unsigned bytes with the given dims.
inline Bytes idx_u8(const std::vector<uint32_t>& dims, const Bytes& data) {
  Bytes b{0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) put_be32(b, d);
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

inline uint32_t crc32(const Bytes& data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (uint8_t byte : data) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// A valid gzip file holding `data` in stored (uncompressed) deflate blocks:
// written without zlib, so the tests can make .gz files of any content.
inline Bytes gzip_stored(const Bytes& data) {
  Bytes b{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
  size_t at = 0;
  do {
    const size_t n = std::min<size_t>(65535, data.size() - at);
    const bool last = at + n == data.size();
    b.push_back(last ? 1 : 0);
    b.push_back(static_cast<uint8_t>(n));
    b.push_back(static_cast<uint8_t>(n >> 8));
    b.push_back(static_cast<uint8_t>(~n));
    b.push_back(static_cast<uint8_t>(~n >> 8));
    b.insert(b.end(), data.begin() + static_cast<std::ptrdiff_t>(at), data.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
  } while (at < data.size());
  const uint32_t crc = crc32(data), size = static_cast<uint32_t>(data.size());
  for (int s = 0; s < 32; s += 8) b.push_back(static_cast<uint8_t>(crc >> s));
  for (int s = 0; s < 32; s += 8) b.push_back(static_cast<uint8_t>(size >> s));
  return b;
}

// CIFAR records: label byte(s) then 3072 pixels, pixel i of record r = (r * 31 + i) % 256.
inline Bytes cifar_records(const std::vector<std::vector<uint8_t>>& labels) {
  Bytes b;
  for (size_t r = 0; r < labels.size(); ++r) {
    b.insert(b.end(), labels[r].begin(), labels[r].end());
    for (int i = 0; i < 3072; ++i) b.push_back(static_cast<uint8_t>((r * 31 + i) % 256));
  }
  return b;
}

// A deterministic byte source for the fuzz tests.
class ByteRandom {
 public:
  explicit ByteRandom(uint64_t seed) : random_(seed, 0, 12345) {}
  uint8_t byte() { return static_cast<uint8_t>(random_.next_u32()); }
  int64_t below(int64_t n) { return random_.randint(0, n); }
  Bytes bytes(size_t n) {
    Bytes b(n);
    for (auto& x : b) x = byte();
    return b;
  }

 private:
  SampleRandom random_;
};

inline Tensor u8_tensor(const Shape& sizes, const std::vector<uint8_t>& values) {
  return from_vector(values, sizes);
}

}  // namespace striate::data::test
