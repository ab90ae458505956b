// The kernel-backend settings and the registry's choice between a native
// kernel and a library one. The choice needs no GPU: fake kernels record
// which of them ran.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "kernels/kernel.h"
#include "striate/core/backend.h"
#include "striate/core/error.h"

namespace striate {
namespace {

std::string last_called;
void cpu_kernel(int) { last_called = "cpu"; }
void native_kernel(int) { last_called = "native"; }
void library_kernel(int) { last_called = "library"; }

using Fn = void (*)(int);
const kernels::Kernel<Fn> selectable{"fake conv", {&cpu_kernel, &native_kernel}, &library_kernel, OpFamily::Conv};
const kernels::Kernel<Fn> native_only{"fake softmax", {&cpu_kernel, &native_kernel}};
const kernels::Kernel<Fn> no_library_here{"fake gemm", {&cpu_kernel, &native_kernel}, nullptr, OpFamily::Gemm};

std::string called_by(const kernels::Kernel<Fn>& k, const Device& device) {
  last_called.clear();
  // Running on a CUDA device makes it current, which needs a GPU; the choice does not.
  if (device.is_cuda())
    k.select(device)(0);
  else
    k.run(device, {1, 2, 3}, 0);
  return last_called;
}

TEST(KernelBackend, ParsesEveryNameAndRejectsOthers) {
  EXPECT_EQ(parse_kernel_backend("native"), KernelBackend::Native);
  EXPECT_EQ(parse_kernel_backend("cudnn"), KernelBackend::Library);
  EXPECT_EQ(parse_kernel_backend("CUBLAS"), KernelBackend::Library);
  EXPECT_EQ(parse_kernel_backend("library"), KernelBackend::Library);
  EXPECT_EQ(parse_kernel_backend("Auto"), KernelBackend::Auto);
  EXPECT_THROW(parse_kernel_backend("fastest"), ValueError);
  EXPECT_THROW(parse_kernel_backend(""), ValueError);
}

TEST(KernelBackend, NamesFollowTheFamilysLibrary) {
  EXPECT_EQ(backend_name(OpFamily::Conv, KernelBackend::Library), "cudnn");
  EXPECT_EQ(backend_name(OpFamily::Gemm, KernelBackend::Library), "cublas");
  EXPECT_EQ(backend_name(OpFamily::Pooling, KernelBackend::Native), "native");
  EXPECT_EQ(backend_env_var(OpFamily::Conv), "STRIATE_CONV_BACKEND");
  EXPECT_EQ(backend_env_var(OpFamily::Gemm), "STRIATE_GEMM_BACKEND");
  EXPECT_EQ(op_family_name(OpFamily::Normalization), "normalization");
}

TEST(KernelBackend, GuardsNestAndRestoreTheGlobalChoice) {
  set_kernel_backend(OpFamily::Conv, KernelBackend::Native);
  {
    KernelBackendGuard outer(OpFamily::Conv, KernelBackend::Library);
    EXPECT_EQ(kernel_backend(OpFamily::Conv), KernelBackend::Library);
    EXPECT_EQ(kernel_backend(OpFamily::Gemm), KernelBackend::Native);  // other families untouched
    {
      KernelBackendGuard inner(OpFamily::Conv, KernelBackend::Auto);
      EXPECT_EQ(kernel_backend(OpFamily::Conv), KernelBackend::Auto);
    }
    EXPECT_EQ(kernel_backend(OpFamily::Conv), KernelBackend::Library);
  }
  EXPECT_EQ(kernel_backend(OpFamily::Conv), KernelBackend::Native);
  set_kernel_backend(OpFamily::Conv, KernelBackend::Library);
  EXPECT_EQ(kernel_backend(OpFamily::Conv), KernelBackend::Library);
  set_kernel_backend(OpFamily::Conv, KernelBackend::Native);
}

TEST(KernelBackend, CpuTensorsAlwaysRunTheCpuKernel) {
  KernelBackendGuard guard(OpFamily::Conv, KernelBackend::Library);
  EXPECT_EQ(called_by(selectable, Device::cpu()), "cpu");
  KernelBackendGuard automatic(OpFamily::Conv, KernelBackend::Auto);
  EXPECT_EQ(called_by(selectable, Device::cpu()), "cpu");
}

TEST(KernelBackend, TheSettingPicksTheCudaImplementation) {
  const Device gpu = Device::cuda(0);  // choosing needs no GPU; nothing here touches one
  {
    KernelBackendGuard guard(OpFamily::Conv, KernelBackend::Native);
    EXPECT_EQ(called_by(selectable, gpu), "native");
  }
  {
    KernelBackendGuard guard(OpFamily::Conv, KernelBackend::Library);
    EXPECT_EQ(called_by(selectable, gpu), "library");
    // Another family's setting does not matter to a conv table.
    KernelBackendGuard gemm(OpFamily::Gemm, KernelBackend::Native);
    EXPECT_EQ(called_by(selectable, gpu), "library");
  }
}

TEST(KernelBackend, LibraryWithoutALibraryEntryRunsTheNativeKernel) {
  const Device gpu = Device::cuda(0);
  KernelBackendGuard guard(OpFamily::Gemm, KernelBackend::Library);
  EXPECT_EQ(called_by(no_library_here, gpu), "native");  // and says so once on stderr
  KernelBackendGuard conv(OpFamily::Conv, KernelBackend::Library);
  EXPECT_EQ(called_by(native_only, gpu), "native");
}

TEST(KernelBackend, AMissingKernelIsAClearError) {
  const kernels::Kernel<Fn> cpu_only{"fake pooling", {&cpu_kernel, nullptr}};
  EXPECT_THROW(cpu_only.get(Device::cuda(0)), NotImplementedError);  // before any device is touched
}

TEST(KernelBackend, TheLibraryIsCompiledWhereTheBuildSaysSo) {
#ifdef STRIATE_WITH_CUDA
  GTEST_SKIP() << "checked against the build's configuration in tests/cuda";
#else
  for (OpFamily f : {OpFamily::Conv, OpFamily::Gemm, OpFamily::Pooling}) EXPECT_FALSE(library_backend_compiled(f));
#endif
}

TEST(AllowTf32, IsOffByDefaultSetPerFamilyAndOnlyForConvAndGemm) {
  // Unless the environment says otherwise: the test runs without STRIATE_ALLOW_TF32.
  if (std::getenv("STRIATE_ALLOW_TF32") != nullptr) GTEST_SKIP() << "STRIATE_ALLOW_TF32 is set";
  EXPECT_FALSE(allow_tf32(OpFamily::Conv));
  EXPECT_FALSE(allow_tf32(OpFamily::Gemm));
  set_allow_tf32(OpFamily::Conv, true);
  EXPECT_TRUE(allow_tf32(OpFamily::Conv));
  EXPECT_FALSE(allow_tf32(OpFamily::Gemm));
  set_allow_tf32(OpFamily::Gemm, true);
  set_allow_tf32(OpFamily::Conv, false);
  EXPECT_FALSE(allow_tf32(OpFamily::Conv));
  EXPECT_TRUE(allow_tf32(OpFamily::Gemm));
  set_allow_tf32(OpFamily::Gemm, false);
  EXPECT_THROW(set_allow_tf32(OpFamily::Pooling, true), ValueError);
  EXPECT_THROW(allow_tf32(OpFamily::Activation), ValueError);
}

TEST(AllowTf32, ParsesTheEnvironmentsForms) {
  const auto parsed = [](const char* text) {
    const detail::Tf32Families f = detail::parse_allow_tf32(text);
    return std::string(f.conv ? "conv" : "") + (f.gemm ? "+gemm" : "");
  };
  EXPECT_EQ(parsed("1"), "conv+gemm");
  EXPECT_EQ(parsed("ALL"), "conv+gemm");
  EXPECT_EQ(parsed("0"), "");
  EXPECT_EQ(parsed("none"), "");
  EXPECT_EQ(parsed("conv"), "conv");
  EXPECT_EQ(parsed("Gemm"), "+gemm");
  EXPECT_EQ(parsed("gemm,conv"), "conv+gemm");
  EXPECT_THROW(parsed("yes"), ValueError);
  EXPECT_THROW(parsed("conv,"), ValueError);
  EXPECT_THROW(parsed("conv,pooling"), ValueError);
}

TEST(DeterministicAlgorithms, IsOffByDefaultAndSetGlobally) {
  if (std::getenv("STRIATE_DETERMINISTIC") != nullptr) GTEST_SKIP() << "STRIATE_DETERMINISTIC is set";
  EXPECT_FALSE(are_deterministic_algorithms_enabled());
  use_deterministic_algorithms(true);
  EXPECT_TRUE(are_deterministic_algorithms_enabled());
  use_deterministic_algorithms(false);
  EXPECT_FALSE(are_deterministic_algorithms_enabled());
}

TEST(DeterministicAlgorithms, AutoRunsTheNativeKernelInsteadOfTimingBoth) {
  const Device gpu = Device::cuda(0);  // choosing needs no GPU
  KernelBackendGuard guard(OpFamily::Conv, KernelBackend::Auto);
  EXPECT_TRUE(selectable.measures(gpu));
  EXPECT_FALSE(native_only.measures(gpu));  // nothing to compare with
  EXPECT_FALSE(selectable.measures(Device::cpu()));
  use_deterministic_algorithms(true);
  EXPECT_FALSE(selectable.measures(gpu));
  EXPECT_EQ(called_by(selectable, gpu), "native");
  use_deterministic_algorithms(false);
  EXPECT_TRUE(selectable.measures(gpu));
}

TEST(DeterministicAlgorithms, ParsesTheEnvironmentsForms) {
  for (const char* on : {"1", "true", "ON", "True"}) EXPECT_TRUE(detail::parse_deterministic(on)) << on;
  for (const char* off : {"0", "false", "Off"}) EXPECT_FALSE(detail::parse_deterministic(off)) << off;
  for (const char* bad : {"", "yes", "2", "1 "}) EXPECT_THROW(detail::parse_deterministic(bad), ValueError) << bad;
}

}  // namespace
}  // namespace striate
