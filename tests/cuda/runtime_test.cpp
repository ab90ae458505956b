// Devices, streams, events and guards on a real GPU.
#include <gtest/gtest.h>

#include "striate/striate.h"
#include "support/gpu.h"

namespace striate {
namespace {

TEST(CudaRuntime, StreamsComeFromAPoolAndReportIdle) {
  STRIATE_REQUIRE_REAL_GPU();
  cuda::Stream a = cuda::Stream::create();
  cuda::Stream b = cuda::Stream::create();
  EXPECT_NE(a, b);
  EXPECT_NE(a.native_handle(), nullptr);
  EXPECT_EQ(a.device(), Device::cuda(0));
  a.synchronize();
  EXPECT_TRUE(a.query());
  EXPECT_EQ(cuda::default_stream().id(), 0u);
}

TEST(CudaRuntime, GuardsRestoreWhatWasCurrent) {
  STRIATE_REQUIRE_REAL_GPU();
  cuda::Stream side = cuda::Stream::create();
  ASSERT_EQ(cuda::current_stream(), cuda::default_stream());
  {
    cuda::StreamGuard guard(side);
    EXPECT_EQ(cuda::current_stream(), side);
  }
  EXPECT_EQ(cuda::current_stream(), cuda::default_stream());
  {
    cuda::DeviceGuard guard(Device::cuda(0));
    EXPECT_EQ(cuda::current_device(), 0);
  }
  EXPECT_THROW(cuda::set_device(cuda::device_count()), DeviceError);
  EXPECT_THROW(cuda::DeviceGuard(Device::cuda(cuda::device_count())), DeviceError);
}

TEST(CudaRuntime, EventsTimeAndOrderWork) {
  STRIATE_REQUIRE_REAL_GPU();
  cuda::Event start(true), end(true);
  EXPECT_TRUE(start.query()) << "an event recorded nowhere counts as done";
  start.record();
  Tensor t = randn({1 << 20}).to(Device::cuda(0));
  end.record();
  end.synchronize();
  EXPECT_TRUE(end.query());
  EXPECT_GE(start.elapsed_time(end), 0.0f);
  cuda::Event untimed;
  untimed.record();
  EXPECT_THROW(untimed.elapsed_time(end), ValueError);
  cuda::Stream side = cuda::Stream::create();
  end.block(side);  // side waits on the GPU for the copy above
  side.synchronize();
}

}  // namespace
}  // namespace striate
