// Uses the installed package the way an application would; exits non-zero
// (with a reason) on any surprise. argv[1]: the install prefix.
#include <striate/striate.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#if defined(__linux__) && defined(CONSUMER_EXPECTS_SHARED)
#include <dlfcn.h>
#endif

namespace {

int failures = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "consumer: FAILED: %s\n", what.c_str());
    ++failures;
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace striate;
  try {
    // Views and autograd across the library boundary: d/dw sum(x * w) = x summed over rows.
    Tensor x = arange(6, TensorOptions(kFloat)).reshape({2, 3});
    Tensor w = ones({3}, TensorOptions(kFloat).requires_grad(true));
    Tensor loss = (x * w).sum();
    loss.backward();
    expect(std::fabs(loss.item<float>() - 15.f) < 1e-6f, "sum(x * w) == 15");
    expect(w.grad().to_vector<float>() == std::vector<float>{3.f, 5.f, 7.f}, "w.grad() == [3, 5, 7]");

    // Exceptions thrown inside the library must be catchable by type here.
    bool caught = false;
    try {
      x.view({4, 2});
    } catch (const ShapeError&) {
      caught = true;
    }
    expect(caught, "view of 6 elements as [4, 2] throws striate::ShapeError");

#ifdef CONSUMER_EXPECTS_CUDA
    expect(cuda::is_compiled(), "StriateConfig says CUDA, the library says not compiled with CUDA");
#else
    expect(!cuda::is_compiled(), "StriateConfig says no CUDA, the library says compiled with CUDA");
#endif

#if defined(__linux__) && defined(CONSUMER_EXPECTS_SHARED)
    // The library loaded must be the installed one, not the build tree's.
    Dl_info info{};
    if (argc > 1 && dladdr(reinterpret_cast<void*>(&cuda::is_compiled), &info) && info.dli_fname) {
      const std::string loaded = info.dli_fname;
      expect(loaded.rfind(argv[1], 0) == 0, "libstriate loaded from " + loaded + ", not under " + argv[1]);
    }
#endif
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: unexpected exception: %s\n", e.what());
    return 1;
  }
  if (failures == 0) std::printf("consumer: find_package(Striate) works\n");
  return failures == 0 ? 0 : 1;
}
