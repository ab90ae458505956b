// The caching allocator on a real device: statistics, reuse, empty_cache,
// out-of-memory, and record_stream. The policy itself is tested on the CPU
// (tests/core/caching_allocator_test.cpp); this checks the device glue.
#include <gtest/gtest.h>

#include "striate/striate.h"
#include "support/gpu.h"

namespace striate {
namespace {

const Device kGpu = testing::test_gpu();

TEST(CudaMemory, TensorsComeFromTheCacheAndGoBack) {
  STRIATE_REQUIRE_REAL_GPU();
  cuda::synchronize();
  const MemoryStats before = cuda::memory_stats();
  {
    Tensor t = empty({1000}, TensorOptions(kFloat).device(kGpu));  // 4000 bytes -> 4096
    EXPECT_EQ(t.device(), kGpu);
    const MemoryStats during = cuda::memory_stats();
    EXPECT_EQ(during.allocated_bytes - before.allocated_bytes, 4096);
    EXPECT_EQ(during.requested_bytes - before.requested_bytes, 4000);
    EXPECT_GE(during.reserved_bytes, during.allocated_bytes);
  }
  EXPECT_EQ(cuda::memory_stats().allocated_bytes, before.allocated_bytes);
}

TEST(CudaMemory, SteadyStateMakesNoDeviceAllocations) {
  STRIATE_REQUIRE_REAL_GPU();
  auto step = [] {
    Tensor a = randn({64, 3, 32, 32}).to(kGpu);
    Tensor b = empty({64, 3, 32, 32}, TensorOptions(kFloat).device(kGpu));
    b.copy_(a);
    Tensor host = b.cpu();
    return host.numel();
  };
  step();
  const int64_t device_allocs = cuda::memory_stats().num_device_allocs;
  for (int i = 0; i < 10; ++i) step();
  EXPECT_EQ(cuda::memory_stats().num_device_allocs, device_allocs);
}

TEST(CudaMemory, EmptyCacheGivesFreeSegmentsBack) {
  STRIATE_REQUIRE_REAL_GPU();
  { Tensor t = empty({64 << 20}, TensorOptions(kByte).device(kGpu)); }
  EXPECT_GE(cuda::memory_stats().reserved_bytes, 64 << 20);
  cuda::empty_cache();
  const MemoryStats s = cuda::memory_stats();
  EXPECT_LT(s.reserved_bytes, 64 << 20);
  EXPECT_GT(s.num_device_frees, 0);
}

TEST(CudaMemory, AnImpossibleRequestIsAnOutOfMemoryErrorAndLosesNothing) {
  STRIATE_REQUIRE_REAL_GPU();
  Tensor keep = full({1024}, 3.0f).to(kGpu);
  try {
    Tensor huge = empty({int64_t{1} << 50}, TensorOptions(kByte).device(kGpu));  // 1 PiB
    FAIL() << "expected OutOfMemoryError";
  } catch (const OutOfMemoryError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cuda:0: out of memory: tried to allocate 1024.00 TiB"), std::string::npos) << msg;
  }
  EXPECT_GE(cuda::memory_stats().num_ooms, 1);
  EXPECT_EQ(keep.cpu().sum().item<float>(), 3.0f * 1024);
  Tensor after = ones({16}).to(kGpu);  // the allocator still works
  EXPECT_EQ(after.cpu().sum().item<float>(), 16.0f);
}

TEST(CudaMemory, RecordStreamDelaysReuseUntilTheOtherStreamIsDone) {
  STRIATE_REQUIRE_REAL_GPU();
  cuda::Stream side = cuda::Stream::create();
  void* first = nullptr;
  {
    Tensor t = empty({1 << 16}, TensorOptions(kFloat).device(kGpu));
    first = t.data_ptr();
    cuda::record_stream(t, side);
  }
  // Holding the block while the side stream is busy is the policy's part
  // (tested on the CPU); here: once the side stream is done, the next
  // allocation sees the event complete and reuses the block.
  side.synchronize();
  Tensor u = empty({1 << 16}, TensorOptions(kFloat).device(kGpu));
  EXPECT_EQ(u.data_ptr(), first);
  EXPECT_THROW(cuda::record_stream(ones({2}), side), DeviceError);
}

}  // namespace
}  // namespace striate
