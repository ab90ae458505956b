// DTypes and their promotion, the 16-bit float types bit for bit, Scalar, and
// Device parsing.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <sstream>

#include "striate/striate.h"

using namespace striate;

namespace {

const DType kAll[] = {kBool, kByte, kInt, kLong, kHalf, kBFloat16, kFloat, kDouble};

float next_up(float f) { return std::nextafter(f, std::numeric_limits<float>::infinity()); }
float next_down(float f) { return std::nextafter(f, -std::numeric_limits<float>::infinity()); }

}  // namespace

// ---- dtypes --------------------------------------------------------------------------

TEST(DType, NamesSizesAndCategories) {
  const char* names[] = {"bool", "uint8", "int32", "int64", "float16", "bfloat16", "float32", "float64"};
  const size_t sizes[] = {1, 1, 4, 8, 2, 2, 4, 8};
  const bool floating[] = {false, false, false, false, true, true, true, true};
  const bool integral[] = {false, true, true, true, false, false, false, false};
  for (int i = 0; i < kNumDTypes; ++i) {
    EXPECT_STREQ(dtype_name(kAll[i]), names[i]);
    EXPECT_EQ(element_size(kAll[i]), sizes[i]) << names[i];
    EXPECT_EQ(is_floating_point(kAll[i]), floating[i]) << names[i];
    EXPECT_EQ(is_integral(kAll[i]), integral[i]) << names[i];
    std::ostringstream os;
    os << kAll[i];
    EXPECT_EQ(os.str(), names[i]);
  }
  EXPECT_TRUE(is_integral(kBool, /*include_bool=*/true));
  EXPECT_EQ(dtype_of_v<float>, kFloat);
  EXPECT_EQ(dtype_of_v<Half>, kHalf);
  EXPECT_EQ(dtype_of_v<uint8_t>, kByte);
  // visit_dtype hands over the C++ type of each dtype.
  for (DType t : kAll) EXPECT_EQ(visit_dtype(t, []<typename T>() { return dtype_of_v<T>; }), t);
  EXPECT_THROW(visit_floating(kInt, "myop", []<typename T>() { return 0; }), DTypeError);
  EXPECT_EQ(visit_floating(kBFloat16, "myop", []<typename T>() { return sizeof(T); }), 2u);
}

TEST(DType, PromoteTypesMatchesPyTorch) {
  // torch.promote_types for every pair, rows and columns in the order of kAll:
  // b1 u1 i4 i8 f2 bf f4 f8.
  const DType b1 = kBool, u1 = kByte, i4 = kInt, i8 = kLong, f2 = kHalf, bf = kBFloat16, f4 = kFloat, f8 = kDouble;
  const DType table[8][8] = {
      /* b1 */ {b1, u1, i4, i8, f2, bf, f4, f8},
      /* u1 */ {u1, u1, i4, i8, f2, bf, f4, f8},
      /* i4 */ {i4, i4, i4, i8, f2, bf, f4, f8},
      /* i8 */ {i8, i8, i8, i8, f2, bf, f4, f8},
      /* f2 */ {f2, f2, f2, f2, f2, f4, f4, f8},
      /* bf */ {bf, bf, bf, bf, f4, bf, f4, f8},
      /* f4 */ {f4, f4, f4, f4, f4, f4, f4, f8},
      /* f8 */ {f8, f8, f8, f8, f8, f8, f8, f8},
  };
  for (int a = 0; a < 8; ++a)
    for (int b = 0; b < 8; ++b)
      EXPECT_EQ(promote_types(kAll[a], kAll[b]), table[a][b]) << kAll[a] << " with " << kAll[b];
}

// ---- Half and BFloat16, bit for bit ----------------------------------------------

TEST(DType, HalfRoundTripsEveryValue) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const Half h = Half::from_bits(static_cast<uint16_t>(bits));
    const float f = h;
    if ((bits & 0x7c00) == 0x7c00 && (bits & 0x3ff)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << bits;
      ASSERT_TRUE(std::isnan(static_cast<float>(Half(f))));
      continue;
    }
    ASSERT_EQ(Half(f).bits, bits) << std::hex << bits;
  }
}

