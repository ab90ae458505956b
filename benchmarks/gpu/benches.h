// The runners: each builds its tensors on the current GPU, times its cases
// (timing.h) and returns their results; a failing case is recorded, never
// thrown. Progress goes to stderr, one line a case.
#pragma once

#include <string>
#include <vector>

#include "report.h"
#include "stats.h"

namespace striate::bench {

struct BenchContext {
  RepPolicy policy;
  bool full = false;
  int64_t l2_bytes = 0;
  bool nchw = true, nhwc = true;  // layouts of the convolutions and the 4-D memory cases
  bool f32 = true, tf32 = false;  // the convolutions' math
};

std::vector<ConvResult> run_conv_suite(const std::string& suite, const BenchContext& ctx);
std::vector<GemmResult> run_gemm_suite(const BenchContext& ctx);
std::vector<MemoryResult> run_memory_suite(const BenchContext& ctx);
AllocatorResult run_allocator_suite(const BenchContext& ctx);
OverheadResult run_overhead_suite(const BenchContext& ctx);

// The shapes of ResNet-50's parameters (torchvision's, 1000 classes), for the
// optimizer cases.
std::vector<std::vector<int64_t>> resnet50_parameter_shapes();

}  // namespace striate::bench
