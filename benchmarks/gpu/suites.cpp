#include "suites.h"

#include <algorithm>
#include <sstream>
#include <tuple>

#include "striate/core/error.h"

namespace striate::bench {
namespace {

constexpr int64_t kBatch = 32;
constexpr int64_t kLeNetBatch = 64;  // the end-to-end LeNet run's batch
constexpr int64_t kFloatBytes = 4;

// Appends a case unless an identical convolution is already there; then the
// first one's name also says what the repeat was, unless it says so already
// (ResNet's layer1 projection is the same convolution as its conv3).
void add_distinct(std::vector<ConvCase>& cases, ConvCase c, const std::string& alias = "") {
  const auto key = [](const kernels::ConvParams& p) {
    return std::make_tuple(p.batch, p.channels, p.height, p.width, p.out_channels, p.kernel_h, p.kernel_w, p.stride_h,
                           p.stride_w, p.pad_top, p.pad_left, p.groups);
  };
  for (ConvCase& existing : cases)
    if (key(existing.params) == key(c.params)) {
      if (!alias.empty() && existing.name.find(alias) == std::string::npos)
        existing.name += " (also " + alias + ")";
      return;
    }
  cases.push_back(std::move(c));
}

std::string layer_name(const std::string& where, int64_t kernel, int64_t stride, int64_t in, int64_t out,
                       int64_t size) {
  std::ostringstream os;
  os << where << ' ' << kernel << 'x' << kernel;
  if (stride != 1) os << '/' << stride;
  os << ' ' << in << '-' << out << " @" << size;
  return os.str();
}

std::vector<ConvCase> lenet5() {
  return {
      {"lenet5", "conv1 5x5 1-6 @28", conv_params(kLeNetBatch, 1, 28, 6, 5, 1, 2)},
      {"lenet5", "conv2 5x5 6-16 @14", conv_params(kLeNetBatch, 6, 14, 16, 5, 1, 0)},
      {"lenet5", "c5 5x5 16-120 @5", conv_params(kLeNetBatch, 16, 5, 120, 5, 1, 0)},
  };
}

// torchvision's AlexNet at 224x224 (conv1 gives 55x55, pooled to 27, then 13).
std::vector<ConvCase> alexnet() {
  return {
      {"alexnet", "conv1 11x11/4 3-64 @224", conv_params(kBatch, 3, 224, 64, 11, 4, 2)},
      {"alexnet", "conv2 5x5 64-192 @27", conv_params(kBatch, 64, 27, 192, 5, 1, 2)},
      {"alexnet", "conv3 3x3 192-384 @13", conv_params(kBatch, 192, 13, 384, 3, 1, 1)},
      {"alexnet", "conv4 3x3 384-256 @13", conv_params(kBatch, 384, 13, 256, 3, 1, 1)},
      {"alexnet", "conv5 3x3 256-256 @13", conv_params(kBatch, 256, 13, 256, 3, 1, 1)},
  };
}

// VGG-16 (configuration D): 3x3 pad 1 convolutions, a 2x2 max pool after each block.
std::vector<ConvCase> vgg16() {
  constexpr int64_t kPool = 0;
  const int64_t config[] = {64, 64, kPool, 128, 128, kPool, 256, 256, 256, kPool,
                            512, 512, 512, kPool, 512, 512, 512, kPool};
  std::vector<ConvCase> cases;
  int64_t channels = 3, size = 224, index = 0;
  for (int64_t v : config) {
    if (v == kPool) {
      size /= 2;
      continue;
    }
    const std::string where = "conv" + std::to_string(++index);
    add_distinct(cases,
                 {"vgg16", layer_name(where, 3, 1, channels, v, size), conv_params(kBatch, channels, size, v, 3, 1, 1)},
                 where);
    channels = v;
  }
  return cases;
}

// Walks ResNet-50 as torchvision builds it (v1.5: the stride on the 3x3) and
// keeps each distinct convolution once.
std::vector<ConvCase> resnet50(int64_t batch) {
  const std::string suite = "resnet50";
  const std::string tag = batch == kBatch ? "" : " b" + std::to_string(batch);
  std::vector<ConvCase> cases;
  add_distinct(cases, {suite, "stem 7x7/2 3-64 @224" + tag, conv_params(batch, 3, 224, 64, 7, 2, 3)});
  struct Stage {
    int64_t planes, blocks, stride;
  };
  const Stage stages[] = {{64, 3, 1}, {128, 4, 2}, {256, 6, 2}, {512, 3, 2}};
  int64_t inplanes = 64, size = 56;  // after the stem's max pool
  for (size_t s = 0; s < std::size(stages); ++s) {
    const Stage& st = stages[s];
    const std::string layer = "layer" + std::to_string(s + 1);
    for (int64_t b = 0; b < st.blocks; ++b) {
      const int64_t stride = b == 0 ? st.stride : 1, out_size = size / stride, width = st.planes * 4;
      const auto add = [&](const std::string& role, int64_t kernel, int64_t conv_stride, int64_t in, int64_t out,
                           int64_t at, int64_t pad) {
        add_distinct(cases,
                     {suite, layer_name(layer + " " + role, kernel, conv_stride, in, out, at) + tag,
                      conv_params(batch, in, at, out, kernel, conv_stride, pad)},
                     role);
      };
      add("conv1", 1, 1, inplanes, st.planes, size, 0);
      add("conv2", 3, stride, st.planes, st.planes, size, 1);
      add("conv3", 1, 1, st.planes, width, out_size, 0);
      if (b == 0) add("downsample", 1, stride, inplanes, width, size, 0);
      inplanes = width;
      size = out_size;
    }
  }
  return cases;
}

// MobileNetV2's 3x3 depthwise layers (channels, input size, stride) at 224x224.
std::vector<ConvCase> depthwise() {
  struct Layer {
    int64_t channels, size, stride;
  };
  const Layer layers[] = {{32, 112, 1},  {96, 112, 2}, {144, 56, 1}, {144, 56, 2}, {192, 28, 1},
                          {192, 28, 2},  {384, 14, 1}, {576, 14, 1}, {576, 14, 2}, {960, 7, 1}};
  std::vector<ConvCase> cases;
  for (const Layer& l : layers) {
    std::ostringstream name;
    name << "dw 3x3";
    if (l.stride != 1) name << '/' << l.stride;
    name << ' ' << l.channels << " @" << l.size;
    cases.push_back({"depthwise", name.str(), conv_params(kBatch, l.channels, l.size, l.channels, 3, l.stride, 1,
                                                          l.channels)});
  }
  return cases;
}

}  // namespace

const char* pass_name(ConvPass pass) {
  switch (pass) {
    case ConvPass::Forward: return "forward";
    case ConvPass::GradInput: return "grad input";
    case ConvPass::GradWeight: return "grad weight";
  }
  return "?";
}

const char* pass_tag(ConvPass pass) {
  switch (pass) {
    case ConvPass::Forward: return "fwd";
    case ConvPass::GradInput: return "dgrad";
    case ConvPass::GradWeight: return "wgrad";
  }
  return "?";
}

kernels::ConvParams conv_params(int64_t batch, int64_t channels, int64_t size, int64_t out_channels, int64_t kernel,
                                int64_t stride, int64_t pad, int64_t groups) {
  kernels::ConvParams p{};
  p.dtype = DType::F32;
  p.batch = batch;
  p.channels = channels;
  p.height = p.width = size;
  p.out_channels = out_channels;
  p.kernel_h = p.kernel_w = kernel;
  p.stride_h = p.stride_w = stride;
  p.dilation_h = p.dilation_w = 1;
  p.pad_top = p.pad_left = pad;
  p.out_h = p.out_w = (size + 2 * pad - kernel) / stride + 1;
  p.groups = groups;
  return p;
}

double conv_flops(const kernels::ConvParams& p) {
  return 2.0 * static_cast<double>(p.batch) * static_cast<double>(p.out_channels) *
         static_cast<double>(p.out_h * p.out_w) * static_cast<double>(p.channels / p.groups) *
         static_cast<double>(p.kernel_h * p.kernel_w);
}

std::string conv_shape(const kernels::ConvParams& p) {
  std::ostringstream os;
  os << p.batch << 'x' << p.channels << 'x' << p.height << 'x' << p.width << " * " << p.out_channels << 'x'
     << p.channels / p.groups << 'x' << p.kernel_h << 'x' << p.kernel_w << " /" << p.stride_h << " p" << p.pad_top;
  if (p.groups != 1) os << " g" << p.groups;
  return os.str();
}

const char* layout_name(const kernels::ConvParams& p) { return p.channels_last ? "NHWC" : "NCHW"; }

std::vector<ConvCase> in_layouts(const std::vector<ConvCase>& cases, bool nchw, bool nhwc) {
  std::vector<ConvCase> out;
  for (bool channels_last : {false, true}) {
    if (!(channels_last ? nhwc : nchw)) continue;
    for (ConvCase c : cases) {
      c.params.channels_last = channels_last;
      out.push_back(std::move(c));
    }
  }
  return out;
}

const char* math_name(const kernels::ConvParams& p) { return p.allow_tf32 ? "tf32" : "f32"; }

std::vector<ConvCase> in_maths(const std::vector<ConvCase>& cases, bool f32, bool tf32) {
  std::vector<ConvCase> out;
  for (bool allow : {false, true}) {
    if (!(allow ? tf32 : f32)) continue;
    for (ConvCase c : cases) {
      c.params.allow_tf32 = allow;
      out.push_back(std::move(c));
    }
  }
  return out;
}

std::vector<std::string> conv_suite_names() { return {"lenet5", "alexnet", "vgg16", "resnet50", "depthwise"}; }

std::vector<ConvCase> conv_suite(const std::string& name, bool full) {
  if (name == "lenet5") return lenet5();
  if (name == "alexnet") return alexnet();
  if (name == "vgg16") return vgg16();
  if (name == "depthwise") return depthwise();
  if (name == "resnet50") {
    std::vector<ConvCase> cases = resnet50(kBatch);
    if (full) {
      const std::vector<ConvCase> big = resnet50(256);
      cases.insert(cases.end(), big.begin(), big.end());
    }
    return cases;
  }
  throw ValueError("kernel bench: no convolution suite named '" + name + "'");
}

std::vector<GemmCase> gemm_cases() {
  std::vector<GemmCase> cases;
  for (int64_t n : {512, 1024, 2048, 4096, 8192})
    cases.push_back({"square " + std::to_string(n), n, n, n});
  // Linear(2048, 1000) at batch 256: y = x W^T, grad x = gy W, grad W = gy^T x.
  cases.push_back({"fc forward [256,2048]x[2048,1000]", 256, 1000, 2048, false, true});
  cases.push_back({"fc grad input [256,1000]x[1000,2048]", 256, 2048, 1000, false, false});
  cases.push_back({"fc grad weight [1000,256]x[256,2048]", 1000, 2048, 256, true, false});
  return cases;
}

double gemm_flops(const GemmCase& c) {
  return 2.0 * static_cast<double>(c.m) * static_cast<double>(c.n) * static_cast<double>(c.k);
}

int64_t gemm_a_elements(const GemmCase& c) { return c.m * c.k; }
int64_t gemm_b_elements(const GemmCase& c) { return c.k * c.n; }
int64_t gemm_c_elements(const GemmCase& c) { return c.m * c.n; }

kernels::GemmParams gemm_params(const GemmCase& c, const void* a, const void* b, void* out) {
  kernels::GemmParams p;
  p.dtype = DType::F32;
  p.batch = 1;
  p.m = c.m;
  p.n = c.n;
  p.k = c.k;
  p.a = {a, c.trans_a ? c.m : c.k, 0, c.trans_a};  // stored [k, m] or [m, k]
  p.b = {b, c.trans_b ? c.k : c.n, 0, c.trans_b};  // stored [n, k] or [k, n]
  p.c = out;
  p.ldc = c.n;
  p.alpha = 1;
  p.beta = 0;
  return p;
}

std::vector<MemorySpec> memory_suite(int64_t optimizer_parameters) {
  const int64_t n = kMemoryElements, f = kFloatBytes;
  // ResNet-50's stem activations: [32, 64, 112, 112], pooled 3x3/2 pad 1 to 56x56.
  const std::vector<int64_t> stem{kBatch, 64, 112, 112};
  const int64_t stem_n = kBatch * 64 * 112 * 112, pooled_n = kBatch * 64 * 56 * 56;
  const int64_t rows = 65536, cols = 1000, sm = rows * cols, params = optimizer_parameters;
  std::vector<MemorySpec> suite{
      {MemoryOp::Relu, "relu forward", {n}, 2 * f * n, "read x, write y"},
      {MemoryOp::ReluBackward, "relu backward", {n}, 3 * f * n,
       "read grad_output and the saved input, write grad_input"},
      {MemoryOp::Add, "add", {n}, 3 * f * n, "read a and b, write a + b"},
      {MemoryOp::MaxPool, "max_pool2d 3x3/2 p1 forward", stem, f * (stem_n + pooled_n),
       "read x, write y (no indices: the input needs no gradient)"},
      {MemoryOp::MaxPoolBackward, "max_pool2d 3x3/2 p1 backward", stem, f * stem_n + (f + 8) * pooled_n,
       "read grad_output and the int64 indices, write grad_input"},
      {MemoryOp::BatchNorm, "batch_norm forward (training)", stem, 3 * f * stem_n,
       "read x twice (channel statistics, then normalise), write y; per-channel values not counted"},
      {MemoryOp::BatchNormBackward, "batch_norm backward", stem, 5 * f * stem_n,
       "read x and grad_output twice (the two channel sums, then grad_input), write grad_input"},
      {MemoryOp::Softmax, "softmax forward (dim 1)", {rows, cols}, 2 * f * sm, "read x, write y (a row stays on chip)"},
      {MemoryOp::SoftmaxBackward, "softmax backward", {rows, cols}, 3 * f * sm,
       "read y and grad_output, write grad_input"},
      {MemoryOp::Sgd, "SGD step (momentum 0.9)", {params}, 5 * f * params,
       "read param, grad, momentum; write param, momentum"},
      {MemoryOp::Adam, "Adam step", {params}, 7 * f * params, "read param, grad, m, v; write param, m, v"},
  };
  // The stem's pooling and batch norm again on channels-last activations.
  for (size_t i = 0, n_nchw = suite.size(); i < n_nchw; ++i)
    if (suite[i].shape == stem) {
      MemorySpec nhwc = suite[i];
      nhwc.name += ", NHWC";
      nhwc.channels_last = true;
      suite.push_back(nhwc);
    }
  return suite;
}

std::vector<MemorySpec> in_layouts(const std::vector<MemorySpec>& cases, bool nchw, bool nhwc) {
  std::vector<MemorySpec> kept;
  for (const MemorySpec& s : cases)
    if (s.shape.size() != 4 || (s.channels_last ? nhwc : nchw)) kept.push_back(s);
  return kept;
}

std::vector<std::string> all_suite_names() {
  std::vector<std::string> names = conv_suite_names();
  for (const char* s : {"gemm", "memory", "allocator", "overhead"}) names.emplace_back(s);
  return names;
}

bool is_conv_suite(const std::string& name) {
  const std::vector<std::string> names = conv_suite_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace striate::bench
