// A scratch directory for one test (formats/scratch_dir.h) under the system's temporary directory,
// removed with its contents when the test ends, with helpers to name and write files in it. Every
// test program uses this one.
#pragma once

#include <filesystem>  // the tests that use TempDir also work with std::filesystem
#include <fstream>
#include <string>

#include "formats/scratch_dir.h"

namespace bitnet::testing {

class TempDir : public formats::ScratchDir {
 public:
  // `tag` names the directory (bitnet-TAG-XXXXXX), so a leftover one says which test made it.
  explicit TempDir(const std::string& tag = "test") : ScratchDir(tag) {}

  using ScratchDir::path;
  std::string file(const std::string& name) const { return path(name); }
  // Writes `content` (bytes as given) to `name` inside the directory; returns its path.
  std::string write(const std::string& name, const std::string& content) const {
    const std::string p = path(name);
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
};

}  // namespace bitnet::testing
