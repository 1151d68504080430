// Crash-safe file replacement: write "<path>.tmp-<pid>", fsync it, rename it over <path>, fsync
// the directory. A reader sees either the old file or the complete new one, never a torn file.
#pragma once

#include <cstddef>
#include <string>

namespace bitnet::formats {

// Writes bytes to path atomically (see above). Throws FormatError naming the path and errno text.
void write_file_atomic(const std::string& path, const std::string& bytes);

// fsyncs a directory so a rename inside it survives a power loss. Throws FormatError.
void fsync_directory(const std::string& dir);

// Directory part of a path ("." when there is none), for fsync_directory.
std::string parent_directory(const std::string& path);

// Streaming form for large files: write() pieces, then commit(). Destroying an uncommitted
// writer (e.g. while an exception unwinds) removes the temporary file and leaves <path> as it was.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(const std::string& path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, size_t nbytes);
  void write_zeros(size_t nbytes);
  uint64_t bytes_written() const { return written_; }
  void commit();  // fsync, close, rename over path, fsync the directory

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  void abort() noexcept;

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  uint64_t written_ = 0;
  bool committed_ = false;
};

}  // namespace bitnet::formats
