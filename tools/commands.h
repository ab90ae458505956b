// The subcommands of `striate`. Each attaches its options to the CLI11 app
// and runs once parsing succeeded; run() returns the process exit status and
// may throw (main turns any exception into a one-line error).
#pragma once

#include <memory>
#include <string>

#include "striate/core/shape.h"

namespace CLI {
class App;
}

namespace striate::tools {

class Command {
 public:
  virtual ~Command() = default;
  // Adds the subcommand and its options to `parent`; returns it.
  virtual CLI::App* attach(CLI::App& parent) = 0;
  virtual int run() = 0;
};

std::unique_ptr<Command> make_train_command();
std::unique_ptr<Command> make_eval_command();
std::unique_ptr<Command> make_summary_command();

// "3x224x224" -> {3, 224, 224}; ValueError naming `option` otherwise.
Shape parse_shape(const std::string& text, const std::string& option);

// An error in the user's request found after parsing (a value out of range,
// an inconsistent combination): reported like a parse error, exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace striate::tools
