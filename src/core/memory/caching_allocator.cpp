#include "core/memory/caching_allocator.h"

#include <algorithm>
#include <sstream>
#include <tuple>

#include "striate/core/error.h"

namespace striate::memory {

// A range of one segment. The blocks of a segment form a list in address
// order; a free block is in its pool, an allocated one in `allocated_`, a
// pending one (released, waiting on events) in neither.
struct CachingAllocator::Block {
  Block(char* p, size_t n, StreamId s, Pool* in) : ptr(p), size(n), stream(s), pool(in) {}
  char* ptr;
  size_t size;
  StreamId stream;
  Pool* pool;
  Block* prev = nullptr;
  Block* next = nullptr;
  size_t requested = 0;  // what the caller asked for, while allocated
  bool allocated = false;
  int pending_events = 0;
  std::unordered_set<StreamId> stream_uses;  // other streams, from record_stream

  bool is_free() const { return !allocated && pending_events == 0; }
};

bool CachingAllocator::BySize::operator()(const Block* a, const Block* b) const {
  return std::tie(a->stream, a->size, a->ptr) < std::tie(b->stream, b->size, b->ptr);
}

CachingAllocator::CachingAllocator(std::unique_ptr<RawMemory> raw, AllocatorConfig config)
    : raw_(std::move(raw)), config_(config) {}

CachingAllocator::~CachingAllocator() {
  std::lock_guard<std::mutex> lock(mutex_);
  wait_for_all_events();
  release_free_segments();
  // What is left is still held by tensors: their memory cannot be given
  // back, but the bookkeeping goes.
  for (Block* head : segments_) {
    for (Block* b = head; b != nullptr;) {
      Block* next = b->next;
      delete b;
      b = next;
    }
  }
}

size_t CachingAllocator::round_size(size_t nbytes) {
  if (nbytes < kMinBlockSize) return kMinBlockSize;
  return (nbytes + kMinBlockSize - 1) / kMinBlockSize * kMinBlockSize;
}

size_t CachingAllocator::segment_size(size_t rounded) {
  if (rounded <= kSmallSize) return kSmallSegment;
  if (rounded < kMinLargeAlloc) return kLargeSegment;
  return (rounded + kRoundLarge - 1) / kRoundLarge * kRoundLarge;
}

void* CachingAllocator::allocate(size_t nbytes, StreamId stream) {
  if (nbytes == 0) return nullptr;
  std::lock_guard<std::mutex> lock(mutex_);
  if (nbytes > SIZE_MAX / 2) throw_out_of_memory(nbytes, nbytes);  // no device has that much
  process_events();
  const size_t size = round_size(nbytes);
  Pool& pool = size <= kSmallSize ? small_pool_ : large_pool_;
  Block* block = config_.caching ? find_free_block(pool, size, stream) : nullptr;
  if (block == nullptr) block = allocate_segment(pool, size, stream, nbytes);
  block = split(block, size);

  block->allocated = true;
  block->requested = nbytes;
  allocated_[block->ptr] = block;
  stats_.allocated_bytes += static_cast<int64_t>(block->size);
  stats_.allocated_bytes_peak = std::max(stats_.allocated_bytes_peak, stats_.allocated_bytes);
  stats_.requested_bytes += static_cast<int64_t>(nbytes);
  stats_.num_allocs += 1;
  count_active(static_cast<int64_t>(block->size));
  return block->ptr;
}

CachingAllocator::Block* CachingAllocator::find_free_block(Pool& pool, size_t size, StreamId stream) {
  Block key{nullptr, size, stream, &pool};
  auto it = pool.lower_bound(&key);
  if (it == pool.end() || (*it)->stream != stream) return nullptr;
  Block* block = *it;
  // Big blocks stay whole for big requests (max_split_size_mb): a small
  // request never takes one, and a big request only one that it nearly fills.
  const size_t max_split = config_.max_split_size;
  if (size < max_split && block->size >= max_split) return nullptr;
  if (size >= max_split && block->size >= size + kLargeSegment) return nullptr;
  pool.erase(it);
  return block;
}

CachingAllocator::Block* CachingAllocator::allocate_segment(Pool& pool, size_t size, StreamId stream,
                                                            size_t requested) {
  // Without caching, the device sees each request as it is (rounded to 512).
  const size_t bytes = config_.caching ? segment_size(size) : size;
  void* ptr = raw_->allocate(bytes);
  if (ptr == nullptr) {
    // Cached blocks of other sizes or streams may be what stands in the way.
    stats_.num_alloc_retries += 1;
    wait_for_all_events();
    release_free_segments();
    ptr = raw_->allocate(bytes);
  }
  if (ptr == nullptr) {
    stats_.num_ooms += 1;
    throw_out_of_memory(requested, bytes);
  }
  auto* block = new Block{static_cast<char*>(ptr), bytes, stream, &pool};
  segments_.insert(block);
  stats_.num_device_allocs += 1;
  count_reserved(static_cast<int64_t>(bytes));
  return block;
}

CachingAllocator::Block* CachingAllocator::split(Block* block, size_t size) {
  const size_t remaining = block->size - size;
  // A small-pool rest is always worth keeping; a large-pool rest only when it
  // could serve a large request, and never out of a block kept whole.
  const bool small = block->pool == &small_pool_;
  const bool worth_it = small ? remaining >= kMinBlockSize
                              : remaining > kSmallSize && block->size < config_.max_split_size;
  if (!worth_it) return block;
  auto* rest = new Block{block->ptr + size, remaining, block->stream, block->pool};
  rest->prev = block;
  rest->next = block->next;
  if (rest->next != nullptr) rest->next->prev = rest;
  block->next = rest;
  block->size = size;
  rest->pool->insert(rest);
  return block;
}

void CachingAllocator::free(void* ptr) {
  if (ptr == nullptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = allocated_.find(ptr);
  STRIATE_CHECK(it != allocated_.end(), ValueError, raw_->name(), " allocator: free of ", ptr,
                ", which it did not allocate or has already freed");
  Block* block = it->second;
  allocated_.erase(it);
  block->allocated = false;
  stats_.allocated_bytes -= static_cast<int64_t>(block->size);
  stats_.requested_bytes -= static_cast<int64_t>(block->requested);
  stats_.num_frees += 1;
  block->requested = 0;

  if (block->stream_uses.empty()) {
    release_block(block);
    return;
  }
  // Other streams may still read or write this block: mark where they are
  // now, and keep it out of the pool until the device has passed the marks.
  // The extra count holds it out while marking: if a mark cannot be made (a
  // broken CUDA context), the block is never reused rather than reused early.
  block->pending_events += 1;
  for (StreamId s : block->stream_uses) {
    pending_events_.emplace_back(raw_->record_event(s), block);
    block->pending_events += 1;
  }
  block->pending_events -= 1;
  block->stream_uses.clear();
}

void CachingAllocator::record_stream(void* ptr, StreamId stream) {
  if (ptr == nullptr) return;  // an empty tensor's: no block, nothing to hold
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = allocated_.find(ptr);
  STRIATE_CHECK(it != allocated_.end(), ValueError, raw_->name(), " allocator: record_stream on ", ptr,
                ", which is not an allocated block");
  if (stream != it->second->stream) it->second->stream_uses.insert(stream);
}

void CachingAllocator::release_block(Block* block) {
  count_active(-static_cast<int64_t>(block->size));
  Pool& pool = *block->pool;
  // Merge the later block into the earlier, so a segment's first block
  // (the one `segments_` holds) is never the one deleted.
  auto absorb_next = [](Block* b) {
    Block* next = b->next;
    b->size += next->size;
    b->next = next->next;
    if (b->next != nullptr) b->next->prev = b;
    delete next;
  };
  if (block->prev != nullptr && block->prev->is_free()) {
    block = block->prev;
    pool.erase(block);
    absorb_next(block);
  }
  if (block->next != nullptr && block->next->is_free()) {
    pool.erase(block->next);
    absorb_next(block);
  }
  pool.insert(block);
  if (!config_.caching) release_free_segments();
}

void CachingAllocator::process_events() {
  std::erase_if(pending_events_, [this](const std::pair<EventId, Block*>& entry) {
    if (!raw_->event_done(entry.first)) return false;
    raw_->destroy_event(entry.first);
    if (--entry.second->pending_events == 0) release_block(entry.second);
    return true;
  });
}

void CachingAllocator::wait_for_all_events() {
  if (pending_events_.empty()) return;
  raw_->synchronize();
  process_events();
}

void CachingAllocator::release_free_segments() {
  for (auto it = segments_.begin(); it != segments_.end();) {
    Block* head = *it;
    if (head->next != nullptr || !head->is_free()) {
      ++it;
      continue;
    }
    head->pool->erase(head);
    raw_->deallocate(head->ptr);
    stats_.num_device_frees += 1;
    count_reserved(-static_cast<int64_t>(head->size));
    delete head;
    it = segments_.erase(it);
  }
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  wait_for_all_events();
  release_free_segments();
}

void CachingAllocator::throw_out_of_memory(size_t requested, size_t segment) {
  int64_t cached_free = 0;
  for (const Pool* pool : {&small_pool_, &large_pool_})
    for (const Block* b : *pool) cached_free += static_cast<int64_t>(b->size);
  std::ostringstream msg;
  msg << raw_->name() << ": out of memory: tried to allocate " << format_bytes(static_cast<int64_t>(requested))
      << " (a device allocation of " << format_bytes(static_cast<int64_t>(segment)) << ")";
  if (config_.caching) msg << ", which failed again after the cache gave back its free segments";
  msg << "; tensors hold " << format_bytes(stats_.allocated_bytes) << ", the cache reserves "
      << format_bytes(stats_.reserved_bytes) << " of which " << format_bytes(cached_free)
      << " is free but fragmented or on other streams. Stats: " << stats_locked()
      << ". Free tensors, use a smaller batch, or set STRIATE_CUDA_ALLOC_CONF=max_split_size_mb:N"
         " if fragmentation is the cause";
  throw OutOfMemoryError(msg.str());
}

void CachingAllocator::count_reserved(int64_t delta) {
  stats_.reserved_bytes += delta;
  stats_.reserved_bytes_peak = std::max(stats_.reserved_bytes_peak, stats_.reserved_bytes);
}

void CachingAllocator::count_active(int64_t delta) {
  stats_.active_bytes += delta;
  stats_.active_bytes_peak = std::max(stats_.active_bytes_peak, stats_.active_bytes);
}

MemoryStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_locked();
}

MemoryStats CachingAllocator::stats_locked() const {
  MemoryStats s = stats_;
  s.allocations = static_cast<int64_t>(allocated_.size());
  s.segments = static_cast<int64_t>(segments_.size());
  return s;
}

void CachingAllocator::reset_peak_stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.allocated_bytes_peak = stats_.allocated_bytes;
  stats_.reserved_bytes_peak = stats_.reserved_bytes;
  stats_.active_bytes_peak = stats_.active_bytes;
}

std::vector<SegmentInfo> CachingAllocator::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<SegmentInfo> out;
  for (const Block* head : segments_) {
    SegmentInfo seg{reinterpret_cast<uintptr_t>(head->ptr), 0, head->stream, head->pool == &small_pool_, {}};
    for (const Block* b = head; b != nullptr; b = b->next) {
      seg.size += b->size;
      seg.blocks.push_back({b->size, b->allocated, !b->allocated && b->pending_events > 0});
    }
    out.push_back(std::move(seg));
  }
  std::sort(out.begin(), out.end(), [](const SegmentInfo& a, const SegmentInfo& b) { return a.address < b.address; });
  return out;
}

}  // namespace striate::memory
