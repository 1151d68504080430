// The exception every bitnet_data function throws for bad input: its message names the file,
// line or value at fault and what was expected, so a user can fix the input without a debugger.
#pragma once

#include <stdexcept>
#include <string>

namespace bitnet::data {

class DataError : public std::runtime_error {
 public:
  explicit DataError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace bitnet::data
