// A scratch directory: PARENT/bitnet-TAG-XXXXXX made with mkdtemp (a fresh name no other process
// holds), removed with everything in it when the object goes, unless kept. Tests and benchmarks
// write their files here.
#pragma once

#include <string>

namespace bitnet::formats {

class ScratchDir {
 public:
  // Creates `parent` if needed. Throws std::runtime_error naming the parent and the reason.
  explicit ScratchDir(const std::string& tag, const std::string& parent = default_parent());
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // The path of `name` inside the directory.
  std::string path(const std::string& name) const;
  // Leaves the directory in place when the object goes (for a user who asked to keep the output).
  void keep() { keep_ = true; }

  // The system's temporary directory ($TMPDIR, else /tmp).
  static std::string default_parent();

 private:
  std::string path_;
  bool keep_ = false;
};

}  // namespace bitnet::formats
