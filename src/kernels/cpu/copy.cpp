#include "kernels/copy.h"

#include <cstring>

namespace striate::kernels {
namespace cpu {

template <typename To, typename From>
static To convert(From v) {
  if constexpr (std::is_same_v<To, bool>) return static_cast<acc_t<From>>(v) != acc_t<From>(0);
  else return static_cast<To>(static_cast<acc_t<To>>(static_cast<acc_t<From>>(v)));
}

void copy(const CopyParams& p) {
  visit_dtype(p.dst_dtype, [&]<typename D>() {
    visit_dtype(p.src_dtype, [&]<typename S>() {
      for_each_run(p.loop, [](char** base, const int64_t* st, int64_t len) {
        if constexpr (std::is_same_v<D, S>) {
          if (st[0] == sizeof(D) && st[1] == sizeof(S)) {
            std::memcpy(base[0], base[1], len * sizeof(D));
            return;
          }
        }
        char* d = base[0];
        const char* s = base[1];
        for (int64_t i = 0; i < len; ++i, d += st[0], s += st[1])
          *reinterpret_cast<D*>(d) = convert<D>(*reinterpret_cast<const S*>(s));
      });
    });
  });
}

void fill(const FillParams& p) {
  visit_dtype(p.dtype, [&]<typename T>() {
    T v;
    if constexpr (std::is_floating_point_v<acc_t<T>>) v = static_cast<T>(static_cast<acc_t<T>>(p.value));
    else v = static_cast<T>(p.int_value);
    for_each_run(p.loop, [v](char** base, const int64_t* st, int64_t len) {
      char* d = base[0];
      for (int64_t i = 0; i < len; ++i, d += st[0]) *reinterpret_cast<T*>(d) = v;
    });
  });
}

}  // namespace cpu

}  // namespace striate::kernels
