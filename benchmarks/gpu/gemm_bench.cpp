// The GEMM shapes: kernels::cuda::gemm against cuBLAS (kernels::cudnn::gemm), f32.
#include <cstdio>

#include "benches.h"
#include "kernels/gemm.h"
#include "striate/striate.h"
#include "timing.h"

namespace striate::bench {
namespace {

Measurement time_gemm(void (*gemm)(const kernels::GemmParams&), const GemmCase& c, const std::vector<Tensor>& a,
                      const std::vector<Tensor>& b, const std::vector<Tensor>& out, const RepPolicy& policy) {
  return time_on_gpu(
      [&](int64_t i) { gemm(gemm_params(c, a[i].data_ptr(), b[i].data_ptr(), out[i].data_ptr())); }, policy,
      static_cast<int64_t>(a.size()));
}

}  // namespace

std::vector<GemmResult> run_gemm_suite(const BenchContext& ctx) {
  std::vector<GemmResult> results;
  Generator gen(43);
  const TensorOptions gpu = TensorOptions(kFloat).device(Device::cuda(cuda::current_device()));
  for (const GemmCase& c : gemm_cases()) {
    GemmResult r{c, {}, {}};
    try {
      const int64_t set_bytes = 4 * (gemm_a_elements(c) + gemm_b_elements(c) + gemm_c_elements(c));
      const int64_t copies = rotation_copies(set_bytes, ctx.l2_bytes);
      std::vector<Tensor> a, b, out;
      for (int64_t i = 0; i < copies; ++i) {
        a.push_back(randn({gemm_a_elements(c)}, gpu, &gen));
        b.push_back(randn({gemm_b_elements(c)}, gpu, &gen));
        out.push_back(empty({gemm_c_elements(c)}, gpu));
      }
      r.native = time_gemm(&kernels::cuda::gemm, c, a, b, out, ctx.policy);
#ifdef STRIATE_WITH_CUBLAS
      r.library = time_gemm(&kernels::cudnn::gemm, c, a, b, out, ctx.policy);
#else
      r.library.error = std::string("cuBLAS ") + kNotInBuild;
#endif
    } catch (const std::exception& e) {
      r.native.error = r.library.error = std::string("setting up: ") + e.what();
    }
    const auto ratio = speed_ratio(r.native, r.library);
    std::fprintf(stderr, "[gemm] %-40s native %s  cuBLAS %s  ratio %s\n", c.name.c_str(),
                 r.native.ok() ? std::to_string(r.native.time.median).c_str() : r.native.error.c_str(),
                 r.library.ok() ? std::to_string(r.library.time.median).c_str() : r.library.error.c_str(),
                 ratio ? std::to_string(*ratio).c_str() : "-");
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace striate::bench
