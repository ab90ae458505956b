// Every layer, container, loss and initialiser (namespace striate::nn).
#pragma once

#include "striate/layers/activation.h"
#include "striate/layers/container.h"
#include "striate/layers/conv.h"
#include "striate/layers/init.h"
#include "striate/layers/linear.h"
#include "striate/layers/loss.h"
#include "striate/layers/module.h"
#include "striate/layers/normalization.h"
#include "striate/layers/pooling.h"
#include "striate/layers/summary.h"
