// The striate::Error hierarchy and the checks that raise it.
//
// Every public entry point validates its arguments and throws one of these,
// with a message that names the op, what was expected and what was given:
//   matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 != 4)
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace striate {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ShapeError : public Error { using Error::Error; };
class DTypeError : public Error { using Error::Error; };
class DeviceError : public Error { using Error::Error; };
class IndexError : public Error { using Error::Error; };
class ValueError : public Error { using Error::Error; };        // a bad argument value
class IOError : public Error { using Error::Error; };
class OutOfMemoryError : public Error { using Error::Error; };
class AutogradError : public Error { using Error::Error; };     // misuse of the tape
class NotImplementedError : public Error { using Error::Error; };

namespace detail {

template <typename T>
std::ostream& write_value(std::ostream& os, const T& v) { return os << v; }

// Shapes and other int lists print the way PyTorch prints them: [2, 3].
template <typename T>
std::ostream& write_value(std::ostream& os, const std::vector<T>& v) {
  os << '[';
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  return os << ']';
}

template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (write_value(os, args), ...);
  return os.str();
}

}  // namespace detail
}  // namespace striate

// STRIATE_CHECK(cond, ShapeError, "conv2d: expected ", 4, "-D input, got ", sizes)
#define STRIATE_CHECK(cond, ErrorType, ...)                         \
  do {                                                              \
    if (!(cond)) throw ::striate::ErrorType(::striate::detail::concat(__VA_ARGS__)); \
  } while (0)
