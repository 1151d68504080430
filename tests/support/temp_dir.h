// A scratch directory for one test: created with mkdtemp under the system's temporary directory,
// removed with its contents when the test ends. Every test program uses this one.
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace bitnet::testing {

class TempDir {
 public:
  // `tag` names the directory (bitnet-TAG-XXXXXX), so a leftover one says which test made it.
  explicit TempDir(const std::string& tag = "test") {
    std::string pattern = (std::filesystem::temp_directory_path() / ("bitnet-" + tag + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp(" + pattern + ") failed: " + std::strerror(errno));
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // The path of `name` inside the directory.
  std::string path(const std::string& name) const { return (std::filesystem::path(path_) / name).string(); }
  std::string file(const std::string& name) const { return path(name); }
  // Writes `content` (bytes as given) to `name` inside the directory; returns its path.
  std::string write(const std::string& name, const std::string& content) const {
    const std::string p = path(name);
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

 private:
  std::string path_;
};

}  // namespace bitnet::testing
