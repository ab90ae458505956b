// Element types, their properties, PyTorch's type-promotion lattice and the
// switch from a runtime DType to a C++ type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <type_traits>

#include "striate/core/error.h"
#include "striate/core/half.h"

namespace striate {

enum class DType : uint8_t { Bool, U8, I32, I64, F16, BF16, F32, F64 };
inline constexpr int kNumDTypes = 8;

// LibTorch-style aliases.
inline constexpr DType kBool = DType::Bool;
inline constexpr DType kByte = DType::U8;
inline constexpr DType kUInt8 = DType::U8;
inline constexpr DType kInt = DType::I32;
inline constexpr DType kInt32 = DType::I32;
inline constexpr DType kLong = DType::I64;
inline constexpr DType kInt64 = DType::I64;
inline constexpr DType kHalf = DType::F16;
inline constexpr DType kFloat16 = DType::F16;
inline constexpr DType kBFloat16 = DType::BF16;
inline constexpr DType kFloat = DType::F32;
inline constexpr DType kFloat32 = DType::F32;
inline constexpr DType kDouble = DType::F64;
inline constexpr DType kFloat64 = DType::F64;

size_t element_size(DType t);
const char* dtype_name(DType t);  // "float32", "int64", ... as PyTorch names them
std::ostream& operator<<(std::ostream& os, DType t);

constexpr bool is_floating_point(DType t) {
  return t == DType::F16 || t == DType::BF16 || t == DType::F32 || t == DType::F64;
}
constexpr bool is_integral(DType t, bool include_bool = false) {
  return t == DType::U8 || t == DType::I32 || t == DType::I64 || (include_bool && t == DType::Bool);
}

// The dtype two tensor operands promote to, as torch.promote_types.
DType promote_types(DType a, DType b);

// The dtype used for floating-point results of integer inputs (f32, as in PyTorch).
inline constexpr DType kDefaultFloat = DType::F32;

template <typename T> struct dtype_of;
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::U8; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::I32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::I64; };
template <> struct dtype_of<Half> { static constexpr DType value = DType::F16; };
template <> struct dtype_of<BFloat16> { static constexpr DType value = DType::BF16; };
template <> struct dtype_of<float> { static constexpr DType value = DType::F32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::F64; };
template <typename T> inline constexpr DType dtype_of_v = dtype_of<T>::value;

// The type arithmetic on T is carried out in: float for the 16-bit floats.
template <typename T> struct acc_type { using type = T; };
template <> struct acc_type<Half> { using type = float; };
template <> struct acc_type<BFloat16> { using type = float; };
template <typename T> using acc_t = typename acc_type<T>::type;

// Calls f.template operator()<T>() with the C++ type of `t`:
//   visit_dtype(t, [&]<typename T>() { ... });
template <typename F>
decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case DType::Bool: return f.template operator()<bool>();
    case DType::U8: return f.template operator()<uint8_t>();
    case DType::I32: return f.template operator()<int32_t>();
    case DType::I64: return f.template operator()<int64_t>();
    case DType::F16: return f.template operator()<Half>();
    case DType::BF16: return f.template operator()<BFloat16>();
    case DType::F32: return f.template operator()<float>();
    case DType::F64: return f.template operator()<double>();
  }
  throw DTypeError("visit_dtype: unknown dtype");
}

// As visit_dtype, for ops defined only on floating types; `op` names the caller.
template <typename F>
decltype(auto) visit_floating(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::F16: return f.template operator()<Half>();
    case DType::BF16: return f.template operator()<BFloat16>();
    case DType::F32: return f.template operator()<float>();
    case DType::F64: return f.template operator()<double>();
    default: break;
  }
  throw DTypeError(detail::concat(op, ": expected a floating-point tensor, got ", dtype_name(t)));
}

}  // namespace striate
