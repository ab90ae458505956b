// CUDA fused optimizer updates, as a multi-tensor apply (PyTorch's _foreach,
// apex's multi_tensor_apply): the host cuts each tensor of the list into
// chunks of kChunk elements and packs the operand pointers and sizes of up
// to MaxTensors tensors, with the chunk each block updates, into one kernel
// argument struct. One launch updates many tensors; a long list takes a few.
// The element arithmetic is the CPU's (kernels/optim.h, every rounding the
// same), so the GPU agrees with the CPU bit for bit; no host synchronisation,
// no scratch memory.
#include "kernels/cuda/launch.cuh"
#include "kernels/optim.h"

namespace striate::kernels::cuda {
namespace {

constexpr int64_t kChunk = 65536;  // elements a block updates
constexpr int kMaxBlocks = 320;    // chunks (blocks) per launch
constexpr int kIlp = 4;            // elements per thread and operand whose loads are in flight together
// Kernel arguments stay within 4 KiB, the limit without CUDA 12.1's large-argument support.
constexpr size_t kMaxArgBytes = 4096;

struct NoTensorConstants {};

// The tensors of one launch (operand pointers, sizes, per-tensor constants)
// and, per block, which tensor and which of its chunks it updates.
template <int Depth, int MaxTensors, typename PerTensor>
struct TensorChunks {
  static constexpr int kMaxTensors = MaxTensors;
  void* ptr[Depth][MaxTensors];
  int64_t numel[MaxTensors];
  PerTensor constants[MaxTensors];
  uint8_t block_tensor[kMaxBlocks];
  int32_t block_chunk[kMaxBlocks];
};

// Packs every non-empty tensor's chunks into `Chunks` tables, calling
// launch(chunks, blocks) whenever the blocks or the tensor slots run out; a
// tensor cut by a full table continues from slot 0 of the next.
// set(chunks, slot, entry) fills one tensor slot.
template <typename Chunks, typename Entry, typename Set, typename Launch>
void multi_tensor_apply(const std::vector<Entry>& entries, Set set, Launch launch) {
  static_assert(Chunks::kMaxTensors <= 256, "block_tensor is a uint8_t");
  Chunks chunks{};
  int slot = 0, blocks = 0;
  for (const Entry& e : entries) {
    if (e.numel == 0) continue;
    const int64_t n_chunks = (e.numel + kChunk - 1) / kChunk;
    STRIATE_CHECK(n_chunks <= INT32_MAX, ValueError, "optimizer update: a tensor of ", e.numel,
                  " elements is too large for the fused kernel");
    set(chunks, slot, e);
    for (int64_t k = 0; k < n_chunks; ++k) {
      chunks.block_tensor[blocks] = static_cast<uint8_t>(slot);
      chunks.block_chunk[blocks] = static_cast<int32_t>(k);
      ++blocks;
      const bool last_chunk = k + 1 == n_chunks;
      if (blocks == kMaxBlocks || (last_chunk && slot + 1 == Chunks::kMaxTensors)) {
        launch(chunks, blocks);  // the arguments are copied at the launch: the tables can be refilled
        blocks = 0;
        if (last_chunk) {
          slot = -1;  // the next tensor takes slot 0
        } else {
          set(chunks, 0, e);
          slot = 0;
        }
      }
    }
    ++slot;
  }
  if (blocks > 0) launch(chunks, blocks);
}

// The element range [begin, end) of the chunk block `blockIdx.x` updates.
template <typename Chunks>
__device__ __forceinline__ int64_t chunk_end(const Chunks& chunks, int tensor, int64_t& begin) {
  begin = int64_t{chunks.block_chunk[blockIdx.x]} * kChunk;
  const int64_t n = chunks.numel[tensor];
  return begin + kChunk < n ? begin + kChunk : n;
}

// x stored in T and read back: each op of the replaced chain wrote T.
template <typename T>
struct DeviceRound {
  using A = device_acc_t<T>;
  __device__ static A round(A x) {
    if constexpr (std::is_same_v<T, A>) return x;
    else return load_acc(store_acc<T>(x));
  }
};

// Calls f.template operator()<T>() with the device type of a floating dtype.
template <typename F>
void visit_device_floating(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::F16: return f.template operator()<__half>();
    case DType::BF16: return f.template operator()<__nv_bfloat16>();
    case DType::F32: return f.template operator()<float>();
    case DType::F64: return f.template operator()<double>();
    default: break;
  }
  throw DTypeError(::striate::detail::concat(op, ": expected a floating-point tensor, got ", dtype_name(dtype)));
}

// ---- SGD -------------------------------------------------------------------------

using SgdChunks = TensorChunks<3, 48, NoTensorConstants>;  // param, grad, momentum buffer

// Block b updates chunk b, kIlp elements per thread at a time: every load of
// a group is issued before any store, so the stores cannot serialise them.
template <typename T>
__global__ void sgd_kernel(SgdChunks chunks, optim_math::SgdConstants<device_acc_t<T>> c) {
  using A = device_acc_t<T>;
  const int t = chunks.block_tensor[blockIdx.x];
  int64_t begin;
  const int64_t end = chunk_end(chunks, t, begin);
  T* param = static_cast<T*>(chunks.ptr[0][t]);
  const T* grad = static_cast<const T*>(chunks.ptr[1][t]);
  T* buf = static_cast<T*>(chunks.ptr[2][t]);
  const bool read_buf = c.has_momentum && !c.new_buffers;
  for (int64_t base = begin + threadIdx.x; base < end; base += int64_t{blockDim.x} * kIlp) {
    A w[kIlp], g[kIlp], b[kIlp];
#pragma unroll
    for (int k = 0; k < kIlp; ++k) {
      const int64_t i = base + int64_t{k} * blockDim.x;
      w[k] = g[k] = b[k] = A(0);
      if (i < end) {
        w[k] = load_acc(param[i]);
        g[k] = load_acc(grad[i]);
        if (read_buf) b[k] = load_acc(buf[i]);
      }
    }
#pragma unroll
    for (int k = 0; k < kIlp; ++k) {
      const int64_t i = base + int64_t{k} * blockDim.x;
      if (i < end) {
        optim_math::sgd_element<DeviceRound<T>>(c, w[k], g[k], b[k]);
        param[i] = store_acc<T>(w[k]);
        if (c.has_momentum) buf[i] = store_acc<T>(b[k]);
      }
    }
  }
}

template <typename T>
void launch_sgd(const SgdParams& p) {
  using Constants = optim_math::SgdConstants<device_acc_t<T>>;
  static_assert(sizeof(SgdChunks) + sizeof(Constants) <= kMaxArgBytes);
  const Constants c(p.hyper, p.dtype);
  const cudaStream_t stream = current_stream();
  multi_tensor_apply<SgdChunks>(
      p.tensors,
      [](SgdChunks& chunks, int slot, const SgdTensor& e) {
        chunks.ptr[0][slot] = e.param;
        chunks.ptr[1][slot] = const_cast<void*>(e.grad);
        chunks.ptr[2][slot] = e.momentum_buffer;
        chunks.numel[slot] = e.numel;
      },
      [&](const SgdChunks& chunks, int blocks) {
        launch_on(stream, "sgd update", sgd_kernel<T>, blocks, kThreads, 0, chunks, c);
      });
}

// ---- Adam / AdamW ----------------------------------------------------------------

// param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq; each tensor's step constants.
template <typename A>
using AdamChunks = TensorChunks<5, 36, optim_math::AdamStepConstants<A>>;

// As sgd_kernel, over Adam's five operands.
template <typename T>
__global__ void adam_kernel(AdamChunks<device_acc_t<T>> chunks, optim_math::AdamConstants<device_acc_t<T>> c) {
  using A = device_acc_t<T>;
  const int t = chunks.block_tensor[blockIdx.x];
  int64_t begin;
  const int64_t end = chunk_end(chunks, t, begin);
  const optim_math::AdamStepConstants<A> s = chunks.constants[t];
  T* param = static_cast<T*>(chunks.ptr[0][t]);
  const T* grad = static_cast<const T*>(chunks.ptr[1][t]);
  T* exp_avg = static_cast<T*>(chunks.ptr[2][t]);
  T* exp_avg_sq = static_cast<T*>(chunks.ptr[3][t]);
  T* max_exp_avg_sq = static_cast<T*>(chunks.ptr[4][t]);
  for (int64_t base = begin + threadIdx.x; base < end; base += int64_t{blockDim.x} * kIlp) {
    A w[kIlp], g[kIlp], m[kIlp], v[kIlp], v_max[kIlp];
#pragma unroll
    for (int k = 0; k < kIlp; ++k) {
      const int64_t i = base + int64_t{k} * blockDim.x;
      w[k] = g[k] = m[k] = v[k] = v_max[k] = A(0);
      if (i < end) {
        w[k] = load_acc(param[i]);
        g[k] = load_acc(grad[i]);
        m[k] = load_acc(exp_avg[i]);
        v[k] = load_acc(exp_avg_sq[i]);
        if (c.amsgrad) v_max[k] = load_acc(max_exp_avg_sq[i]);
      }
    }
#pragma unroll
    for (int k = 0; k < kIlp; ++k) {
      const int64_t i = base + int64_t{k} * blockDim.x;
      if (i < end) {
        optim_math::adam_element<DeviceRound<T>>(c, s, w[k], g[k], m[k], v[k], v_max[k]);
        param[i] = store_acc<T>(w[k]);
        exp_avg[i] = store_acc<T>(m[k]);
        exp_avg_sq[i] = store_acc<T>(v[k]);
        if (c.amsgrad) max_exp_avg_sq[i] = store_acc<T>(v_max[k]);
      }
    }
  }
}

template <typename T>
void launch_adam(const AdamParams& p) {
  using A = device_acc_t<T>;
  using Chunks = AdamChunks<A>;
  static_assert(sizeof(Chunks) + sizeof(optim_math::AdamConstants<A>) <= kMaxArgBytes);
  const optim_math::AdamConstants<A> c(p.hyper, p.dtype);
  const cudaStream_t stream = current_stream();
  const DType dtype = p.dtype;
  multi_tensor_apply<Chunks>(
      p.tensors,
      [dtype](Chunks& chunks, int slot, const AdamTensor& e) {
        chunks.ptr[0][slot] = e.param;
        chunks.ptr[1][slot] = const_cast<void*>(e.grad);
        chunks.ptr[2][slot] = e.exp_avg;
        chunks.ptr[3][slot] = e.exp_avg_sq;
        chunks.ptr[4][slot] = e.max_exp_avg_sq;
        chunks.numel[slot] = e.numel;
        chunks.constants[slot] = optim_math::AdamStepConstants<A>(e, dtype);
      },
      [&](const Chunks& chunks, int blocks) {
        launch_on(stream, "adam update", adam_kernel<T>, blocks, kThreads, 0, chunks, c);
      });
}

}  // namespace

void sgd(const SgdParams& p) {
  visit_device_floating(p.dtype, "sgd update", [&]<typename T>() { launch_sgd<T>(p); });
}

void adam(const AdamParams& p) {
  visit_device_floating(p.dtype, "adam update", [&]<typename T>() { launch_adam<T>(p); });
}

}  // namespace striate::kernels::cuda
