#include "options.h"

#include <algorithm>
#include <sstream>

#include "striate/core/error.h"
#include "suites.h"

namespace striate::bench {
namespace {

void add_suite(std::vector<std::string>& chosen, const std::string& name) {
  const std::vector<std::string> known = all_suite_names();
  std::vector<std::string> names;
  if (name == "all") names = known;
  else if (name == "conv") names = conv_suite_names();
  else if (std::find(known.begin(), known.end(), name) != known.end()) names = {name};
  else {
    std::string list;
    for (const std::string& k : known) list += k + ", ";
    throw ValueError("kernel bench: unknown suite '" + name + "' (expected one of " + list + "conv, all)");
  }
  for (const std::string& n : names)
    if (std::find(chosen.begin(), chosen.end(), n) == chosen.end()) chosen.push_back(n);
}

}  // namespace

Options parse_options(const std::vector<std::string>& args) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw ValueError("kernel bench: " + a + " needs a value");
      return args[++i];
    };
    if (a == "--suite") {
      std::stringstream list(value());
      for (std::string name; std::getline(list, name, ',');)
        if (!name.empty()) add_suite(o.suites, name);
    } else if (a == "--quick") {
      o.quick = true;
    } else if (a == "--full") {
      o.full = true;
    } else if (a == "--layout") {
      const std::string& l = value();
      if (l != "nchw" && l != "nhwc" && l != "both")
        throw ValueError("kernel bench: --layout takes nchw, nhwc or both, got '" + l + "'");
      o.nchw = l != "nhwc";
      o.nhwc = l != "nchw";
    } else if (a == "--math") {
      const std::string& m = value();
      if (m != "f32" && m != "tf32" && m != "both")
        throw ValueError("kernel bench: --math takes f32, tf32 or both, got '" + m + "'");
      o.f32 = m != "tf32";
      o.tf32 = m != "f32";
    } else if (a == "--out") {
      o.out_dir = value();
    } else if (a == "--commit") {
      o.commit = value();
    } else if (a == "--torch-overhead") {
      o.torch_overhead = value();
    } else if (a == "--list") {
      o.list = true;
    } else if (a == "--help" || a == "-h") {
      o.help = true;
    } else {
      throw ValueError("kernel bench: unknown argument '" + a + "' (see --help)");
    }
  }
  if (o.quick && o.full) throw ValueError("kernel bench: --quick and --full exclude each other");
  if (o.suites.empty()) o.suites = all_suite_names();
  return o;
}

std::string usage() {
  std::string names;
  for (const std::string& s : all_suite_names()) names += " " + s;
  return "usage: striate_kernel_bench [--suite NAME[,NAME...]]... [--quick | --full] [--layout nchw|nhwc|both]\n"
         "                            [--math f32|tf32|both] [--out DIR] [--commit SHA] [--torch-overhead FILE]\n"
         "                            [--list]\n"
         "  --suite   run only these (repeatable):" + names + ", conv (all convolution suites), all\n"
         "  --quick   fewer repetitions (a smoke run); --full: more, and ResNet-50 at batch 256 too\n"
         "  --layout  the memory layout of the convolutions and the 4-D memory-bound cases: nchw, nhwc (NHWC\n"
         "            tensors, OHWI weights) or both (default)\n"
         "  --math    the convolutions' arithmetic: f32 (default; cuDNN's FMA math), tf32 (TF32 tensor cores\n"
         "            allowed on both sides: the native TF32 tile, cuDNN's default math) or both\n"
         "  --out     folder for kernel_bench.json, kernel_bench.md and the ratio chart (default .)\n"
         "  --commit  the commit to record (default: the one given to CMake as STRIATE_GIT_COMMIT)\n"
         "  --torch-overhead  torch_overhead.py's JSON, merged into the framework-overhead result\n"
         "  --list    print the cases of the chosen suites and exit (needs no GPU)\n";
}

}  // namespace striate::bench
