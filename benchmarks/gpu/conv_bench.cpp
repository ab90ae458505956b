// The convolution suites: each case's three passes, native against cuDNN,
// called at the kernel level (kernels/conv.h) on rotated f32 buffers, NCHW
// and NHWC (channels last: NHWC tensors, OHWI weights), in f32 and with TF32
// allowed (the params' allow_tf32 reaches both implementations).
#include <cstdio>

#include "benches.h"
#include "kernels/conv.h"
#include "striate/striate.h"
#include "timing.h"

namespace striate::bench {
namespace {

using kernels::ConvParams;

// One implementation's three passes.
struct ConvImpl {
  decltype(&kernels::cuda::conv2d_forward) forward;
  decltype(&kernels::cuda::conv2d_grad_input) grad_input;
  decltype(&kernels::cuda::conv2d_grad_weight) grad_weight;
};

const ConvImpl kNative{&kernels::cuda::conv2d_forward, &kernels::cuda::conv2d_grad_input,
                       &kernels::cuda::conv2d_grad_weight};
#ifdef STRIATE_WITH_CUDNN
const ConvImpl kCudnn{&kernels::cudnn::conv2d_forward, &kernels::cudnn::conv2d_grad_input,
                      &kernels::cudnn::conv2d_grad_weight};
#endif

// `copies` sets of a case's tensors: inputs random, outputs uninitialised
// (every pass overwrites its output).
struct ConvBuffers {
  std::vector<Tensor> x, w, gy, y, gx, gw;

  ConvBuffers(const ConvParams& p, int64_t copies, Generator& gen) {
    const TensorOptions gpu = TensorOptions(kFloat).device(Device::cuda(cuda::current_device()));
    const MemoryFormat layout = p.channels_last ? MemoryFormat::ChannelsLast : MemoryFormat::Contiguous;
    const Shape xs{p.batch, p.channels, p.height, p.width};
    const Shape ws{p.out_channels, p.channels / p.groups, p.kernel_h, p.kernel_w};
    const Shape ys{p.batch, p.out_channels, p.out_h, p.out_w};
    for (int64_t i = 0; i < copies; ++i) {
      x.push_back(randn(xs, gpu, &gen).contiguous(layout));
      w.push_back(randn(ws, gpu, &gen).contiguous(layout));
      gy.push_back(randn(ys, gpu, &gen).contiguous(layout));
      y.push_back(empty(ys, gpu, layout));
      gx.push_back(empty(xs, gpu, layout));
      gw.push_back(empty(ws, gpu, layout));
    }
  }
};

// Bytes one pass touches: its two inputs and its output.
int64_t pass_bytes(const ConvParams& p) {
  const int64_t x = p.batch * p.channels * p.height * p.width;
  const int64_t w = p.out_channels * (p.channels / p.groups) * p.kernel_h * p.kernel_w;
  const int64_t y = p.batch * p.out_channels * p.out_h * p.out_w;
  return 4 * (x + w + y);
}

Measurement time_pass(const ConvImpl& impl, ConvPass pass, const ConvParams& p, ConvBuffers& b,
                      const RepPolicy& policy, int64_t copies) {
  switch (pass) {
    case ConvPass::Forward:
      return time_on_gpu(
          [&](int64_t i) { impl.forward(p, b.x[i].data_ptr(), b.w[i].data_ptr(), nullptr, b.y[i].data_ptr()); },
          policy, copies);
    case ConvPass::GradInput:
      return time_on_gpu(
          [&](int64_t i) { impl.grad_input(p, b.w[i].data_ptr(), b.gy[i].data_ptr(), b.gx[i].data_ptr()); },
          policy, copies);
    case ConvPass::GradWeight:
      return time_on_gpu(
          [&](int64_t i) { impl.grad_weight(p, b.x[i].data_ptr(), b.gy[i].data_ptr(), b.gw[i].data_ptr(), nullptr); },
          policy, copies);
  }
  return {};
}

std::string brief(const Measurement& m) {
  if (!m.ok()) return "error";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4f ms", m.time.median);
  return buf;
}

}  // namespace

std::vector<ConvResult> run_conv_suite(const std::string& suite, const BenchContext& ctx) {
  std::vector<ConvResult> results;
  Generator gen(42);
  for (const ConvCase& c : in_maths(in_layouts(conv_suite(suite, ctx.full), ctx.nchw, ctx.nhwc), ctx.f32, ctx.tf32)) {
    const ConvParams& p = c.params;
    const int64_t copies = rotation_copies(pass_bytes(p), ctx.l2_bytes);
    std::vector<ConvResult> rows;
    for (ConvPass pass : kConvPasses) rows.push_back({c, pass, {}, {}});
    try {
      ConvBuffers buffers(p, copies, gen);
      for (ConvResult& r : rows) {
        r.native = time_pass(kNative, r.pass, p, buffers, ctx.policy, copies);
#ifdef STRIATE_WITH_CUDNN
        const int64_t native_runs = kernels::cudnn::conv2d_native_runs();
        r.library = time_pass(kCudnn, r.pass, p, buffers, ctx.policy, copies);
        if (kernels::cudnn::conv2d_native_runs() != native_runs) r.library = {{}, kLibraryFellBack};
#else
        r.library.error = std::string("cuDNN ") + kNotInBuild;
#endif
        const auto ratio = speed_ratio(r.native, r.library);
        std::fprintf(stderr, "[%s] %-44s %s %-4s %-11s native %-12s cuDNN %-12s ratio %s\n", suite.c_str(),
                     c.name.c_str(), layout_name(p), math_name(p), pass_name(r.pass), brief(r.native).c_str(),
                     brief(r.library).c_str(), ratio ? std::to_string(*ratio).substr(0, 5).c_str() : "-");
        if (!r.native.ok()) std::fprintf(stderr, "  native: %s\n", r.native.error.c_str());
        if (!r.library.ok()) std::fprintf(stderr, "  cuDNN: %s\n", r.library.error.c_str());
      }
    } catch (const std::exception& e) {  // the buffers could not be made
      for (ConvResult& r : rows) {
        if (r.native.ok() || !r.native.error.empty()) continue;
        r.native.error = r.library.error = std::string("setting up: ") + e.what();
      }
      std::fprintf(stderr, "[%s] %s: %s\n", suite.c_str(), c.name.c_str(), e.what());
    }
    results.insert(results.end(), rows.begin(), rows.end());
  }
  return results;
}

}  // namespace striate::bench
