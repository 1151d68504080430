// Atomic file replacement: content lands whole, no temporary file is left behind, and a failed
// write leaves the previous file untouched.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "formats/atomic_file.h"
#include "formats/error.h"
#include "tests/support/temp_dir.h"

namespace bitnet::formats {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(AtomicFile, WritesAndReplaces) {
  testing::TempDir dir;
  const std::string path = dir.file("state.json");
  write_file_atomic(path, "{\"step\": 1}\n");
  EXPECT_EQ(slurp(path), "{\"step\": 1}\n");
  write_file_atomic(path, std::string("a\0b", 3));
  EXPECT_EQ(slurp(path), std::string("a\0b", 3));
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);  // no temporary left
}

TEST(AtomicFile, UncommittedWriterLeavesOldFile) {
  testing::TempDir dir;
  const std::string path = dir.file("model.bin");
  write_file_atomic(path, "old");
  {
    AtomicFileWriter w(path);
    w.write("new content", 11);
    EXPECT_TRUE(std::filesystem::exists(w.temp_path()));
    EXPECT_NE(w.temp_path().find(".tmp-" + std::to_string(::getpid())), std::string::npos);
  }  // destroyed without commit
  EXPECT_EQ(slurp(path), "old");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp-" + std::to_string(::getpid())));
}

TEST(AtomicFile, MissingDirectoryIsAClearError) {
  testing::TempDir dir;
  const std::string path = dir.file("no/such/dir/file.json");
  try {
    write_file_atomic(path, "x");
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("no/such/dir/file.json.tmp-"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
}

TEST(AtomicFile, ParentDirectory) {
  EXPECT_EQ(parent_directory("a.json"), ".");
  EXPECT_EQ(parent_directory("/a.json"), "/");
  EXPECT_EQ(parent_directory("runs/x/a.json"), "runs/x");
  EXPECT_NO_THROW(fsync_directory("."));
  EXPECT_THROW(fsync_directory("/definitely/not/here"), FormatError);
}

}  // namespace
}  // namespace bitnet::formats
