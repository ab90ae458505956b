// Device tensors: copies between host and GPU, strided and converting
// copies and fills on the GPU, against the CPU backend. Destinations are
// poisoned first, so an element a kernel forgets to write shows up.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "striate/striate.h"
#include "support/gpu.h"

namespace striate {
namespace {

const Device kGpu = testing::test_gpu();
const DType kAllDTypes[] = {kFloat, kDouble, kHalf, kBFloat16, kInt, kLong, kByte, kBool};

// Bit-exact equality of two CPU tensors of one dtype and shape.
void expect_identical(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.sizes(), b.sizes());
  ASSERT_EQ(a.dtype(), b.dtype());
  Tensor x = a.contiguous(), y = b.contiguous();
  EXPECT_EQ(std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()), 0);
}

Tensor sample(DType dtype, const Shape& shape) {
  Tensor t = randn(shape) * 50;
  return dtype == kBool ? t.gt(0) : t.to(dtype);
}

Tensor poisoned(const Shape& shape, DType dtype, MemoryFormat fmt = MemoryFormat::Contiguous) {
  Tensor t = empty(shape, TensorOptions(dtype).device(kGpu), fmt);
  if (dtype == kBool) t.fill_(true);
  else if (is_floating_point(dtype)) t.fill_(std::nan(""));
  else t.fill_(77);
  return t;
}

TEST(CudaCopy, RoundTripsEveryDType) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : kAllDTypes) {
    Tensor host = sample(dtype, {3, 5, 7});
    Tensor gpu = host.to(kGpu);
    EXPECT_EQ(gpu.device(), kGpu);
    EXPECT_EQ(gpu.dtype(), dtype);
    expect_identical(gpu.cpu(), host);
  }
}

TEST(CudaCopy, StridedAndBroadcastSourcesMatchTheCpu) {
  STRIATE_REQUIRE_GPU();
  Tensor host = sample(kFloat, {6, 9, 4});
  expect_identical(host.permute({2, 0, 1}).to(kGpu).cpu(), host.permute({2, 0, 1}).contiguous());
  Tensor gpu = host.to(kGpu);
  expect_identical(gpu.permute({2, 0, 1}).contiguous().cpu(), host.permute({2, 0, 1}).contiguous());
  expect_identical(gpu.narrow(1, 2, 5).contiguous().cpu(), host.narrow(1, 2, 5).contiguous());
  Tensor row = sample(kFloat, {1, 4});
  Tensor dst = poisoned({5, 4}, kFloat);
  dst.copy_(row.to(kGpu));
  expect_identical(dst.cpu(), row.expand({5, 4}).contiguous());
  // CPU source into a GPU view: only the view changes.
  Tensor target = zeros({4, 6}).to(kGpu);
  target.narrow(1, 1, 3).copy_(ones({4, 3}));
  Tensor expected = zeros({4, 6});
  expected.narrow(1, 1, 3).fill_(1);
  expect_identical(target.cpu(), expected);
}

TEST(CudaCopy, ConversionsOnTheGpuMatchTheCpuBitForBit) {
  STRIATE_REQUIRE_GPU();
  for (DType from : kAllDTypes) {
    Tensor host = sample(from, {257});
    Tensor gpu = host.to(kGpu);
    for (DType to : kAllDTypes) {
      SCOPED_TRACE(std::string(dtype_name(from)) + " -> " + dtype_name(to));
      Tensor dst = poisoned({257}, to);
      dst.copy_(gpu);
      expect_identical(dst.cpu(), host.to(to));
    }
  }
}

TEST(CudaCopy, FillsMatchTheCpu) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : kAllDTypes) {
    Tensor t = poisoned({3, 33}, dtype);
    t.fill_(2.5);
    expect_identical(t.cpu(), full({3, 33}, 2.5, TensorOptions(dtype)));
    Tensor view = poisoned({8, 8}, dtype);
    view.zero_();
    view.narrow(0, 2, 3).fill_(1);
    Tensor expected = zeros({8, 8}, TensorOptions(dtype));
    expected.narrow(0, 2, 3).fill_(1);
    expect_identical(view.cpu(), expected);
  }
}

TEST(CudaCopy, ChannelsLastSurvivesTheTrip) {
  STRIATE_REQUIRE_GPU();
  Tensor host = sample(kFloat, {2, 3, 5, 4}).contiguous(MemoryFormat::ChannelsLast);
  Tensor gpu = host.to(kGpu);
  EXPECT_TRUE(gpu.is_contiguous(MemoryFormat::ChannelsLast));
  expect_identical(gpu.cpu(), host);
  expect_identical(gpu.contiguous().cpu(), host.contiguous());
}