TEST(DType, HalfRoundsEveryMidpointToEven) {
  // Between each pair of adjacent finite halves of one sign: the exact
  // midpoint goes to the one with an even last bit, anything off it to the
  // nearer one. Covers subnormals, the normal/subnormal border and overflow.
  for (uint32_t sign : {0u, 0x8000u}) {
    for (uint32_t bits = 0; bits < 0x7c00; ++bits) {
      const uint16_t lo = static_cast<uint16_t>(sign | bits), hi = static_cast<uint16_t>(sign | (bits + 1));
      const float a = Half::from_bits(lo), b = Half::from_bits(hi);
      const float mid = bits + 1 == 0x7c00 ? (sign ? -65520.0f : 65520.0f) : (a + b) / 2;  // exact in float
      const uint16_t even = (lo & 1) ? hi : lo;
      ASSERT_EQ(Half(mid).bits, even) << std::hex << lo;
      const float toward_a = sign ? next_up(mid) : next_down(mid);
      const float toward_b = sign ? next_down(mid) : next_up(mid);
      ASSERT_EQ(Half(toward_a).bits, lo) << std::hex << lo;
      ASSERT_EQ(Half(toward_b).bits, hi) << std::hex << lo;
    }
  }
  EXPECT_EQ(Half(std::numeric_limits<float>::max()).bits, 0x7c00);
  EXPECT_EQ(Half(-std::numeric_limits<float>::infinity()).bits, 0xfc00);
  EXPECT_EQ(Half(std::numeric_limits<float>::denorm_min()).bits, 0x0000);
  EXPECT_EQ(Half(-std::numeric_limits<float>::denorm_min()).bits, 0x8000);
}

TEST(DType, BFloat16RoundTripsAndRoundsToEven) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const BFloat16 h = BFloat16::from_bits(static_cast<uint16_t>(bits));
    const float f = h;
    if ((bits & 0x7f80) == 0x7f80 && (bits & 0x7f)) {
      ASSERT_TRUE(std::isnan(f));
      ASSERT_TRUE(std::isnan(static_cast<float>(BFloat16(f))));
      continue;
    }
    ASSERT_EQ(BFloat16(f).bits, bits) << std::hex << bits;
    ASSERT_EQ(detail::float_bits(f), bits << 16);  // bf16 is the top half of a float
  }
  for (uint32_t sign : {0u, 0x8000u}) {
    for (uint32_t bits = 0; bits < 0x7f80; ++bits) {
      const uint16_t lo = static_cast<uint16_t>(sign | bits), hi = static_cast<uint16_t>(sign | (bits + 1));
      // The midpoint is the float whose low 16 bits are 0x8000.
      const float mid = detail::bits_float((uint32_t(lo) << 16) | 0x8000u);
      const uint16_t even = (lo & 1) ? hi : lo;
      ASSERT_EQ(BFloat16(mid).bits, even) << std::hex << lo;
      ASSERT_EQ(BFloat16(detail::bits_float((uint32_t(lo) << 16) | 0x7fffu)).bits, lo) << std::hex << lo;
      ASSERT_EQ(BFloat16(detail::bits_float((uint32_t(lo) << 16) | 0x8001u)).bits, hi) << std::hex << lo;
    }
  }
  EXPECT_EQ(BFloat16(std::numeric_limits<float>::quiet_NaN()).bits, 0x7fc0);
  EXPECT_EQ(BFloat16(std::numeric_limits<float>::max()).bits, 0x7f80);  // rounds up to inf
}

// ---- Scalar ------------------------------------------------------------------------

TEST(DType, ScalarRemembersItsKind) {
  Scalar i = 3;
  Scalar l = int64_t{1} << 40;
  Scalar d = 2.5;
  Scalar f = 2.5f;
  Scalar b = true;
  EXPECT_TRUE(i.is_integral());
  EXPECT_EQ(i.dtype(), kLong);
  EXPECT_EQ(l.to_long(), int64_t{1} << 40);
  EXPECT_TRUE(d.is_floating_point());
  EXPECT_EQ(d.dtype(), kFloat);  // a Python float makes a float32 tensor by default
  EXPECT_EQ(f.to_double(), 2.5);
  EXPECT_TRUE(b.is_bool());
  EXPECT_EQ(b.dtype(), kBool);
  EXPECT_EQ(d.to_long(), 2);
  EXPECT_EQ(Scalar(-2.5).to_long(), -2);
  EXPECT_EQ(d.to<int32_t>(), 2);
  EXPECT_TRUE(Scalar(0.5).to<bool>());
  EXPECT_FALSE(Scalar(0).to<bool>());
  EXPECT_EQ(Scalar(1.0 / 3.0).to<Half>().bits, 0x3555);
  EXPECT_EQ(Scalar(Half(0.5f)).to_double(), 0.5);
  std::ostringstream os;
  os << Scalar(true) << ' ' << Scalar(7) << ' ' << Scalar(0.5);
  EXPECT_EQ(os.str(), "True 7 0.5");
}

