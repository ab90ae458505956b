// The training loop (namespace striate::train).
#pragma once

#include "striate/train/trainer.h"
