// The caching policy on the CPU, against a fake device that hands out
// address ranges (never touched), counts every call and lets the test decide
// when stream events complete.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <sstream>
#include <vector>

#include "core/memory/caching_allocator.h"
#include "striate/core/error.h"

namespace striate::memory {
namespace {

constexpr size_t KiB = 1024;
constexpr size_t MiB = 1024 * KiB;

struct FakeState {
  size_t capacity = 1024 * MiB;
  size_t in_use = 0;
  uintptr_t next_address = 0x100000000;
  std::map<uintptr_t, size_t> live;  // device allocations
  std::map<EventId, bool> events;    // recorded, not destroyed: done?
  EventId next_event = 1;
  int64_t allocs = 0;
  int64_t frees = 0;
  int synchronizes = 0;
  int events_before_failure = -1;  // record_event throws once this many more have been made (-1: never)

  void complete_events() {
    for (auto& [id, done] : events) done = true;
  }
};

class FakeDevice final : public RawMemory {
 public:
  explicit FakeDevice(std::shared_ptr<FakeState> s) : s_(std::move(s)) {}
  void* allocate(size_t n) override {
    if (s_->in_use + n > s_->capacity) return nullptr;
    const uintptr_t address = s_->next_address;
    s_->next_address += (n + 4095) / 4096 * 4096 + 4096;  // a gap: adjacent segments never touch
    s_->live[address] = n;
    s_->in_use += n;
    s_->allocs += 1;
    return reinterpret_cast<void*>(address);
  }
  void deallocate(void* p) override {
    auto it = s_->live.find(reinterpret_cast<uintptr_t>(p));
    ASSERT_NE(it, s_->live.end()) << "deallocate of a pointer the device never gave out";
    s_->in_use -= it->second;
    s_->live.erase(it);
    s_->frees += 1;
  }
  EventId record_event(StreamId) override {
    if (s_->events_before_failure == 0) throw DeviceError("fake: cudaEventRecord failed");
    if (s_->events_before_failure > 0) s_->events_before_failure -= 1;
    const EventId id = s_->next_event++;
    s_->events[id] = false;
    return id;
  }
  bool event_done(EventId e) override { return s_->events.at(e); }
  void destroy_event(EventId e) override { EXPECT_EQ(s_->events.erase(e), 1u) << "event destroyed twice"; }
  void synchronize() override {
    s_->synchronizes += 1;
    s_->complete_events();
  }
  std::string name() const override { return "fake:0"; }

