// Message assembly for FormatError (see error.h).
#include "formats/error.h"

namespace bitnet::formats {

std::string format_message(const std::string& path, const std::string& problem, uint64_t offset,
                           const std::string& expected, const std::string& found) {
  std::string msg = path.empty() ? std::string("<memory>") : path;
  msg += ": ";
  msg += problem;
  if (offset != kNoOffset) msg += " (at byte " + std::to_string(offset) + ")";
  if (!expected.empty() || !found.empty()) {
    msg += ": expected ";
    msg += expected.empty() ? std::string("?") : expected;
    msg += ", found ";
    msg += found.empty() ? std::string("?") : found;
  }
  return msg;
}

void throw_format_error(const std::string& path, const std::string& problem, uint64_t offset,
                        const std::string& expected, const std::string& found) {
  throw FormatError(format_message(path, problem, offset, expected, found));
}

std::string quote_excerpt(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 continuation
  return std::string(text.substr(0, cut)) + "... (" + std::to_string(text.size()) + " bytes)";
}

}  // namespace bitnet::formats
