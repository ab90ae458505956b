// Random-number state: a seed and an offset into Philox's counter space.
//
// Each random op consumes a range of counters and advances the offset, so a
// sequence of ops from one seed is reproducible and device-independent.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

namespace striate {

class Generator {
 public:
  explicit Generator(uint64_t seed = 67280421310721ull) : seed_(seed) {}

  void manual_seed(uint64_t seed) {
    std::lock_guard<std::mutex> lock(mutex_);
    seed_ = seed;
    offset_ = 0;
  }
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) {
    std::lock_guard<std::mutex> lock(mutex_);
    seed_ = seed;
    offset_ = offset;
  }
  // Reserves `n` counters and returns the first; thread-safe.
  uint64_t reserve(uint64_t n) {
    std::lock_guard<std::mutex> lock(mutex_);
    uint64_t first = offset_;
    offset_ += n;
    return first;
  }

 private:
  std::mutex mutex_;
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// The generator random ops use when none is passed.
Generator& default_generator();
// Seeds the default generator (torch::manual_seed).
void manual_seed(uint64_t seed);

}  // namespace striate
