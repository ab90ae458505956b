// striate: the command line — train, eval, summary.
//
// Every failure ends in ONE line on stderr and a non-zero status:
//   2  the request is wrong (unknown option or model, impossible value)
//   1  the request was fine but could not be carried out (missing file, ...)
#include <CLI/CLI.hpp>

#include <algorithm>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"

namespace {

// Error messages are one line even when a library's message is not.
std::string one_line(std::string message) {
  std::replace(message.begin(), message.end(), '\n', ' ');
  while (!message.empty() && message.back() == ' ') message.pop_back();
  return message;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace striate::tools;
  CLI::App app{"striate: train, evaluate and inspect convolutional networks"};
  app.name("striate");
  app.require_subcommand(1, 1);
  app.set_version_flag("--version", std::string("striate ") + STRIATE_VERSION_STRING);

  struct Entry {
    std::unique_ptr<Command> command;
    CLI::App* app;
  };
  std::vector<Entry> commands;
  for (auto make : {make_train_command, make_eval_command, make_summary_command}) {
    std::unique_ptr<Command> command = make();
    CLI::App* sub = command->attach(app);
    commands.push_back({std::move(command), sub});
  }

  // CLI11 reports an unknown command as "A subcommand is required"; say what was wrong.
  if (argc >= 2 && argv[1][0] != '-') {
    const std::string name = argv[1];
    const bool known = std::any_of(commands.begin(), commands.end(), [&](const Entry& e) { return e.app->get_name() == name; });
    if (!known) {
      std::cerr << "striate: error: unknown command '" << name << "' (expected train, eval or summary; see striate --help)\n";
      return 2;
    }
  }
  const std::string context = argc >= 2 && argv[1][0] != '-' ? std::string("striate ") + argv[1] : "striate";

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::cerr << context << ": error: " << one_line(e.what()) << " (see " << context << " --help)\n";
    return 2;
  }

  for (Entry& entry : commands) {
    if (!entry.app->parsed()) continue;
    try {
      return entry.command->run();
    } catch (const UsageError& e) {
      std::cerr << context << ": error: " << one_line(e.what()) << " (see " << context << " --help)\n";
      return 2;
    } catch (const std::exception& e) {
      std::cout.flush();
      std::cerr << context << ": error: " << one_line(e.what()) << "\n";
      return 1;
    }
  }
  return 2;  // unreachable: require_subcommand(1, 1)
}
