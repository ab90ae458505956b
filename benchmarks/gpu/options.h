// The harness's command line. Pure (tested on the CPU).
//
//   striate_kernel_bench [--suite NAME[,NAME...]]... [--quick | --full] [--layout nchw|nhwc|both]
//                        [--math f32|tf32|both]
//                        [--out DIR] [--commit SHA] [--torch-overhead FILE] [--list] [--help]
#pragma once

#include <string>
#include <vector>

#include "stats.h"

namespace striate::bench {

struct Options {
  std::vector<std::string> suites;  // in run order, no repeats
  bool quick = false, full = false;
  bool nchw = true, nhwc = true;  // the layouts to time (convolutions, 4-D memory cases)
  bool f32 = true, tf32 = false;  // the convolutions' math: f32, and TF32 tensor cores allowed
  std::string out_dir = ".";
  std::string commit;          // empty: STRIATE_GIT_COMMIT from configure time, else "unknown"
  std::string torch_overhead;  // a JSON file written by torch_overhead.py
  bool list = false, help = false;

  std::string mode() const { return quick ? "quick" : full ? "full" : "default"; }
  RepPolicy policy() const { return quick ? quick_policy() : full ? full_policy() : default_policy(); }
};

// Suite names (all_suite_names()), "conv" (every convolution suite) or "all".
// No --suite means all, in the order of all_suite_names(). A bad argument is
// a ValueError saying what was expected.
Options parse_options(const std::vector<std::string>& args);

std::string usage();

}  // namespace striate::bench
