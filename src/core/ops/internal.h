// Helpers shared by the op implementations (not part of the public API).
#pragma once

#include <functional>

#include "core/ops/iter.h"
#include "striate/core/autograd.h"
#include "striate/core/tensor.h"

namespace striate::ops {

// A new tensor over `base`'s storage with the given geometry, no history.
Tensor make_alias(const Tensor& base, const Shape& sizes, const Shape& strides, int64_t offset,
                  bool is_view);

// A view of `base` recorded on the tape: `backward` maps the view's gradient
// to one for base (e.g. the inverse permutation).
Tensor make_view(const Tensor& base, const Shape& sizes, const Shape& strides, int64_t offset,
                 const char* name, std::function<Tensor(const Tensor& grad)> backward);

// Rejects tensors on different devices, naming the op.
void check_same_device(const Tensor& a, const Tensor& b, const char* op);
// Rejects an undefined tensor argument, naming the op and the argument.
void check_defined(const Tensor& t, const char* op, const char* arg);

// An in-place op on `self`. When autograd must record it, runs `out_of_place`
// on a clone of self (so tensors saved for backward stay intact), writes the
// result into self and moves the result's history onto self. Otherwise runs
// `direct` which writes into self. Either way bumps self's version.
// Raises for a leaf that requires grad, as PyTorch does.
Tensor& inplace(Tensor& self, const char* op, const std::function<Tensor(const Tensor& self_copy)>& out_of_place,
                const std::function<void()>& direct, const TensorList& others = {});

// Copies src (broadcast to dst's shape, converted to dst's dtype) into dst
// with no autograd and no version bump.
void copy_raw(const Tensor& dst, const Tensor& src);  // across devices too
void copy_across_devices(const Tensor& dst, const Tensor& src, bool non_blocking);
void fill_raw(const Tensor& dst, const Scalar& value);

}  // namespace striate::ops
