// safetensors reader (validating) and atomic writer.
//
// File layout: u64 little-endian N, then N bytes of UTF-8 JSON header (an object: tensor name ->
// {"dtype", "shape", "data_offsets": [begin, end]}, plus an optional "__metadata__" string map),
// then the data section. data_offsets are relative to the start of the data section (8 + N);
// TensorInfo::offset below is relative to the start of the file. See docs/formats.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "formats/dtype.h"
#include "formats/error.h"

namespace bitnet::formats {

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t offset;  // from the start of the file
  uint64_t nbytes;
};

// The reader copies the whole file into memory (no mmap: a file truncated by another process
// while mapped would kill us with SIGBUS, and checkpoints are read once). Every header field is
// validated before use; any problem throws FormatError naming the file and the problem.
class SafetensorsReader {
 public:
  static SafetensorsReader open(const std::string& path);
  // Parses bytes already in memory; name is used in error messages (tests, fuzzing).
  static SafetensorsReader from_bytes(std::vector<uint8_t> bytes, const std::string& name);

  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in data-offset order
  const TensorInfo* find(const std::string& name) const;               // nullptr when absent
  // Start of the tensor's bytes (info must come from this reader). Alignment: the data of each
  // tensor is at a multiple of its element size only if the writer arranged it (ours does).
  const uint8_t* data(const TensorInfo& info) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return path_; }
  uint64_t header_size() const { return header_size_; }  // N, the JSON length

 private:
  SafetensorsReader() = default;
  void parse();

  std::string path_;
  std::vector<uint8_t> bytes_;
  uint64_t header_size_ = 0;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void* data;
  size_t nbytes;
};

// Writes a safetensors file atomically (temporary file, fsync, rename, fsync directory).
// Checks names (non-empty, unique, not "__metadata__") and nbytes == product(shape) * dtype size.
// The JSON header is padded with spaces so the data section starts at a multiple of 8. Tensor
// data is contiguous (no gaps, as the reference loader requires) and stored in the given order,
// except that tensors are stably grouped by element size, largest first, which puts every tensor
// at a multiple of its own element size. (With one dtype, the order is exactly the given one.)
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Header limit shared by reader and writer (the reference implementation's limit).
inline constexpr uint64_t kSafetensorsMaxHeader = 100'000'000;

}  // namespace bitnet::formats
