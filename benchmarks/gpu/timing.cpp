#include "timing.h"

#include <chrono>
#include <exception>
#include <vector>

#include "striate/core/cuda.h"

namespace striate::bench {

Measurement time_on_gpu(const std::function<void(int64_t)>& launch, const RepPolicy& policy, int64_t copies) {
  Measurement m;
  m.copies = copies < 1 ? 1 : copies;
  int64_t call = 0;
  const auto next_copy = [&] { return call++ % m.copies; };
  try {
    for (int i = 0; i < policy.warmup; ++i) launch(next_copy());
    // One timed call sizes the run (the warm-up may include cuDNN's algorithm search).
    cuda::Event probe_start(true), probe_end(true);
    probe_start.record();
    launch(next_copy());
    probe_end.record();
    probe_end.synchronize();
    const int reps = repetitions_for(probe_start.elapsed_time(probe_end), policy);

    std::vector<cuda::Event> starts, ends;
    starts.reserve(reps);
    ends.reserve(reps);
    for (int r = 0; r < reps; ++r) {
      starts.emplace_back(true);
      ends.emplace_back(true);
      // A first record creates the CUDA event: done here, not between a timed launch and its end event.
      starts.back().record();
      ends.back().record();
    }
    for (int r = 0; r < reps; ++r) {
      starts[r].record();
      launch(next_copy());
      ends[r].record();
    }
    ends.back().synchronize();
    std::vector<double> samples(reps);
    for (int r = 0; r < reps; ++r) samples[r] = starts[r].elapsed_time(ends[r]);
    m.time = summarize(std::move(samples));
  } catch (const std::exception& e) {
    m.error = e.what();
    m.time = {};
    try {
      cuda::synchronize();  // nothing of this case may run into the next one's timing
    } catch (const std::exception&) {
      // A sticky device error: later cases will report it too.
    }
  }
  return m;
}

double host_mean_ns(const std::function<void()>& fn, int64_t iterations) {
  if (iterations <= 0) return 0;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < iterations; ++i) fn();
  const auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::nano>(end - start).count() / static_cast<double>(iterations);
}

}  // namespace striate::bench
