// Optimizers, learning-rate schedulers and gradient clipping (namespace striate::optim).
#pragma once

#include "striate/optim/adam.h"
#include "striate/optim/clip_grad.h"
#include "striate/optim/lr_scheduler.h"
#include "striate/optim/optimizer.h"
#include "striate/optim/sgd.h"