// ---- Device ------------------------------------------------------------------------

TEST(Device, ParsesLikeTorchDevice) {
  EXPECT_TRUE(Device("cpu").is_cpu());
  EXPECT_EQ(Device("cpu").index(), -1);
  EXPECT_EQ(Device("cpu"), Device::cpu());
  EXPECT_EQ(Device("cuda"), Device::cuda(0));
  EXPECT_EQ(Device("cuda").index(), 0);
  EXPECT_EQ(Device("cuda:1").index(), 1);
  EXPECT_TRUE(Device("cuda:1").is_cuda());
  EXPECT_EQ(Device("cuda:12").index(), 12);
  EXPECT_EQ(Device("cuda:1").str(), "cuda:1");
  EXPECT_EQ(Device("cuda").str(), "cuda:0");
  EXPECT_EQ(Device("cpu").str(), "cpu");
  EXPECT_NE(Device("cuda:0"), Device("cuda:1"));
  EXPECT_NE(Device("cuda:0"), Device::cpu());
  EXPECT_EQ(Device(kCUDA), Device::cuda(0));
  EXPECT_EQ(Device(kCPU, 0), Device::cpu());
  std::ostringstream os;
  os << Device::cuda(3);
  EXPECT_EQ(os.str(), "cuda:3");

  for (const char* bad : {"", "gpu", "CPU", "cuda:", "cuda:-1", "cuda:x", "cuda1", "cuda:1:2", "cuda: 1",
                          "cpu:1", " cpu", "cuda:99999999999"})
    EXPECT_THROW(Device{std::string(bad)}, DeviceError) << '"' << bad << '"';
  try {
    Device("tpu");
    FAIL();
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("tpu"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Device(kCPU, 1), DeviceError);
  EXPECT_THROW(Device(kCUDA, -2), DeviceError);
}

// Without a GPU (or without the CUDA backend) every CUDA entry point is a
// DeviceError saying which, never a crash.
TEST(Device, CudaWithoutAGpuIsAClearError) {
  if (cuda::is_available()) GTEST_SKIP() << "a GPU is present; tests/cuda covers device tensors";
  EXPECT_EQ(cuda::device_count(), 0);
  const std::string reason = cuda::unavailable_reason();
  if (cuda::is_compiled()) {
    // The driver's own error is kept, so that a broken driver is told from a missing GPU.
    EXPECT_EQ(reason.rfind("no CUDA GPU on this machine", 0), 0u) << reason;
    EXPECT_NE(reason.find("cudaGetDeviceCount: cudaError"), std::string::npos) << reason;
  } else {
    EXPECT_EQ(reason, "this build has no CUDA backend");
  }
  const std::string why = cuda::is_compiled() ? "no CUDA GPU on this machine" : "has no CUDA backend";
  auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const DeviceError& e) {
      return std::string(e.what());
    }
    return std::string("no DeviceError");
  };
  for (const auto& call : std::vector<std::function<void()>>{
           [] { zeros({2}, TensorOptions(Device::cuda(0))); },
           [] { zeros({2}).to(Device::cuda(0)); },
           [] { cuda::memory_stats(); },
           [] { cuda::empty_cache(); },
           [] { cuda::Stream::create(); },
           [] { cuda::current_stream(); },
           [] { cuda::synchronize(); },
           [] { cuda::DeviceGuard guard(Device::cuda(0)); },
           [] { ones({2}).pin_memory(); },
           [] { empty({2}, TensorOptions().pinned_memory(true)); },
       }) {
    const std::string msg = message(call);
    EXPECT_NE(msg.find(why), std::string::npos) << msg;
  }
  cuda::DeviceGuard on_cpu(Device::cpu());  // a CPU guard is a no-op anywhere
  EXPECT_FALSE(ones({2}).is_pinned());
}
