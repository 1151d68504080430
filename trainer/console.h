// Console output of long operations: a live status line on a TTY (rewritten in place), plain
// lines otherwise, and number/duration formatting a person can read at a glance.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace bitnet {

std::string format_count(int64_t n);       // 1234567 -> "1,234,567"
std::string format_si(double n);           // 3210000 -> "3.21M"
std::string format_duration(double secs);  // 243 -> "4m03s", 7300 -> "2h01m"

class Console {
 public:
  explicit Console(std::FILE* out);
  bool is_tty() const { return tty_; }
  // A permanent line (clears a live line first).
  void line(const std::string& text);
  // A transient status line, shown only on a TTY and replaced by the next call.
  void live(const std::string& text);

 private:
  std::FILE* out_;
  bool tty_;
  bool live_shown_ = false;
};

}  // namespace bitnet
