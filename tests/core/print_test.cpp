// Printing: the exact strings PyTorch's print(tensor) gives for the same
// values (torch/_tensor_str.py with default print options): notation and
// width choice, line wrapping, summarisation, empty and 0-dim tensors, and
// the dtype / requires_grad / grad_fn suffixes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "striate/striate.h"

using namespace striate;

namespace {

Tensor f32(std::vector<float> v, const Shape& sizes) { return from_vector(v, sizes); }
Tensor f32(std::vector<float> v) { return f32(v, {static_cast<int64_t>(v.size())}); }
Tensor f64(std::vector<double> v) { return from_vector(v, {static_cast<int64_t>(v.size())}); }
Tensor i64(std::vector<int64_t> v) { return from_vector(v, {static_cast<int64_t>(v.size())}); }

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

}  // namespace

TEST(Print, FloatNotations) {
  EXPECT_EQ(f32({1, 2, 3, 4}, {2, 2}).toString(), "tensor([[1., 2.],\n        [3., 4.]])");
  EXPECT_EQ(f32({0.1f, 0.2f}).toString(), "tensor([0.1000, 0.2000])");
  EXPECT_EQ(f32({1e-5f, 1e3f}).toString(), "tensor([1.0000e-05, 1.0000e+03])");
  EXPECT_EQ(f32({-1.5f, 2.25f}).toString(), "tensor([-1.5000,  2.2500])");
  EXPECT_EQ(f32({100, 2000}).toString(), "tensor([ 100., 2000.])");
  // Integers spanning more than 1000x, or above 1e8, switch to scientific.
  EXPECT_EQ(f32({1, 1e9f}).toString(), "tensor([1.0000e+00, 1.0000e+09])");
  EXPECT_EQ(f64({123456789.0, 1.0}).toString(), "tensor([1.2346e+08, 1.0000e+00], dtype=torch.float64)");
  EXPECT_EQ(f32({-3.5e-7f, 2.0f, 1234.5f}).toString(), "tensor([-3.5000e-07,  2.0000e+00,  1.2345e+03])");
  EXPECT_EQ(f32({0.1234567f, 0.9876543f, 0.5f, 0.0001234f}, {2, 2}).toString(),
            "tensor([[1.2346e-01, 9.8765e-01],\n        [5.0000e-01, 1.2340e-04]])");
  // Zeros do not take part in the choice.
  EXPECT_EQ(zeros({3}).toString(), "tensor([0., 0., 0.])");
  EXPECT_EQ(f32({0, 0.5f}).toString(), "tensor([0.0000, 0.5000])");
  EXPECT_EQ(f32({-0.0f}).toString(), "tensor([-0.])");
}

TEST(Print, NanAndInf) {
  EXPECT_EQ(f32({kNan, kInf, -kInf}).toString(), "tensor([nan, inf, -inf])");
  EXPECT_EQ(f32({1.5f, kNan, kInf}).toString(), "tensor([1.5000,    nan,    inf])");
  EXPECT_EQ(f32({1, kNan}).toString(), "tensor([1., nan])");
  EXPECT_EQ(f32({-kNan, 2}).toString(), "tensor([nan, 2.])");  // no sign on a NaN, as in Python
  EXPECT_EQ(f32({1e-5f, kNan}).toString(), "tensor([1.0000e-05,        nan])");
  EXPECT_EQ(scalar_tensor(kNan).toString(), "tensor(nan)");
}

TEST(Print, IntegersAndBools) {
  EXPECT_EQ(i64({1, 2, 3}).toString(), "tensor([1, 2, 3])");
  EXPECT_EQ(i64({-1, 10, 200}).toString(), "tensor([ -1,  10, 200])");
  EXPECT_EQ(from_vector<bool>({true, false}, {2}).toString(), "tensor([ True, False])");
  EXPECT_EQ(from_vector<int32_t>({1, 2, 3}, {3}).toString(), "tensor([1, 2, 3], dtype=torch.int32)");
  EXPECT_EQ(from_vector<uint8_t>({1, 255}, {2}).toString(), "tensor([  1, 255], dtype=torch.uint8)");
  EXPECT_EQ(arange(8).reshape({2, 2, 2}).toString(),
            "tensor([[[0, 1],\n"
            "         [2, 3]],\n"
            "\n"
            "        [[4, 5],\n"
            "         [6, 7]]])");
}

TEST(Print, ZeroDim) {
  EXPECT_EQ(scalar_tensor(3.5).toString(), "tensor(3.5000)");
  EXPECT_EQ(scalar_tensor(3, kLong).toString(), "tensor(3)");
  EXPECT_EQ(scalar_tensor(2.0, kDouble).toString(), "tensor(2., dtype=torch.float64)");
  EXPECT_EQ(scalar_tensor(true, kBool).toString(), "tensor(True)");
  EXPECT_EQ(scalar_tensor(1e-5).toString(), "tensor(1.0000e-05)");
}

TEST(Print, Empty) {
  EXPECT_EQ(empty({0}).toString(), "tensor([])");
  EXPECT_EQ(empty({0, 3}).toString(), "tensor([], size=(0, 3))");
  EXPECT_EQ(empty({0}, kLong).toString(), "tensor([], dtype=torch.int64)");
  EXPECT_EQ(empty({2, 0}, kDouble).toString(), "tensor([], size=(2, 0), dtype=torch.float64)");
  EXPECT_EQ(empty({0}, TensorOptions().requires_grad(true)).toString(), "tensor([], requires_grad=True)");
}

