// Reading corpus files in pieces, gunzipping on the fly (see input_file.h).
#include "data/input_file.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "data/error.h"

namespace bitnet::data {

struct InputFile::Inflater {
  z_stream stream{};
  std::vector<unsigned char> buffer = std::vector<unsigned char>(size_t{1} << 18);
  bool member_ended = false;  // the last inflate call finished a gzip member
};

namespace {

constexpr unsigned char kGzipMagic[2] = {0x1f, 0x8b};

}  // namespace

InputFile::InputFile(const std::string& path) : path_(path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw DataError("cannot read '" + path + "': not a regular file");
  }
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) throw DataError("cannot open '" + path + "': " + std::strerror(errno));
  file_size_ = std::filesystem::file_size(path, ec);
  unsigned char head[2] = {0, 0};
  const size_t got = std::fread(head, 1, 2, file_);
  const bool gzip = got == 2 && std::memcmp(head, kGzipMagic, 2) == 0;
  if (!gzip) {
    std::rewind(file_);
    return;
  }
  inflater_ = std::make_unique<Inflater>();
  // 16 + MAX_WBITS: the gzip wrapper (header, CRC-32 and length trailer, all checked by zlib).
  if (inflateInit2(&inflater_->stream, 16 + MAX_WBITS) != Z_OK) {
    std::fclose(file_);
    throw DataError("cannot start decompressing '" + path + "': out of memory");
  }
  std::memcpy(inflater_->buffer.data(), head, 2);
  inflater_->stream.next_in = inflater_->buffer.data();
  inflater_->stream.avail_in = 2;
  file_read_ = 2;
}

InputFile::~InputFile() {
  if (inflater_) inflateEnd(&inflater_->stream);
  if (file_ != nullptr) std::fclose(file_);
}

uint64_t InputFile::file_offset() const {
  if (!inflater_) return content_offset_;
  return file_read_ - inflater_->stream.avail_in;
}

size_t InputFile::read(char* out, size_t n) {
  if (n == 0) return 0;
  const size_t got = inflater_ ? read_gzip(out, n) : read_plain(out, n);
  content_offset_ += got;
  return got;
}

size_t InputFile::read_plain(char* out, size_t n) {
  const size_t got = std::fread(out, 1, n, file_);
  if (got < n && std::ferror(file_)) {
    throw DataError("error while reading '" + path_ + "' at byte " + std::to_string(content_offset_ + got) + ": " +
                    std::strerror(errno));
  }
  return got;
}

bool InputFile::fill_compressed() {
  Inflater& z = *inflater_;
  const size_t got = std::fread(z.buffer.data(), 1, z.buffer.size(), file_);
  if (got == 0 && std::ferror(file_)) {
    throw DataError("error while reading '" + path_ + "' at byte " + std::to_string(file_read_) + ": " +
                    std::strerror(errno));
  }
  z.stream.next_in = z.buffer.data();
  z.stream.avail_in = static_cast<uInt>(got);
  file_read_ += got;
  return got > 0;
}

size_t InputFile::read_gzip(char* out, size_t n) {
  Inflater& z = *inflater_;
  for (;;) {
    if (z.member_ended) {
      // Another gzip member may follow (concatenated files); the end of the file ends the content.
      if (z.stream.avail_in == 0 && !fill_compressed()) return 0;
      inflateReset(&z.stream);
      z.member_ended = false;
    }
    if (z.stream.avail_in == 0 && !fill_compressed()) {
      throw DataError("truncated gzip file '" + path_ + "': it ends at byte " + std::to_string(file_read_) +
                      " inside a compressed stream (the file is incomplete)");
    }
    z.stream.next_out = reinterpret_cast<unsigned char*>(out);
    z.stream.avail_out = static_cast<uInt>(std::min<size_t>(n, size_t{1} << 30));
    const uInt asked = z.stream.avail_out;
    const int rc = inflate(&z.stream, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      z.member_ended = true;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      throw DataError("corrupt gzip data in '" + path_ + "' near byte " + std::to_string(file_offset()) + ": " +
                      (z.stream.msg != nullptr ? z.stream.msg : "zlib error " + std::to_string(rc)) +
                      (content_offset_ > 0 ? " (after " + std::to_string(content_offset_) + " bytes of content)" : ""));
    }
    const size_t produced = asked - z.stream.avail_out;
    if (produced > 0) return produced;
  }
}

void InputFile::skip(uint64_t n) {
  const uint64_t target = content_offset_ + n;
  if (!inflater_) {
    if (target > file_size_ || fseeko(file_, static_cast<off_t>(target), SEEK_SET) != 0) {
      throw DataError("cannot resume '" + path_ + "' at byte " + std::to_string(target) + ": the file holds " +
                      std::to_string(file_size_) + " bytes (it changed)");
    }
    content_offset_ = target;
    return;
  }
  std::vector<char> scratch(size_t{1} << 18);
  while (content_offset_ < target) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(scratch.size(), target - content_offset_));
    if (read(scratch.data(), want) == 0) {
      throw DataError("cannot resume '" + path_ + "' at content byte " + std::to_string(target) + ": it holds " +
                      std::to_string(content_offset_) + " bytes once decompressed (it changed)");
    }
  }
}

}  // namespace bitnet::data
