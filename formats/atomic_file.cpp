// POSIX implementation of the atomic write helpers (open/write/fsync/rename).
#include "formats/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "formats/error.h"

namespace bitnet::formats {

namespace {

[[noreturn]] void throw_errno(const std::string& path, const std::string& action, int err) {
  throw FormatError(path + ": cannot " + action + ": " + std::strerror(err));
}

}  // namespace

std::string parent_directory(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void fsync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno(dir, "open directory for fsync", errno);
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    // Some file systems cannot fsync directories; that is not a reason to fail a save.
    if (err == EINVAL || err == ENOTSUP) return;
    throw_errno(dir, "fsync directory", err);
  }
  ::close(fd);
}

AtomicFileWriter::AtomicFileWriter(const std::string& path)
    : path_(path), temp_path_(path + ".tmp-" + std::to_string(::getpid())) {
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_errno(temp_path_, "create temporary file", errno);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_) abort();
}

void AtomicFileWriter::abort() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  ::unlink(temp_path_.c_str());
}

void AtomicFileWriter::write(const void* data, size_t nbytes) {
  if (fd_ < 0) throw FormatError(temp_path_ + ": write after commit or failure");
  const auto* p = static_cast<const char*>(data);
  while (nbytes > 0) {
    const ssize_t n = ::write(fd_, p, nbytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      abort();
      throw_errno(temp_path_, "write", err);
    }
    p += n;
    nbytes -= static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
  }
}

void AtomicFileWriter::write_zeros(size_t nbytes) {
  static constexpr char kZeros[256] = {};
  while (nbytes > 0) {
    const size_t n = nbytes < sizeof(kZeros) ? nbytes : sizeof(kZeros);
    write(kZeros, n);
    nbytes -= n;
  }
}

void AtomicFileWriter::commit() {
  if (fd_ < 0) throw FormatError(temp_path_ + ": commit after commit or failure");
  if (::fsync(fd_) != 0) {
    const int err = errno;
    abort();
    throw_errno(temp_path_, "fsync", err);
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    abort();
    throw_errno(temp_path_, "close", err);
  }
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    abort();
    throw_errno(path_, "rename " + temp_path_ + " over it", err);
  }
  committed_ = true;
  fsync_directory(parent_directory(path_));
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  AtomicFileWriter writer(path);
  writer.write(bytes.data(), bytes.size());
  writer.commit();
}

}  // namespace bitnet::formats