TEST(Print, ReducedPrecisionDtypes) {
  // Printed from their float value: half(0.1) = 0.09998, bfloat16(0.1) = 0.10010.
  EXPECT_EQ(f32({0.1f, 0.5f}).to(kHalf).toString(), "tensor([0.1000, 0.5000], dtype=torch.float16)");
  EXPECT_EQ(f32({0.1f, 0.5f}).to(kBFloat16).toString(), "tensor([0.1001, 0.5000], dtype=torch.bfloat16)");
  EXPECT_EQ(f64({1.5, 2}).toString(), "tensor([1.5000, 2.0000], dtype=torch.float64)");
}

TEST(Print, AutogradSuffixes) {
  Tensor x = f32({1, 2}).requires_grad_();
  EXPECT_EQ(x.toString(), "tensor([1., 2.], requires_grad=True)");
  EXPECT_EQ(cat({x, x}).toString(), "tensor([1., 2., 1., 2.], grad_fn=<CatBackward>)");
  EXPECT_EQ((x * x).toString(), "tensor([1., 4.], grad_fn=<MulBackward>)");
  EXPECT_EQ(x.detach().toString(), "tensor([1., 2.])");
  Tensor d = f64({10.5, 11.5, 12.5, 13.5}).requires_grad_();
  // The suffix that would pass 80 columns starts a new line under the data.
  EXPECT_EQ(d.toString(),
            "tensor([10.5000, 11.5000, 12.5000, 13.5000], dtype=torch.float64,\n"
            "       requires_grad=True)");
}

TEST(Print, LongRowsWrapAndSuffixesMoveToANewLine) {
  EXPECT_EQ(arange(30, TensorOptions(kFloat)).toString(),
            "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
            "        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n"
            "        28., 29.])");
  EXPECT_EQ(arange(0, 25, 1.25, TensorOptions(kDouble)).toString(),
            "tensor([ 0.0000,  1.2500,  2.5000,  3.7500,  5.0000,  6.2500,  7.5000,  8.7500,\n"
            "        10.0000, 11.2500, 12.5000, 13.7500, 15.0000, 16.2500, 17.5000, 18.7500,\n"
            "        20.0000, 21.2500, 22.5000, 23.7500], dtype=torch.float64)");
  EXPECT_EQ(arange(10.5, 18, 1.0, TensorOptions(kDouble)).toString(),
            "tensor([10.5000, 11.5000, 12.5000, 13.5000, 14.5000, 15.5000, 16.5000, 17.5000],\n"
            "       dtype=torch.float64)");
}

TEST(Print, SummarisesLargeTensors) {
  EXPECT_EQ(arange(2000).toString(), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])");
  EXPECT_EQ(arange(2000).reshape({50, 40}).toString(),
            "tensor([[   0,    1,    2,  ...,   37,   38,   39],\n"
            "        [  40,   41,   42,  ...,   77,   78,   79],\n"
            "        [  80,   81,   82,  ...,  117,  118,  119],\n"
            "        ...,\n"
            "        [1880, 1881, 1882,  ..., 1917, 1918, 1919],\n"
            "        [1920, 1921, 1922,  ..., 1957, 1958, 1959],\n"
            "        [1960, 1961, 1962,  ..., 1997, 1998, 1999]])");
  // The notation is chosen from the printed elements only (1..1999: > 1000x).
  EXPECT_EQ(arange(2000, TensorOptions(kFloat)).reshape({50, 40}).toString(),
            "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 3.7000e+01, 3.8000e+01,\n"
            "         3.9000e+01],\n"
            "        [4.0000e+01, 4.1000e+01, 4.2000e+01,  ..., 7.7000e+01, 7.8000e+01,\n"
            "         7.9000e+01],\n"
            "        [8.0000e+01, 8.1000e+01, 8.2000e+01,  ..., 1.1700e+02, 1.1800e+02,\n"
            "         1.1900e+02],\n"
            "        ...,\n"
            "        [1.8800e+03, 1.8810e+03, 1.8820e+03,  ..., 1.9170e+03, 1.9180e+03,\n"
            "         1.9190e+03],\n"
            "        [1.9200e+03, 1.9210e+03, 1.9220e+03,  ..., 1.9570e+03, 1.9580e+03,\n"
            "         1.9590e+03],\n"
            "        [1.9600e+03, 1.9610e+03, 1.9620e+03,  ..., 1.9970e+03, 1.9980e+03,\n"
            "         1.9990e+03]])");
  EXPECT_EQ(arange(1001, TensorOptions(kFloat)).reshape({1001, 1}).toString(),
            "tensor([[   0.],\n"
            "        [   1.],\n"
            "        [   2.],\n"
            "        ...,\n"
            "        [ 998.],\n"
            "        [ 999.],\n"
            "        [1000.]])");
  // 1000 elements are still printed in full.
  const std::string full = arange(1000).toString();
  EXPECT_EQ(full.find("..."), std::string::npos);
  EXPECT_NE(full.find(" 500,"), std::string::npos);
}

TEST(Print, NonContiguousPrintsLogicalOrder) {
  EXPECT_EQ(arange(6).reshape({2, 3}).t().toString(), "tensor([[0, 3],\n        [1, 4],\n        [2, 5]])");
  EXPECT_EQ(arange(6).slice(0, 1, 6, 2).toString(), "tensor([1, 3, 5])");
  EXPECT_EQ(scalar_tensor(2.5).expand({3}).toString(), "tensor([2.5000, 2.5000, 2.5000])");
}

TEST(Print, StreamAndUndefined) {
  std::ostringstream os;
  os << i64({4, 5});
  EXPECT_EQ(os.str(), "tensor([4, 5])");
  EXPECT_EQ(Tensor().toString(), "[ Tensor (undefined) ]");
}