TEST(CudaCopy, NonBlockingCopiesAreOrderedOnTheStream) {
  STRIATE_REQUIRE_REAL_GPU();
  Tensor host = sample(kFloat, {1 << 20});
  Tensor gpu = host.to(kGpu, /*non_blocking=*/true);
  Tensor back = gpu.to(Device::cpu(), /*non_blocking=*/true);
  EXPECT_TRUE(back.is_pinned()) << "a non-blocking copy to the CPU lands in pinned memory, as in PyTorch";
  EXPECT_FALSE(gpu.to(Device::cpu()).is_pinned());
  cuda::current_stream().synchronize();
  expect_identical(back, host);
}

TEST(CudaCopy, EmptyTensorsCopyAndRecordStreamsAsNoOps) {
  STRIATE_REQUIRE_REAL_GPU();
  Tensor pinned = empty({0, 3}).pin_memory();
  Tensor gpu = pinned.to(kGpu, /*non_blocking=*/true);
  EXPECT_EQ(gpu.sizes(), (Shape{0, 3}));
  EXPECT_EQ(gpu.to(Device::cpu(), /*non_blocking=*/true).numel(), 0);
  cuda::record_stream(gpu, cuda::Stream::create());
  cuda::current_stream().synchronize();
}

TEST(CudaCopy, PinnedTensorsCopyAsynchronously) {
  STRIATE_REQUIRE_REAL_GPU();
  Tensor host = sample(kFloat, {3, 1 << 16});
  Tensor pinned = host.pin_memory();
  EXPECT_TRUE(pinned.is_pinned());
  EXPECT_FALSE(host.is_pinned());
  EXPECT_TRUE(pinned.pin_memory().is_same(pinned));
  EXPECT_GE(cuda::host_memory_stats().allocated_bytes, static_cast<int64_t>(pinned.nbytes()));
  expect_identical(pinned, host);
  Tensor gpu = pinned.to(kGpu, /*non_blocking=*/true);
  pinned = Tensor();  // freed while the copy may still read it: the cache must wait
  Tensor reuse = sample(kFloat, {3, 1 << 16}).pin_memory();  // same size: the block the copy used, once it is done
  cuda::current_stream().synchronize();
  expect_identical(gpu.cpu(), host);
  EXPECT_THROW(empty({2}, TensorOptions().device(kGpu).pinned_memory(true)), DeviceError);
  EXPECT_THROW(gpu.pin_memory(), DeviceError);
}

TEST(CudaCopy, WorkOnASideStreamStaysOnIt) {
  STRIATE_REQUIRE_REAL_GPU();
  cuda::Stream side = cuda::Stream::create();
  EXPECT_NE(side, cuda::default_stream());
  Tensor host = sample(kFloat, {4096});
  Tensor gpu;
  {
    cuda::StreamGuard guard(side);
    EXPECT_EQ(cuda::current_stream(), side);
    gpu = host.to(kGpu, /*non_blocking=*/true);
  }
  EXPECT_EQ(cuda::current_stream(), cuda::default_stream());
  side.synchronize();
  expect_identical(gpu.cpu(), host);
}

TEST(CudaCopy, AutogradFlowsBackAcrossDevices) {
  STRIATE_REQUIRE_GPU();
  Tensor x = randn({5}, requires_grad(true));
  Tensor y = x.to(kGpu).cpu();
  (y * 3).sum().backward();
  expect_identical(x.grad(), full({5}, 3.0f));
}

TEST(CudaRandom, TheSameSeedGivesTheSameNumbersOnCpuAndGpu) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble, kHalf, kBFloat16}) {
    Generator a(1234), b(1234);
    Tensor cpu_values = rand({1001}, TensorOptions(dtype), &a);
    Tensor gpu_values = rand({1001}, TensorOptions(dtype).device(kGpu), &b);
    expect_identical(gpu_values.cpu(), cpu_values);
    Tensor cpu_normal = randn({999}, TensorOptions(dtype), &a);
    Tensor gpu_normal = randn({999}, TensorOptions(dtype).device(kGpu), &b);
    // Normals go through log and cos, whose last bit may differ on the GPU.
    const double worst = (gpu_normal.cpu().to(kDouble) - cpu_normal.to(kDouble)).abs().max().item<double>();
    EXPECT_LE(worst, dtype == kFloat || dtype == kDouble ? 1e-5 : 1e-2);
  }
}

// The fill runs on the current stream: a copy queued right after it on a
// side stream (which does not wait for the legacy default stream) sees it.
TEST(CudaRandom, FillsOnTheCurrentStream) {
  STRIATE_REQUIRE_REAL_GPU();
  const cuda::Stream side = cuda::Stream::create();
  cuda::StreamGuard guard(side);
  Generator a(99), b(99);
  const Tensor cpu_values = rand({1 << 24}, TensorOptions(kFloat), &a);
  const Tensor gpu_values = rand({1 << 24}, TensorOptions(kFloat).device(kGpu), &b);
  expect_identical(gpu_values.cpu(), cpu_values);
}

}  // namespace
}  // namespace striate
