// FormatError: the one exception type of formats/. Its message names the file, what is wrong,
// where (byte offset when known) and what was expected versus found, so a user can act on it.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bitnet::formats {

class FormatError : public std::runtime_error {
 public:
  explicit FormatError(const std::string& message) : std::runtime_error(message) {}
};

// Builds "<path>: <problem> (at byte <offset>): expected <expected>, found <found>".
// Empty expected/found and offset == kNoOffset leave those parts out.
inline constexpr uint64_t kNoOffset = UINT64_MAX;
std::string format_message(const std::string& path, const std::string& problem, uint64_t offset = kNoOffset,
                           const std::string& expected = {}, const std::string& found = {});

[[noreturn]] void throw_format_error(const std::string& path, const std::string& problem, uint64_t offset = kNoOffset,
                                     const std::string& expected = {}, const std::string& found = {});

// Untrusted text (a key, token or line from the input) quoted in a message is cut to this size.
inline constexpr size_t kMaxQuotedBytes = 120;

// At most `max_bytes` of `text`, for a message; a longer text is cut (never inside a UTF-8
// sequence) and marked "... (N bytes)" with its full size, so no input can make a huge message.
std::string quote_excerpt(std::string_view text, size_t max_bytes = kMaxQuotedBytes);

}  // namespace bitnet::formats
