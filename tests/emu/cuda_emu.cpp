// The CUDA emulator's engine (see cuda_emu.h): a persistent pool of OS
// threads that plays the threads of one block at a time, the barriers
// behind __syncthreads and the warp collectives, and host versions of the
// CUDA runtime calls the kernel files make. Nothing here links libcudart:
// device pointers are host pointers.
#include "cuda_emu.h"

#include <barrier>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/cuda/cuda_check.h"
#include "striate/core/error.h"

thread_local uint3 threadIdx;
thread_local uint3 blockIdx;
thread_local dim3 blockDim;
thread_local dim3 gridDim;

namespace striate_emu {
namespace {

// CUDA's limits for every device of compute capability 7.0 and later.
constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr unsigned kMaxBlockDim[3] = {1024, 1024, 64};
constexpr unsigned kMaxGridDim[3] = {2147483647u, 65535, 65535};
constexpr size_t kMaxDynamicShared = 48 * 1024;  // without the opt-in attribute

thread_local cudaError_t last_error = cudaSuccess;

// A barrier whose party count is set per block (std::barrier cannot be reset).
using Barrier = std::optional<std::barrier<>>;

// One launch: what every thread of the pool needs to play its part.
struct Grid {
  struct ResetBarriers {
    Grid* grid;
    void operator()() noexcept { grid->arm(); }
  };

  Grid(const LaunchConfig& c, const std::function<void()>& b)
      : config(c), body(b), threads(c.block.x * c.block.y * c.block.z), warps((threads + 31) / 32),
        block_end(threads, ResetBarriers{this}), warp_barriers(warps),
        slots(std::make_unique<unsigned char[]>(size_t{warps} * 32 * kSlotBytes)) {
    arm();
  }

  // Fresh barriers for the next block: each thread that returned left them.
  void arm() {
    block_barrier.emplace(threads);
    for (unsigned w = 0; w < warps; ++w) warp_barriers[w].emplace(std::min(32u, threads - 32 * w));
  }

  LaunchConfig config;
  const std::function<void()>& body;
  unsigned threads, warps;
  std::barrier<ResetBarriers> block_end;  // all threads done with a block
  Barrier block_barrier;
  std::vector<Barrier> warp_barriers;
  std::unique_ptr<unsigned char[]> slots;  // [warp][lane][kSlotBytes]
};

// The playing thread's place in the current block.
thread_local Grid* current = nullptr;
thread_local unsigned linear_tid = 0;

void play(Grid& g, unsigned tid) {
  current = &g;
  linear_tid = tid;
  const dim3 b = g.config.block, n = g.config.grid;
  threadIdx = {tid % b.x, tid / b.x % b.y, tid / (b.x * b.y)};
  blockDim = b;
  gridDim = n;
  for (unsigned z = 0; z < n.z; ++z)
    for (unsigned y = 0; y < n.y; ++y)
      for (unsigned x = 0; x < n.x; ++x) {
        blockIdx = {x, y, z};
        g.body();
        // Returned: stop holding up the others, and leave garbage for any
        // lane that still shuffles from this one.
        std::memset(warp_slot(lane_id()), 0xff, kSlotBytes);
        g.warp_barriers[tid / 32]->arrive_and_drop();
        g.block_barrier->arrive_and_drop();
        g.block_end.arrive_and_wait();
      }
  current = nullptr;
}

// The pool: thread i plays thread i of every block; it grows to the largest
// block seen and lives until the program ends.
class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
      ++generation_;
    }
    start_.notify_all();
    for (auto& t : workers_) t.join();
  }

  void run(Grid& grid) {
    std::unique_lock lock(mutex_);
    while (workers_.size() < grid.threads) {
      const unsigned index = static_cast<unsigned>(workers_.size());
      workers_.emplace_back([this, index] { work(index); });
    }
    grid_ = &grid;
    finished_ = 0;
    ++generation_;
    start_.notify_all();
    done_.wait(lock, [&] { return finished_ == grid.threads; });
    grid_ = nullptr;
  }

 private:
  void work(unsigned index) {
    uint64_t seen = 0;
    {
      std::lock_guard lock(mutex_);
      seen = generation_ - (grid_ != nullptr ? 1 : 0);  // a thread made for a launch joins it
    }
    for (;;) {
      Grid* grid = nullptr;
      {
        std::unique_lock lock(mutex_);
        start_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (stop_) return;
        if (grid_ == nullptr || index >= grid_->threads) continue;
        grid = grid_;
      }
      play(*grid, index);
      std::lock_guard lock(mutex_);
      if (++finished_ == grid->threads) done_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable start_, done_;
  std::vector<std::thread> workers_;
  Grid* grid_ = nullptr;
  uint64_t generation_ = 0;
  unsigned finished_ = 0;
  bool stop_ = false;
};

Pool& pool() {
  static Pool instance;
  return instance;
}

cudaError_t check_config(const LaunchConfig& c) {
  const unsigned block[3] = {c.block.x, c.block.y, c.block.z}, grid[3] = {c.grid.x, c.grid.y, c.grid.z};
  for (int d = 0; d < 3; ++d) {
    if (block[d] == 0 || block[d] > kMaxBlockDim[d]) return cudaErrorInvalidConfiguration;
    if (grid[d] == 0 || grid[d] > kMaxGridDim[d]) return cudaErrorInvalidConfiguration;
  }
  if (uint64_t{c.block.x} * c.block.y * c.block.z > kMaxThreadsPerBlock) return cudaErrorInvalidConfiguration;
  if (c.shared_bytes > kMaxDynamicShared) return cudaErrorInvalidValue;
  return cudaSuccess;
}

}  // namespace

