// Timing on the GPU and on the host.
//
// GPU: each repetition is bracketed by two CUDA events on the current stream
// (striate::cuda::Event), after untimed warm-up calls; the repetitions are
// queued back to back and read after one synchronisation. A case with
// rotated inputs passes the repetition's copy index to the launch. Any
// exception (a striate::Error from a kernel, cuDNN or the allocator) becomes
// the measurement's error and the run goes on.
#pragma once

#include <cstdint>
#include <functional>

#include "report.h"
#include "stats.h"

namespace striate::bench {

// launch(copy) enqueues one call on the current stream, reading input set `copy` (0 .. copies-1).
Measurement time_on_gpu(const std::function<void(int64_t copy)>& launch, const RepPolicy& policy,
                        int64_t copies = 1);

// Mean host nanoseconds of fn() over `iterations` calls (steady_clock).
double host_mean_ns(const std::function<void()>& fn, int64_t iterations);

}  // namespace striate::bench
