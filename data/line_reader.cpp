// Bounded line reading (see line_reader.h).
#include "data/line_reader.h"

#include <algorithm>
#include <cstring>

namespace bitnet::data {

BoundedLineReader::BoundedLineReader(InputFile& in, size_t max_bytes)
    : in_(in), max_bytes_(max_bytes), buffer_(size_t{1} << 16) {}

bool BoundedLineReader::next(std::string& line, uint64_t& length) {
  line.clear();
  length = 0;
  bool read_any = false;
  for (;;) {
    if (pos_ == end_ && !fill()) return read_any;
    read_any = true;
    const char* begin = buffer_.data() + pos_;
    const auto* newline = static_cast<const char*>(std::memchr(begin, '\n', end_ - pos_));
    const size_t n = newline != nullptr ? static_cast<size_t>(newline - begin) : end_ - pos_;
    length += n;
    if (line.size() < max_bytes_) line.append(begin, std::min(n, max_bytes_ - line.size()));
    pos_ += n;
    if (newline != nullptr) {
      ++pos_;
      return true;
    }
  }
}

bool BoundedLineReader::fill() {
  pos_ = 0;
  end_ = in_.read(buffer_.data(), buffer_.size());
  return end_ > 0;
}

}  // namespace bitnet::data