void run_grid(const LaunchConfig& config, const std::function<void()>& body) {
  if (current != nullptr) {
    std::fprintf(stderr, "cuda emulator: a kernel launched a kernel (dynamic parallelism is not emulated)\n");
    std::abort();
  }
  const cudaError_t err = check_config(config);
  if (err != cudaSuccess) {
    last_error = err;
    return;
  }
  Grid grid(config, body);
  pool().run(grid);
}

void sync_block() { current->block_barrier->arrive_and_wait(); }

void sync_warp(unsigned mask) {
  // The emulator meets whole warps only: a collective of part of a warp
  // would wait here for lanes that never come.
  const unsigned live = current->threads - linear_tid / 32 * 32;
  const unsigned full = live >= 32 ? 0xffffffffu : (1u << live) - 1;
  if ((mask & full) != full) {
    std::fprintf(stderr, "cuda emulator: warp collective with mask %#x over a warp of %u threads is not emulated\n",
                 mask, live < 32 ? live : 32);
    std::abort();
  }
  current->warp_barriers[linear_tid / 32]->arrive_and_wait();
}

int lane_id() { return static_cast<int>(linear_tid % 32); }

unsigned char* warp_slot(int lane) {
  return current->slots.get() + (size_t{linear_tid / 32} * 32 + static_cast<unsigned>(lane)) * kSlotBytes;
}

}  // namespace striate_emu

// The runtime calls of src/kernels/cuda/, on host memory. Streams are
// ignored: every launch has finished when it returns.
extern "C" {

cudaError_t cudaGetLastError(void) {
  const cudaError_t err = striate_emu::last_error;
  striate_emu::last_error = cudaSuccess;
  return err;
}

cudaError_t cudaPeekAtLastError(void) { return striate_emu::last_error; }

const char* cudaGetErrorName(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    default: return "cudaError (emulated)";
  }
}

const char* cudaGetErrorString(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    default: return "unknown error (emulated)";
  }
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t count, cudaStream_t) {
  std::memset(ptr, value, count);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, enum cudaMemcpyKind, cudaStream_t) {
  std::memmove(dst, src, count);
  return cudaSuccess;
}

cudaError_t cudaMemcpyPeerAsync(void* dst, int, const void* src, int, size_t count, cudaStream_t) {
  std::memmove(dst, src, count);
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }

}  // extern "C"

// Defined by the CUDA build of libstriate (core/cuda/runtime.cpp), which an
// emulation build does not have; the same message.
namespace striate::cuda::detail {

void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line) {
  cudaGetLastError();
  throw DeviceError(::striate::detail::concat("CUDA error ", cudaGetErrorName(err), " (", cudaGetErrorString(err),
                                              ") from ", call, " at ", file, ":", line));
}

}  // namespace striate::cuda::detail
