// ScratchDir (see scratch_dir.h).
#include "formats/scratch_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace bitnet::formats {

namespace fs = std::filesystem;

ScratchDir::ScratchDir(const std::string& tag, const std::string& parent) {
  std::error_code ec;
  fs::create_directories(parent, ec);
  std::string pattern = (fs::path(parent) / ("bitnet-" + tag + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(parent + ": cannot create a scratch directory: " + std::strerror(errno));
  }
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  if (keep_) return;
  std::error_code ec;
  fs::remove_all(path_, ec);  // best effort: a destructor must not throw
}

std::string ScratchDir::path(const std::string& name) const {
  return (fs::path(path_) / name).string();
}

std::string ScratchDir::default_parent() {
  return fs::temp_directory_path().string();
}

}  // namespace bitnet::formats
