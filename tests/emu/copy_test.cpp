// The CUDA copy and fill kernels (copy.cu) run by the emulator against the
// CPU's, byte for byte: a copy between every pair of dtypes (the conversion
// rules: through the source's arithmetic type, "not zero" into bool) and a
// fill of every dtype, over each loop of loops.h.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/copy.h"
#include "loops.h"

namespace striate::emu_test {
namespace {

const DType kAll[] = {DType::Bool, DType::U8, DType::I32, DType::I64, DType::F16, DType::BF16, DType::F32, DType::F64};

// Values every dtype holds without overflow (a float beyond an integer
// type's range has no defined conversion): zeros, integers and fractions in [0, 200).
std::vector<double> sources(int64_t n) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = i % 7 == 0 ? 0.0 : static_cast<double>((i * 37) % 200) + (i % 4) * 0.375;
  return v;
}

// Bytes of `n` elements (plus the layout's offset) of `dtype`, poisoned with 0xA5.
std::vector<char> buffer(DType dtype, const Layout& l) {
  return std::vector<char>(static_cast<size_t>(l.n + l.offset) * element_size(dtype), static_cast<char>(0xA5));
}

// A copy of layout `l` from `src` (of `from`) into `dst` (of `to`): each
// operand strided in its own element size.
kernels::CopyParams copy_params(const Layout& l, DType to, char* dst, DType from, char* src) {
  kernels::CopyParams p;
  char* dst_data[1] = {dst};
  char* src_data[1] = {src};
  const kernels::Loop<1> d = loop_of<1>(l, element_size(to), dst_data), s = loop_of<1>(l, element_size(from), src_data);
  p.loop.ndim = d.ndim;
  for (int k = 0; k < d.ndim; ++k) {
    p.loop.sizes[k] = d.sizes[k];
    p.loop.strides[0][k] = d.strides[0][k];
    p.loop.strides[1][k] = s.strides[0][k];
  }
  p.loop.data[0] = d.data[0];
  p.loop.data[1] = s.data[0];
  p.dst_dtype = to;
  p.src_dtype = from;
  return p;
}

// The source values in `dtype`, laid out as `l` says (converted by the CPU kernel).
std::vector<char> source_in(DType dtype, const Layout& l) {
  std::vector<double> values = sources(l.n + l.offset);
  std::vector<char> out = buffer(dtype, l);
  kernels::cpu::copy(copy_params(l, dtype, out.data(), DType::F64, reinterpret_cast<char*>(values.data())));
  return out;
}

TEST(EmulatedCopy, EveryDtypePairMatchesTheCpuByteForByte) {
  for (const Layout& l : kLayouts)
    for (DType from : kAll)
      for (DType to : kAll) {
        std::vector<char> src = source_in(from, l);
        std::vector<char> got = buffer(to, l), want = got;
        kernels::cpu::copy(copy_params(l, to, want.data(), from, src.data()));
        kernels::cuda::copy(copy_params(l, to, got.data(), from, src.data()));
        ASSERT_NE(want, buffer(to, l)) << "the CPU copy wrote nothing";
        EXPECT_EQ(got, want) << l.name << ", " << dtype_name(from) << " -> " << dtype_name(to);
      }
}

TEST(EmulatedCopy, FillMatchesTheCpuByteForByte) {
  for (const Layout& l : kLayouts)
    for (DType dtype : kAll) {
      std::vector<char> got = buffer(dtype, l), want = got;
      const auto params = [&](std::vector<char>& dst) {
        kernels::FillParams p;
        char* data[1] = {dst.data()};
        p.loop = loop_of<1>(l, element_size(dtype), data);
        p.dtype = dtype;
        p.value = -2.7182818284590452;  // rounds differently in every float dtype
        p.int_value = dtype == DType::U8 ? 201 : dtype == DType::Bool ? 1 : -123456;
        return p;
      };
      kernels::cpu::fill(params(want));
      kernels::cuda::fill(params(got));
      EXPECT_EQ(got, want) << l.name << ", " << dtype_name(dtype);
    }
}

}  // namespace
}  // namespace striate::emu_test
