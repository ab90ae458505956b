// Progress of one pass over a data loader: a redrawn bar on a terminal, plain
// periodic lines in a log file or pipe.
//
//   on a terminal:  epoch 2/5 [##########..........]  469/938  loss 0.3412  2,345 img/s  ETA 0:21
//   otherwise:      epoch 2/5  batch 469/938  loss 0.3412  2,345 img/s  ETA 0:21
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace striate::tools {

// "0:07", "12:34", "1:02:03".
std::string format_duration(double seconds);
// 12345.6 -> "12,346".
std::string format_count(double value);

class ProgressBar {
 public:
  // label: e.g. "epoch 2/5"; total_batches: the batches this pass will see.
  ProgressBar(std::ostream& out, bool interactive, std::string label, int64_t total_batches);
  // A bar left on screen (an exception mid-epoch) is cleared, so the error
  // message that follows starts on a clean line.
  ~ProgressBar() { finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // After each batch: how many batches and images are done, and the mean
  // loss so far. Draws only when enough time or work has passed since the
  // previous draw, so calling it every batch costs nothing.
  void update(int64_t batches_done, int64_t images_done, double mean_loss);
  // Clears the bar (on a terminal); the caller then prints the epoch's line.
  void finish();

  double elapsed_seconds() const;

 private:
  std::string status_line(int64_t batches_done, int64_t images_done, double mean_loss, bool with_bar) const;

  std::ostream& out_;
  bool interactive_;
  std::string label_;
  int64_t total_batches_;
  int64_t line_every_;  // batches between plain lines
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  int64_t last_line_batch_ = 0;
  bool drawn_ = false;
};

// Whether standard output is a terminal (progress bars) rather than a file or pipe.
bool stdout_is_terminal();
// The terminal's width in columns (80 when unknown).
int terminal_columns();

}  // namespace striate::tools
