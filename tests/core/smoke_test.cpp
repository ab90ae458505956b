#include <gtest/gtest.h>

#include "striate/striate.h"

using namespace striate;

TEST(Smoke, ZerosAndView) {
  Tensor t = zeros({2, 3});
  EXPECT_EQ(t.sizes(), (Shape{2, 3}));
  Tensor v = t.transpose(0, 1);
  EXPECT_EQ(v.sizes(), (Shape{3, 2}));
  EXPECT_FALSE(v.is_contiguous());
  auto values = v.contiguous().to_vector<float>();
  EXPECT_EQ(values.size(), 6u);
}
