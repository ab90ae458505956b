# The kernel-benchmark harness's sources, for benchmarks/CMakeLists.txt (the
# striate_kernel_bench binary) and tests/CMakeLists.txt (the CPU tests of
# its pure parts).
#
# Pure: statistics, suites and FLOP/byte counts, the report and its writers,
# the chart and the command line. They build without CUDA. The chart draws on
# the striate command's Canvas (tools/plot.cpp), compiled in here because the
# tools library needs CLI11, which a GPU machine may lack.
set(STRIATE_BENCH_PURE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/stats.cpp
  ${CMAKE_CURRENT_LIST_DIR}/suites.cpp
  ${CMAKE_CURRENT_LIST_DIR}/report.cpp
  ${CMAKE_CURRENT_LIST_DIR}/json_writer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/markdown_writer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/chart.cpp
  ${CMAKE_CURRENT_LIST_DIR}/options.cpp
  ${CMAKE_CURRENT_LIST_DIR}/../../tools/plot.cpp)
# The rest needs the CUDA runtime and a GPU to run.
set(STRIATE_KERNEL_BENCH_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/device.cpp
  ${CMAKE_CURRENT_LIST_DIR}/timing.cpp
  ${CMAKE_CURRENT_LIST_DIR}/conv_bench.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gemm_bench.cpp
  ${CMAKE_CURRENT_LIST_DIR}/memory_bench.cpp
  ${CMAKE_CURRENT_LIST_DIR}/allocator_bench.cpp
  ${CMAKE_CURRENT_LIST_DIR}/overhead_bench.cpp
  ${CMAKE_CURRENT_LIST_DIR}/main.cpp)
# kernels/*.h from src/, the harness's headers, and tools/plot.h.
set(STRIATE_BENCH_INCLUDE_DIRS
  ${CMAKE_CURRENT_LIST_DIR}/../../src
  ${CMAKE_CURRENT_LIST_DIR}
  ${CMAKE_CURRENT_LIST_DIR}/../../tools)
