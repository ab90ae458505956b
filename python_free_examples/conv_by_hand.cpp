// conv_by_hand: what a convolution layer computes, one multiply-add at a time.
//
// A 3×3 input holding 0…8 and a 2×2 kernel holding 0…3. The kernel slides
// over the input (stride 1, no padding), so the output is
// (3 - 2 + 1) × (3 - 2 + 1) = 2×2; each output element is the sum of the
// kernel times the 2×2 window under it:
//
//   input        kernel      output
//   0 1 2        0 1         19 25
//   3 4 5   *    2 3    =    37 43
//   6 7 8
//
// (Deep-learning "convolution" does not flip the kernel: strictly it is a
// cross-correlation, as in PyTorch and cuDNN.) The program prints every
// multiply-add, then checks the sums against striate::conv2d and exits
// non-zero if they differ.
#include <striate/striate.h>
#include <striate/core/ops/conv.h>

#include <cstdio>
#include <iostream>

using namespace striate;

int main() {
  // conv2d works on batches: input [N, C, H, W], weight [out_channels, in_channels, kH, kW].
  Tensor input = arange(9, TensorOptions(kFloat)).reshape({1, 1, 3, 3});
  Tensor kernel = arange(4, TensorOptions(kFloat)).reshape({1, 1, 2, 2});
  std::cout << "input (3x3):\n" << input[0][0] << "\n\nkernel (2x2):\n" << kernel[0][0] << "\n\n";

  const int64_t H = 3, W = 3, kH = 2, kW = 2;
  const int64_t out_h = H - kH + 1, out_w = W - kW + 1;
  const std::vector<float> x = input.to_vector<float>();
  const std::vector<float> k = kernel.to_vector<float>();
  std::vector<float> by_hand(out_h * out_w, 0.f);

  for (int64_t i = 0; i < out_h; ++i) {
    for (int64_t j = 0; j < out_w; ++j) {
      std::printf("output[%lld][%lld] =", static_cast<long long>(i), static_cast<long long>(j));
      float sum = 0;
      for (int64_t a = 0; a < kH; ++a) {
        for (int64_t b = 0; b < kW; ++b) {
          const float xv = x[(i + a) * W + (j + b)];
          const float kv = k[a * kW + b];
          sum += xv * kv;
          std::printf("%s input[%lld][%lld]*kernel[%lld][%lld] (%g*%g)", a + b == 0 ? "" : " +",
                      static_cast<long long>(i + a), static_cast<long long>(j + b), static_cast<long long>(a),
                      static_cast<long long>(b), xv, kv);
        }
      }
      by_hand[i * out_w + j] = sum;
      std::printf(" = %g\n", sum);
    }
  }

  Tensor library = conv2d(input, kernel);  // stride 1, no padding, no bias
  std::cout << "\nconv2d(input, kernel):\n" << library[0][0] << "\n";

  const std::vector<float> got = library.to_vector<float>();
  const std::vector<float> expected = {19, 25, 37, 43};
  for (size_t n = 0; n < expected.size(); ++n) {
    if (got[n] != by_hand[n] || got[n] != expected[n]) {
      std::printf("MISMATCH at %zu: by hand %g, conv2d %g, expected %g\n", n, by_hand[n], got[n], expected[n]);
      return 1;
    }
  }
  std::cout << "by hand and conv2d agree: [[19, 25], [37, 43]]\n";
  return 0;
}
