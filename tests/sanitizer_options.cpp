// Linked into every test executable of a sanitizer build: the defaults a
// report needs to fail its test and say where. The ASAN_OPTIONS,
// UBSAN_OPTIONS and TSAN_OPTIONS environment variables still override them.
// (ctest's ENVIRONMENT property cannot carry several of them through
// gtest_discover_tests, which splits its list; compiled-in defaults also
// apply when a test binary is run by hand.)
extern "C" {

__attribute__((visibility("default"), used)) const char* __asan_default_options() {
  return "detect_leaks=1:strict_init_order=1:check_initialization_order=1:detect_stack_use_after_return=1";
}

__attribute__((visibility("default"), used)) const char* __ubsan_default_options() {
  return "print_stacktrace=1:halt_on_error=1";
}

// A race report stops the test at once (and fails it: TSan's exit code is 66).
__attribute__((visibility("default"), used)) const char* __tsan_default_options() {
  return "halt_on_error=1:second_deadlock_stack=1";
}

}  // extern "C"
