#include "progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace striate::tools {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto total = static_cast<int64_t>(std::llround(seconds));
  int64_t h = total / 3600, m = (total / 60) % 60, s = total % 60;
  char buf[32];
  if (h > 0)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(h), static_cast<long long>(m),
                  static_cast<long long>(s));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(m), static_cast<long long>(s));
  return buf;
}

std::string format_count(double value) {
  if (!std::isfinite(value)) return "?";
  std::string digits = std::to_string(std::llround(std::fabs(value)));
  std::string grouped;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  return value < 0 ? "-" + grouped : grouped;
}

bool stdout_is_terminal() { return isatty(STDOUT_FILENO) == 1; }

int terminal_columns() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

ProgressBar::ProgressBar(std::ostream& out, bool interactive, std::string label, int64_t total_batches)
    : out_(out),
      interactive_(interactive),
      label_(std::move(label)),
      total_batches_(std::max<int64_t>(total_batches, 1)),
      // Ten lines per pass in a log: enough to see it move, few enough to read.
      line_every_(std::max<int64_t>(total_batches_ / 10, 1)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double ProgressBar::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string ProgressBar::status_line(int64_t batches_done, int64_t images_done, double mean_loss,
                                     bool with_bar) const {
  const double elapsed = elapsed_seconds();
  const double rate = elapsed > 0 ? images_done / elapsed : 0;
  const double eta = batches_done > 0 ? elapsed / batches_done * (total_batches_ - batches_done) : NAN;
  std::ostringstream counts;
  char loss[32];
  std::snprintf(loss, sizeof loss, "%.4f", mean_loss);
  counts << batches_done << "/" << total_batches_ << "  loss " << loss << "  " << format_count(rate)
         << " img/s  ETA " << format_duration(eta);
  if (!with_bar) return label_ + "  batch " + counts.str();

  // The bar takes whatever width the text leaves, within reason.
  const int columns = terminal_columns();
  const int text = static_cast<int>(label_.size() + counts.str().size()) + 5;
  const int width = std::clamp(columns - text - 1, 10, 40);
  const int filled = static_cast<int>(static_cast<double>(width) * batches_done / total_batches_);
  std::string bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
  return label_ + " " + bar + "  " + counts.str();
}

void ProgressBar::update(int64_t batches_done, int64_t images_done, double mean_loss) {
  const auto now = std::chrono::steady_clock::now();
  if (interactive_) {
    // Ten redraws a second keep a terminal lively without slowing training.
    if (batches_done < total_batches_ && now - last_draw_ < std::chrono::milliseconds(100) && drawn_) return;
    out_ << "\r\033[K" << status_line(batches_done, images_done, mean_loss, true) << std::flush;
    drawn_ = true;
    last_draw_ = now;
    return;
  }
  if (batches_done - last_line_batch_ >= line_every_ || batches_done == total_batches_) {
    if (batches_done == last_line_batch_) return;
    out_ << status_line(batches_done, images_done, mean_loss, false) << "\n" << std::flush;
    last_line_batch_ = batches_done;
  }
}

void ProgressBar::finish() {
  if (interactive_ && drawn_) out_ << "\r\033[K" << std::flush;
  drawn_ = false;
}

}  // namespace striate::tools
