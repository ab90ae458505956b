// What every CUDA entry point of a build without the CUDA backend throws.
#pragma once

namespace striate::cuda::detail {
[[noreturn]] void throw_no_cuda(const char* what);
}  // namespace striate::cuda::detail
