// Whole-file reading with errors that name the path (readers parse from memory after this).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bitnet::formats {

// Reads the whole regular file at path. Throws FormatError if it cannot be opened or read.
std::vector<uint8_t> read_file_bytes(const std::string& path);

// A regular file held open for reads at given offsets (pread), for readers that take a file
// piece by piece instead of whole. Reads are thread-safe (no shared file position).
class ReadOnlyFile {
 public:
  // FormatError if the path cannot be opened or is not a regular file.
  explicit ReadOnlyFile(const std::string& path);
  ~ReadOnlyFile();
  ReadOnlyFile(ReadOnlyFile&& other) noexcept;
  ReadOnlyFile(const ReadOnlyFile&) = delete;
  ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;
  ReadOnlyFile& operator=(ReadOnlyFile&&) = delete;

  // Reads bytes [offset, offset + n) into out. FormatError (naming the path and the range) on a
  // read error or when the file ends before (it shrank after it was opened).
  void read_at(uint64_t offset, uint64_t n, void* out) const;
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// Little-endian loads from a byte span (callers check bounds first).
uint16_t load_u16_le(const uint8_t* p);
uint32_t load_u32_le(const uint8_t* p);
uint64_t load_u64_le(const uint8_t* p);

// Overflow-checked arithmetic on sizes read from files: false when the result does not fit.
bool checked_mul(uint64_t a, uint64_t b, uint64_t* out);
bool checked_add(uint64_t a, uint64_t b, uint64_t* out);

}  // namespace bitnet::formats
