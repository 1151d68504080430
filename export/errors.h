// ExportError: the exception type of export/ (checkpoint -> packed formats, and verification).
#pragma once

#include <stdexcept>
#include <string>

namespace bitnet::exporting {

class ExportError : public std::runtime_error {
 public:
  explicit ExportError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace bitnet::exporting
