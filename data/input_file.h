// A corpus file read front to back in pieces, so a multi-GB input is never held in memory. A file
// whose first two bytes are the gzip magic (1f 8b) is gunzipped on the fly with zlib's streaming
// inflate, whatever its name; concatenated gzip members (pigz, `cat a.gz b.gz`) read as one
// stream, as `gzip -d` reads them. Everything else is read as it is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace bitnet::data {

class InputFile {
 public:
  // DataError when the path is not a regular file or cannot be opened.
  explicit InputFile(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // Up to n bytes of content (decompressed for gzip); 0 only at the end of the content. DataError
  // on a read error, and on a corrupt or truncated gzip stream, naming the file and the offset
  // in the file where the damage was found.
  size_t read(char* out, size_t n);

  // Reads past the next n bytes of content (a seek for a plain file): resuming at a recorded
  // content offset. DataError if the content ends first (the file changed since).
  void skip(uint64_t n);

  uint64_t content_offset() const { return content_offset_; }  // content bytes read or skipped
  uint64_t file_offset() const;                                // bytes of the file consumed (compressed bytes for gzip)
  uint64_t file_size() const { return file_size_; }
  bool gzip() const { return inflater_ != nullptr; }
  const std::string& path() const { return path_; }

 private:
  struct Inflater;  // zlib's state, kept out of this header
  size_t read_plain(char* out, size_t n);
  size_t read_gzip(char* out, size_t n);
  bool fill_compressed();  // false at the end of the file

  std::string path_;
  std::FILE* file_ = nullptr;
  uint64_t file_size_ = 0;
  uint64_t file_read_ = 0;  // bytes taken from the file
  uint64_t content_offset_ = 0;
  std::unique_ptr<Inflater> inflater_;
};

}  // namespace bitnet::data