 private:
  std::shared_ptr<FakeState> s_;
};

struct Fixture {
  std::shared_ptr<FakeState> device = std::make_shared<FakeState>();
  std::unique_ptr<CachingAllocator> cache;
  explicit Fixture(AllocatorConfig config = {}, size_t capacity = 1024 * MiB) {
    device->capacity = capacity;
    cache = std::make_unique<CachingAllocator>(std::make_unique<FakeDevice>(device), config);
  }
};

uintptr_t addr(void* p) { return reinterpret_cast<uintptr_t>(p); }

// Sizes of a segment's blocks, allocated ones marked with a leading '+'.
std::vector<std::string> layout(const SegmentInfo& seg) {
  std::vector<std::string> out;
  for (const auto& b : seg.blocks)
    out.push_back((b.allocated ? "+" : b.pending_free ? "~" : "") + std::to_string(b.size / KiB) + "K");
  return out;
}

TEST(CachingAllocator, RoundsSizesAndPicksPools) {
  Fixture f;
  EXPECT_EQ(CachingAllocator::round_size(1), 512u);
  EXPECT_EQ(CachingAllocator::round_size(512), 512u);
  EXPECT_EQ(CachingAllocator::round_size(513), 1024u);
  EXPECT_EQ(CachingAllocator::segment_size(512), kSmallSegment);
  EXPECT_EQ(CachingAllocator::segment_size(MiB + 512), kLargeSegment);
  EXPECT_EQ(CachingAllocator::segment_size(12 * MiB + 512), 14 * MiB);

  void* small = f.cache->allocate(1, 0);
  MemoryStats s = f.cache->stats();
  EXPECT_EQ(s.allocated_bytes, 512);
  EXPECT_EQ(s.requested_bytes, 1);
  EXPECT_EQ(s.reserved_bytes, static_cast<int64_t>(kSmallSegment));
  void* huge = f.cache->allocate(14 * MiB, 0);  // a segment of its own, nothing left over
  void* large = f.cache->allocate(MiB + 1, 0);
  auto segs = f.cache->snapshot();
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_TRUE(segs[0].small_pool);
  EXPECT_EQ(segs[0].size, kSmallSegment);
  EXPECT_FALSE(segs[1].small_pool);
  EXPECT_EQ(segs[1].size, 14 * MiB);
  EXPECT_EQ(segs[2].size, kLargeSegment);
  EXPECT_EQ(f.cache->stats().num_device_allocs, 3);
  EXPECT_EQ(f.cache->allocate(0, 0), nullptr);
  for (void* p : {small, large, huge}) f.cache->free(p);
  EXPECT_EQ(f.cache->stats().allocated_bytes, 0);
  EXPECT_EQ(f.cache->stats().reserved_bytes, static_cast<int64_t>(kSmallSegment + kLargeSegment + 14 * MiB));
}

TEST(CachingAllocator, ReusesAFreedBlockWithoutADeviceCall) {
  Fixture f;
  void* p = f.cache->allocate(1000, 0);
  f.cache->free(p);
  void* q = f.cache->allocate(900, 0);  // rounds to the same 1024 bytes
  EXPECT_EQ(q, p);
  EXPECT_EQ(f.device->allocs, 1);
  f.cache->free(q);
}

TEST(CachingAllocator, SmallRequestsShareOneSegment) {
  Fixture f;
  std::vector<void*> ptrs;
  for (int i = 0; i < 100; ++i) ptrs.push_back(f.cache->allocate(4 * KiB, 0));
  EXPECT_EQ(f.device->allocs, 1);
  std::sort(ptrs.begin(), ptrs.end());
  for (size_t i = 1; i < ptrs.size(); ++i) EXPECT_GE(addr(ptrs[i]) - addr(ptrs[i - 1]), 4 * KiB);
  const auto segs = f.cache->snapshot();
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_GE(addr(ptrs.front()), segs[0].address);
  EXPECT_LE(addr(ptrs.back()) + 4 * KiB, segs[0].address + segs[0].size);
  for (void* p : ptrs) f.cache->free(p);
}

TEST(CachingAllocator, SplitsAndCoalescesNeighbours) {
  Fixture f;
  void* a = f.cache->allocate(256 * KiB, 0);
  void* b = f.cache->allocate(256 * KiB, 0);
  void* c = f.cache->allocate(256 * KiB, 0);
  EXPECT_EQ(addr(b), addr(a) + 256 * KiB);
  using L = std::vector<std::string>;
  EXPECT_EQ(layout(f.cache->snapshot()[0]), (L{"+256K", "+256K", "+256K", "1280K"}));
  f.cache->free(b);
  EXPECT_EQ(layout(f.cache->snapshot()[0]), (L{"+256K", "256K", "+256K", "1280K"}));
  f.cache->free(a);
  EXPECT_EQ(layout(f.cache->snapshot()[0]), (L{"512K", "+256K", "1280K"}));
  f.cache->free(c);
  EXPECT_EQ(layout(f.cache->snapshot()[0]), (L{"2048K"}));
  f.cache->empty_cache();
  EXPECT_TRUE(f.cache->snapshot().empty());
  EXPECT_EQ(f.device->frees, 1);
  EXPECT_EQ(f.cache->stats().reserved_bytes, 0);
}

TEST(CachingAllocator, TakesTheSmallestFreeBlockThatFits) {
  Fixture f;
  void* a = f.cache->allocate(4 * MiB, 0);
  void* x = f.cache->allocate(2 * MiB, 0);
  void* b = f.cache->allocate(2 * MiB, 0);
  void* y = f.cache->allocate(2 * MiB, 0);  // leaves a free 10 MiB tail
  f.cache->free(a);
  f.cache->free(b);
  EXPECT_EQ(f.cache->allocate(2 * MiB, 0), b);  // not the 4 MiB hole, not the tail
  EXPECT_EQ(f.cache->allocate(3 * MiB, 0), a);  // the 4 MiB hole, split
  EXPECT_EQ(f.device->allocs, 1);
  for (void* p : {a, b, x, y}) f.cache->free(p);
  using L = std::vector<std::string>;
  EXPECT_EQ(layout(f.cache->snapshot()[0]), (L{"20480K"}));
}

TEST(CachingAllocator, LargeRemaindersUnder1MiBAreNotSplitOff) {
  Fixture f;
  void* p = f.cache->allocate(19 * MiB + 512 * KiB, 0);  // a 20 MiB segment, 512 KiB left over
  EXPECT_EQ(f.cache->snapshot()[0].blocks.size(), 1u);
  EXPECT_EQ(f.cache->stats().allocated_bytes, static_cast<int64_t>(20 * MiB));
  f.cache->free(p);
}

TEST(CachingAllocator, StreamsDoNotShareBlocks) {
  Fixture f;
  const StreamId s1 = 11, s2 = 22;
  void* p = f.cache->allocate(1000, s1);
  f.cache->free(p);
  void* q = f.cache->allocate(1000, s2);
  EXPECT_NE(q, p);
  EXPECT_EQ(f.device->allocs, 2);
  EXPECT_EQ(f.cache->allocate(1000, s1), p);
  f.cache->free(p);
  f.cache->free(q);
}

TEST(CachingAllocator, RecordStreamHoldsABlockUntilTheOtherStreamPasses) {
  Fixture f;
  const StreamId s1 = 11, s2 = 22, s3 = 33;
  void* p = f.cache->allocate(1000, s1);
  f.cache->record_stream(p, s2);
  f.cache->record_stream(p, s3);
  f.cache->record_stream(p, s1);  // its own stream: nothing to wait for
  f.cache->free(p);
  EXPECT_EQ(f.device->events.size(), 2u);
  MemoryStats s = f.cache->stats();
  EXPECT_EQ(s.allocated_bytes, 0);
  EXPECT_EQ(s.active_bytes, 1024);
  EXPECT_TRUE(f.cache->snapshot()[0].blocks[0].pending_free);

  void* q = f.cache->allocate(1000, s1);
  EXPECT_NE(q, p) << "reused while stream 22 may still use it";
  f.device->events.begin()->second = true;  // one of two streams done
  void* r = f.cache->allocate(1000, s1);
  EXPECT_NE(r, p);
  f.device->complete_events();
  void* t = f.cache->allocate(1000, s1);
  EXPECT_EQ(t, p);
  EXPECT_TRUE(f.device->events.empty()) << "events not destroyed";
  for (void* x : {q, r, t}) f.cache->free(x);
  EXPECT_EQ(f.cache->stats().active_bytes, 0);
}

// A broken context: the second of two marks fails. The block must not come
// back once the first mark passes, since the second stream was never waited for.
TEST(CachingAllocator, ABlockWhoseStreamsCannotBeMarkedIsNeverReused) {
  Fixture f;
  void* p = f.cache->allocate(1000, 1);
  f.cache->record_stream(p, 2);
  f.cache->record_stream(p, 3);
  f.device->events_before_failure = 1;
  EXPECT_THROW(f.cache->free(p), DeviceError);
  f.device->events_before_failure = -1;
  f.device->complete_events();
  std::vector<void*> later;
  for (int i = 0; i < 8; ++i) later.push_back(f.cache->allocate(1000, 1));
  for (void* q : later) EXPECT_NE(q, p) << "a block reused while a stream may still use it";
  EXPECT_EQ(f.cache->stats().allocated_bytes, 8 * 1024);
  for (void* q : later) f.cache->free(q);
}

TEST(CachingAllocator, RecordStreamOfNoBlockIsANoOp) {
  Fixture f;
  EXPECT_EQ(f.cache->allocate(0, 1), nullptr);
  f.cache->record_stream(nullptr, 2);  // an empty tensor's storage
  EXPECT_TRUE(f.device->events.empty());
}

TEST(CachingAllocator, EmptyCacheWaitsForPendingBlocks) {
  Fixture f;
  void* p = f.cache->allocate(1000, 1);
  f.cache->record_stream(p, 2);
  f.cache->free(p);
  f.cache->empty_cache();
  EXPECT_EQ(f.device->synchronizes, 1);
  EXPECT_TRUE(f.device->live.empty());
  EXPECT_EQ(f.cache->stats().reserved_bytes, 0);
}

TEST(CachingAllocator, OutOfMemoryFreesTheCacheRetriesThenThrows) {
  Fixture f({}, 24 * MiB);
  void* p = f.cache->allocate(MiB + 1, 0);  // a 20 MiB segment
  f.cache->free(p);                          // ... now cached for stream 0
  void* q = f.cache->allocate(12 * MiB, 1);  // stream 1: fits only once the cache lets go
  MemoryStats s = f.cache->stats();
  EXPECT_EQ(s.num_alloc_retries, 1);
  EXPECT_EQ(s.num_device_frees, 1);
  EXPECT_EQ(s.reserved_bytes, static_cast<int64_t>(12 * MiB));

  try {
    f.cache->allocate(20 * MiB, 0);
    FAIL() << "expected OutOfMemoryError";
  } catch (const OutOfMemoryError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("fake:0: out of memory: tried to allocate 20.00 MiB"), std::string::npos) << msg;
    EXPECT_NE(msg.find("tensors hold 12.00 MiB"), std::string::npos) << msg;
    EXPECT_NE(msg.find("max_split_size_mb"), std::string::npos) << msg;
  }
  s = f.cache->stats();
  EXPECT_EQ(s.num_ooms, 1);
  EXPECT_EQ(s.allocated_bytes, static_cast<int64_t>(12 * MiB)) << "the failed request must not disturb live blocks";
  f.cache->free(q);
  void* r = f.cache->allocate(20 * MiB, 0);  // room again
  EXPECT_NE(r, nullptr);
  f.cache->free(r);
}

TEST(CachingAllocator, AnImpossibleRequestIsAnOutOfMemoryError) {
  Fixture f;
  EXPECT_THROW(f.cache->allocate(SIZE_MAX - 10, 0), OutOfMemoryError);
  EXPECT_THROW(f.cache->allocate(2048 * MiB, 0), OutOfMemoryError);
  EXPECT_EQ(f.cache->stats().allocated_bytes, 0);
}

TEST(CachingAllocator, SteadyStateLoopsMakeNoDeviceAllocations) {
  Fixture f;
  std::mt19937 rng(7);
  // One "training step": activations of several sizes, freed in reverse as
  // backward runs, a workspace in between, gradients kept until the update.
  const std::vector<size_t> sizes = {3 * MiB, 800 * KiB, 64 * KiB, 6 * MiB, 12 * MiB + 100, 4 * KiB, 1500};
  auto step = [&] {
    std::vector<void*> activations, grads;
    for (size_t s : sizes) activations.push_back(f.cache->allocate(s, 0));
    void* workspace = f.cache->allocate(5 * MiB, 0);
    f.cache->free(workspace);
    for (size_t i = activations.size(); i-- > 0;) {
      grads.push_back(f.cache->allocate(sizes[i], 0));
      f.cache->free(activations[i]);
    }
    std::shuffle(grads.begin(), grads.end(), rng);
    for (void* g : grads) f.cache->free(g);
  };
  step();
  step();
  const int64_t after_warmup = f.device->allocs;
  for (int i = 0; i < 10; ++i) step();
  EXPECT_EQ(f.device->allocs, after_warmup);
  EXPECT_EQ(f.cache->stats().allocated_bytes, 0);
}

TEST(CachingAllocator, WithoutCachingEveryRequestGoesToTheDevice) {
  Fixture f(AllocatorConfig::parse("caching:0"));
  void* p = f.cache->allocate(1000, 0);
  EXPECT_EQ(f.device->live.begin()->second, 1024u);
  f.cache->free(p);
  void* q = f.cache->allocate(1000, 0);
  f.cache->free(q);
  EXPECT_EQ(f.device->allocs, 2);
  EXPECT_EQ(f.device->frees, 2);
  EXPECT_EQ(f.cache->stats().reserved_bytes, 0);
}

TEST(CachingAllocator, BlocksAboveMaxSplitSizeStayWhole) {
  Fixture f(AllocatorConfig::parse("max_split_size_mb:40"));
  void* big = f.cache->allocate(50 * MiB, 0);
  f.cache->free(big);
  void* small = f.cache->allocate(4 * MiB, 0);
  EXPECT_NE(small, big) << "a small request carved up a big block";
  void* again = f.cache->allocate(48 * MiB, 0);
  EXPECT_EQ(again, big);
  EXPECT_EQ(f.cache->snapshot().size(), 2u);
  f.cache->free(small);
  f.cache->free(again);
  // Without the limit the same sequence splits the big block.
  Fixture g;
  big = g.cache->allocate(50 * MiB, 0);
  g.cache->free(big);
  EXPECT_EQ(g.cache->allocate(4 * MiB, 0), big);
}

TEST(CachingAllocator, ParsesItsConfiguration) {
  AllocatorConfig c = AllocatorConfig::parse(" max_split_size_mb:128 , caching:1");
  EXPECT_EQ(c.max_split_size, 128 * MiB);
  EXPECT_TRUE(c.caching);
  EXPECT_FALSE(AllocatorConfig::parse("caching:0").caching);
  EXPECT_EQ(AllocatorConfig::parse("").max_split_size, SIZE_MAX);
  // Beyond what a size_t holds in bytes: no limit, not a wrapped-around small one.
  EXPECT_EQ(AllocatorConfig::parse("max_split_size_mb:9223372036854775807").max_split_size, SIZE_MAX);
  EXPECT_EQ(AllocatorConfig::parse("max_split_size_mb:17592186044415").max_split_size, size_t{17592186044415} << 20);
  EXPECT_FALSE(AllocatorConfig::parse("").poison);
  EXPECT_TRUE(AllocatorConfig::parse("caching:0,poison:1").poison);
  auto message = [](const char* spec) {
    try {
      AllocatorConfig::parse(spec);
    } catch (const ValueError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("caching"), "STRIATE_CUDA_ALLOC_CONF: expected key:value, got 'caching'");
  EXPECT_EQ(message("caching:yes"), "STRIATE_CUDA_ALLOC_CONF: caching expects an integer, got 'yes'");
  EXPECT_EQ(message("caching:2"), "STRIATE_CUDA_ALLOC_CONF: caching expects 0 or 1, got 2");
  EXPECT_EQ(message("max_split_size_mb:8"), "STRIATE_CUDA_ALLOC_CONF: max_split_size_mb must be at least 21, got 8");
  EXPECT_EQ(message("garbage:1"), "STRIATE_CUDA_ALLOC_CONF: unknown option 'garbage' (known: caching, max_split_size_mb, poison)");
  EXPECT_EQ(message("poison:3"), "STRIATE_CUDA_ALLOC_CONF: poison expects 0 or 1, got 3");
}

TEST(CachingAllocator, FreeingAForeignOrFreedPointerIsAnError) {
  Fixture f;
  void* p = f.cache->allocate(100, 0);
  f.cache->free(p);
  EXPECT_THROW(f.cache->free(p), ValueError);
  int local = 0;
  EXPECT_THROW(f.cache->free(&local), ValueError);
  EXPECT_THROW(f.cache->record_stream(&local, 1), ValueError);
  f.cache->free(nullptr);  // like std::free
}

// Long random sequences over three streams: blocks never overlap, lie in
// their segments, free neighbours always merge, and every statistic agrees
// with a recount.
TEST(CachingAllocator, RandomSequencesKeepEveryInvariant) {
  Fixture f({}, 512 * MiB);
  std::mt19937_64 rng(2026);
  struct Live { size_t rounded, requested; StreamId stream; };
  std::map<uintptr_t, Live> live;
  std::uniform_real_distribution<double> log_size(0.0, std::log(24.0 * MiB));
  std::uniform_int_distribution<int> pick_stream(1, 3), percent(0, 99);
  int ooms = 0;

  auto check = [&] {
    // No overlap: consecutive live blocks by address.
    uintptr_t end = 0;
    int64_t allocated = 0, requested = 0;
    for (const auto& [a, l] : live) {
      ASSERT_GE(a, end) << "blocks overlap";
      end = a + l.rounded;
      allocated += static_cast<int64_t>(l.rounded);
      requested += static_cast<int64_t>(l.requested);
    }
    const MemoryStats s = f.cache->stats();
    ASSERT_EQ(s.allocated_bytes, allocated);
    ASSERT_EQ(s.requested_bytes, requested);
    ASSERT_EQ(s.allocations, static_cast<int64_t>(live.size()));
    ASSERT_EQ(s.reserved_bytes, static_cast<int64_t>(f.device->in_use));
    ASSERT_EQ(s.segments, static_cast<int64_t>(f.device->live.size()));
    ASSERT_EQ(s.num_device_allocs - s.num_device_frees, s.segments);
    ASSERT_LE(s.allocated_bytes, s.active_bytes);
    ASSERT_LE(s.active_bytes, s.reserved_bytes);
    ASSERT_LE(s.reserved_bytes, s.reserved_bytes_peak);
    int64_t reserved = 0, in_blocks = 0;
    for (const SegmentInfo& seg : f.cache->snapshot()) {
      reserved += static_cast<int64_t>(seg.size);
      ASSERT_EQ(f.device->live.at(seg.address), seg.size);
      uintptr_t at = seg.address;
      bool prev_free = false;
      for (const auto& b : seg.blocks) {
        const bool is_free = !b.allocated && !b.pending_free;
        ASSERT_FALSE(prev_free && is_free) << "two free neighbours were not merged";
        prev_free = is_free;
        if (b.allocated) {
          auto it = live.find(at);
          ASSERT_NE(it, live.end()) << "an allocated block the test does not hold";
          ASSERT_EQ(it->second.rounded, b.size);
          ASSERT_EQ(it->second.stream, seg.stream);
          in_blocks += static_cast<int64_t>(b.size);
        }
        at += b.size;
      }
    }
    ASSERT_EQ(reserved, s.reserved_bytes);
    ASSERT_EQ(in_blocks, allocated) << "a live block lies outside every segment";
  };

  for (int op = 0; op < 6000; ++op) {
    const int r = percent(rng);
    if (r < 50 || live.empty()) {
      const size_t n = static_cast<size_t>(std::exp(log_size(rng)));
      const StreamId stream = static_cast<StreamId>(pick_stream(rng));
      try {
        void* p = f.cache->allocate(n, stream);
        live[addr(p)] = {0, n, stream};
        // The block's size is the rounded request, or a whole large segment
        // when the remainder was too small to split off: read it back.
        for (const SegmentInfo& seg : f.cache->snapshot()) {
          uintptr_t at = seg.address;
          for (const auto& b : seg.blocks) {
            if (at == addr(p)) live[addr(p)].rounded = b.size;
            at += b.size;
          }
        }
        ASSERT_GE(live[addr(p)].rounded, CachingAllocator::round_size(n));
        ASSERT_LT(live[addr(p)].rounded, CachingAllocator::round_size(n) + MiB + 1);
      } catch (const OutOfMemoryError&) {
        ++ooms;
      }
    } else if (r < 90) {
      auto it = live.begin();
      std::advance(it, static_cast<long>(rng() % live.size()));
      if (percent(rng) < 20) f.cache->record_stream(reinterpret_cast<void*>(it->first), pick_stream(rng));
      f.cache->free(reinterpret_cast<void*>(it->first));
      live.erase(it);
    } else if (r < 98) {
      f.device->complete_events();
    } else {
      f.cache->empty_cache();
    }
    if (op % 16 == 0) check();
    if (HasFatalFailure()) return;
  }
  check();
  EXPECT_EQ(f.cache->stats().num_ooms, ooms);
  for (const auto& [a, l] : live) f.cache->free(reinterpret_cast<void*>(a));
  live.clear();
  f.cache->empty_cache();
  check();
  EXPECT_TRUE(f.device->live.empty());
  EXPECT_TRUE(f.device->events.empty());
}

TEST(MemoryStats, PrintsInHumanUnits) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1536), "1.50 KiB");
  EXPECT_EQ(format_bytes(20 * MiB), "20.00 MiB");
  EXPECT_EQ(format_bytes(int64_t{3} << 30), "3.00 GiB");
  MemoryStats s;
  s.allocated_bytes = 2 * MiB;
  std::ostringstream os;
  os << s;
  EXPECT_NE(os.str().find("allocated 2.00 MiB"), std::string::npos) << os.str();
}

}  // namespace
}  // namespace striate::memory
