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

}  // namespace bitnet::formats
