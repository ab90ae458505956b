// Striate: one header for the whole public API.
#pragma once

#include "striate/core/autograd.h"
#include "striate/core/device.h"
#include "striate/core/dtype.h"
#include "striate/core/error.h"
#include "striate/core/generator.h"
#include "striate/core/gradcheck.h"
#include "striate/core/ops/elementwise.h"
#include "striate/core/ops/factory.h"
#include "striate/core/ops/linalg.h"
#include "striate/core/ops/reduce.h"
#include "striate/core/ops/shape_ops.h"
#include "striate/core/scalar.h"
#include "striate/core/tensor.h"
