// Helpers shared by the fuzz targets: the input as a file for readers that only take a path, and
// the input cut into a few strings for targets that need several.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace bitnet::fuzz {

// Writes the input to one file per process (reused for every input, so a long run does not fill
// the temporary folder) and returns its path. Aborts if it cannot: that is the harness failing,
// not the code under test.
inline std::string write_temp_file(const uint8_t* data, size_t size, const char* suffix) {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir && *dir ? dir : "/tmp") + "/bitnet_fuzz_" + std::to_string(::getpid()) + suffix;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size != 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  if (std::fclose(f) != 0) std::abort();
  return path;
}

// Splits the input at every byte 0x00 (a separator libFuzzer's mutations insert and remove
// freely), so one input can carry a document and a few extra strings.
inline std::vector<std::string> split_at_nul(const uint8_t* data, size_t size) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      parts.emplace_back();
    } else {
      parts.back().push_back(static_cast<char>(data[i]));
    }
  }
  return parts;
}

}  // namespace bitnet::fuzz
