// Reading an InputFile one line at a time while holding at most a bounded prefix of any line: the
// rest of a longer line is read and dropped, only its length is kept (std::getline would hold the
// whole line, however long). JSONL readers use it so one broken line cannot take the memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/input_file.h"

namespace bitnet::data {

class BoundedLineReader {
 public:
  BoundedLineReader(InputFile& in, size_t max_bytes);

  // The next line without its '\n': `line` gets its first min(length, max_bytes) bytes and
  // `length` its full length. False at the end of the input.
  bool next(std::string& line, uint64_t& length);

  // The content offset just past the last line returned (past its '\n' when it had one).
  uint64_t offset() const { return in_.content_offset() - (end_ - pos_); }

 private:
  bool fill();

  InputFile& in_;
  size_t max_bytes_;
  std::vector<char> buffer_;
  size_t pos_ = 0, end_ = 0;  // the unread bytes of buffer_
};

}  // namespace bitnet::data
