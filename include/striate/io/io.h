// Striate's file formats: safetensors weights and training checkpoints.
#pragma once

#include "striate/io/atomic_file.h"
#include "striate/io/checkpoint.h"
#include "striate/io/json.h"
#include "striate/io/safetensors.h"
#include "striate/io/state_dict.h"
