// Random numbers for data loading: one Philox stream per (seed, epoch, stream).
//
// A sample's augmentation draws from the stream named by its dataset index,
// and the shuffle from a stream of its own, so that what a batch holds depends
// only on the seed and the epoch, never on which worker thread built it or in
// what order the workers ran.
#pragma once

#include <cstdint>

#include "striate/core/philox.h"

namespace striate::data {

class SampleRandom {
 public:
  // The stream the shuffle of an epoch draws from; sample streams are indices.
  static constexpr uint64_t kShuffleStream = ~0ull;

  // The key is seed + epoch (as PyTorch's DistributedSampler seeds its
  // shuffle), so every epoch reshuffles and re-augments, reproducibly.
  SampleRandom(uint64_t seed, uint64_t epoch, uint64_t stream) : key_(seed + epoch), stream_(stream) {}

  uint32_t next_u32() {
    if (used_ == 4) {
      block_ = philox::philox4x32_10(counter_++, stream_, key_);
      used_ = 0;
    }
    return block_.x[used_++];
  }
  uint64_t next_u64() {
    const uint64_t hi = next_u32();
    return (hi << 32) | next_u32();
  }
  // Uniform in [0, 1), 53 random bits.
  double uniform() {
    const uint32_t hi = next_u32();
    return philox::uniform_double(hi, next_u32());
  }
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  // Uniform integer in [low, high); high > low. The modulo bias is below
  // 2^-40 for any range a dataset or an image has.
  int64_t randint(int64_t low, int64_t high) {
    const auto range = static_cast<uint64_t>(high - low);
    return low + static_cast<int64_t>(next_u64() % range);
  }
  bool bernoulli(double p) { return uniform() < p; }

 private:
  uint64_t key_;
  uint64_t stream_;
  uint64_t counter_ = 0;
  philox::Block block_{};
  int used_ = 4;
};

}  // namespace striate::data
