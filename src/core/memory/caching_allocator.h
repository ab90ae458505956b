// The caching policy behind CUDA (and pinned host) memory, after PyTorch's.
//
// Device allocation is slow and synchronising, so memory a tensor gives back
// stays in the cache for the next request of the same stream:
//   - requests are rounded up to 512 bytes; those up to 1 MiB come from the
//     small pool (2 MiB segments), larger ones from the large pool (20 MiB
//     segments for requests under 10 MiB, else the request rounded to 2 MiB);
//   - a request takes the smallest free block of its pool and stream that
//     fits (best fit), and the rest of the block is split off when it is big
//     enough to be useful; a freed block merges with its free neighbours;
//   - a block is reused only by its own stream, so stream order alone keeps
//     reuse safe. A block used on other streams too (`record_stream`) is
//     held until events recorded on those streams at free time have passed;
//   - when the device has no room, the cache gives back every whole free
//     segment and tries once more; then an OutOfMemoryError with the stats.
// Nothing here touches a device: every device call goes through RawMemory,
// which the tests replace with a fake.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/memory/raw_memory.h"
#include "striate/core/memory_stats.h"

namespace striate::memory {

inline constexpr size_t kMinBlockSize = 512;          // every size is a multiple of this
inline constexpr size_t kSmallSize = 1 << 20;         // largest request of the small pool
inline constexpr size_t kSmallSegment = 2 << 20;      // small-pool device allocations
inline constexpr size_t kMinLargeAlloc = 10 << 20;    // below this, large requests share ...
inline constexpr size_t kLargeSegment = 20 << 20;     // ... a 20 MiB segment
inline constexpr size_t kRoundLarge = 2 << 20;        // bigger ones round to 2 MiB

// Knobs, read from STRIATE_CUDA_ALLOC_CONF as "key:value,key:value":
//   caching:0                 every request goes to the device (for debugging
//                             with compute-sanitizer); default 1
//   max_split_size_mb:N       blocks of N MiB or more are never split, so big
//                             blocks are not carved up by small requests
//                             (fights fragmentation); default unlimited
//   poison:1                  fill every device allocation with 0xFF bytes
//                             (NaN in every float type), so a kernel that
//                             leaves part of its output unwritten shows it;
//                             for the GPU tests; default 0
struct AllocatorConfig {
  bool caching = true;
  bool poison = false;
  size_t max_split_size = SIZE_MAX;

  // Throws ValueError naming the bad entry.
  static AllocatorConfig parse(std::string_view spec);
  static AllocatorConfig from_env();  // STRIATE_CUDA_ALLOC_CONF, or the defaults
};

// A picture of the cache, for tests and debugging: one entry per segment,
// its blocks in address order.
struct SegmentInfo {
  uintptr_t address;
  size_t size;
  StreamId stream;
  bool small_pool;
  struct BlockInfo {
    size_t size;
    bool allocated;     // held by a tensor
    bool pending_free;  // released, waiting for other streams' events
  };
  std::vector<BlockInfo> blocks;
};

class CachingAllocator {
 public:
  explicit CachingAllocator(std::unique_ptr<RawMemory> raw, AllocatorConfig config = {});
  ~CachingAllocator();  // gives every segment back (tensors must be gone)
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // Memory for `nbytes` usable in order on `stream`; nullptr for 0 bytes.
  void* allocate(size_t nbytes, StreamId stream);
  // Returns the block to the cache. When the device cannot mark its other
  // streams (record_event throws), the error propagates and the block is
  // never reused.
  void free(void* ptr);
  // The block holding `ptr` is also used on `stream`: when freed, it is not
  // reused until that stream's work queued so far has finished. A no-op for
  // nullptr (the pointer of an empty tensor).
  void record_stream(void* ptr, StreamId stream);
  // Gives every whole free segment back to the device.
  void empty_cache();

  MemoryStats stats() const;
  void reset_peak_stats();
  std::vector<SegmentInfo> snapshot() const;
  const AllocatorConfig& config() const { return config_; }
  RawMemory& raw() { return *raw_; }

  static size_t round_size(size_t nbytes);
  // The device allocation made for a request of this (rounded) size.
  static size_t segment_size(size_t rounded);

 private:
  struct Block;
  struct BySize {  // best fit: smallest block of the stream that fits, then lowest address
    bool operator()(const Block* a, const Block* b) const;
  };
  using Pool = std::set<Block*, BySize>;

  Block* find_free_block(Pool& pool, size_t size, StreamId stream);
  Block* allocate_segment(Pool& pool, size_t size, StreamId stream, size_t requested);
  void* try_device_allocate(size_t nbytes);
  Block* split(Block* block, size_t size);
  void release_block(Block* block);  // back to its pool, merged with free neighbours
  void process_events();
  void wait_for_all_events();
  void release_free_segments();
  [[noreturn]] void throw_out_of_memory(size_t requested, size_t segment);
  MemoryStats stats_locked() const;  // stats_ with the counts read off the containers
  void count_reserved(int64_t delta);
  void count_active(int64_t delta);

  std::unique_ptr<RawMemory> raw_;
  AllocatorConfig config_;
  mutable std::mutex mutex_;
  Pool small_pool_;
  Pool large_pool_;
  std::unordered_map<void*, Block*> allocated_;  // by the pointer handed out
  // Released blocks waiting on events: event -> block, in recording order.
  std::vector<std::pair<EventId, Block*>> pending_events_;
  std::set<Block*> segments_;  // the first block of each segment
  MemoryStats stats_;  // allocations and segments are left 0: see stats_locked()
};

}  // namespace striate::memory
