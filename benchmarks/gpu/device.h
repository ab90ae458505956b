// The facts of the GPU and the software the run used, and the measured copy
// bandwidth every memory-bound result is a fraction of. Needs the CUDA runtime.
#pragma once

#include <string>

#include "report.h"
#include "stats.h"

namespace striate::bench {

// Name, SMs, clocks, memory, L2, driver and runtime, cuDNN and cuBLAS
// versions, the f32 peak; `commit` and today's date (UTC) as given.
DeviceFacts query_device_facts(int device, const std::string& commit);

// Times a device-to-device cudaMemcpyAsync of 1 GiB (less when the GPU has
// little free memory) into facts.copy_*; an error goes to facts.copy_error.
void measure_copy_bandwidth(DeviceFacts& facts, const RepPolicy& policy);

}  // namespace striate::bench
