// HDF5 token datasets, validated before reading (see hdf5_tokens.h).
#include "data/hdf5_tokens.h"

#include <hdf5.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include "data/error.h"

namespace bitnet::data {
namespace {

// Closes an HDF5 handle when it goes out of scope.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// HDF5 prints its error stack to stderr by default; our messages say it better.
void silence_hdf5() {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

struct IntDataset {
  std::vector<uint64_t> dims;
  std::vector<int64_t> values;
};

IntDataset read_int_dataset(hid_t file, const std::string& path, const std::string& name, int max_rank,
                            uint64_t max_elements, uint64_t file_bytes) {
  const std::string where = path + ": dataset '" + name + "'";
  if (H5Lexists(file, name.c_str(), H5P_DEFAULT) <= 0) {
    throw DataError(where + " does not exist (set data.hdf5_dataset / data.hdf5_offsets)");
  }
  Handle ds(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.ok()) throw DataError(where + " cannot be opened as a dataset");
  Handle type(H5Dget_type(ds.get()), H5Tclose);
  if (!type.ok() || H5Tget_class(type.get()) != H5T_INTEGER) {
    throw DataError(where + " must hold integers (token ids), found another type class");
  }
  Handle space(H5Dget_space(ds.get()), H5Sclose);
  const int rank = space.ok() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 1 || rank > max_rank) {
    throw DataError(where + " has rank " + std::to_string(rank) + ", expected " + (max_rank == 1 ? "1" : "1 or 2"));
  }
  hsize_t dims[2] = {0, 0};
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  IntDataset out;
  uint64_t total = 1;
  for (int i = 0; i < rank; ++i) {
    out.dims.push_back(dims[i]);
    if (dims[i] != 0 && total > max_elements / dims[i])
      total = max_elements + 1;
    else
      total *= dims[i];
  }
  if (total > max_elements) {
    throw DataError(where + " has more than " + std::to_string(max_elements) +
                    " elements: split it into several files");
  }
  // The extent is a claim of the file: before allocating for it, check that the file stores
  // data in proportion (compressed chunks may hold up to kMaxCompression times their size). The
  // storage size is a claim too (a contiguous dataset reports its declared size whatever the
  // file holds), so both are held against the file's real size.
  constexpr uint64_t kMaxCompression = 64;
  const uint64_t stored = H5Dget_storage_size(ds.get());
  const uint64_t declared = total * H5Tget_size(type.get());
  if (declared > 0 && (stored == 0 || declared / kMaxCompression > stored)) {
    throw DataError(where + " declares " + std::to_string(total) + " elements (" + std::to_string(declared) +
                    " bytes) but the file stores " + std::to_string(stored) + " bytes for it");
  }
  if (stored > file_bytes || declared / kMaxCompression > file_bytes) {
    throw DataError(where + " declares " + std::to_string(total) + " elements (" + std::to_string(declared) +
                    " bytes, " + std::to_string(stored) + " stored) but the file is only " +
                    std::to_string(file_bytes) + " bytes: it is truncated or corrupt");
  }
  out.values.resize(total);
  if (total > 0 && H5Dread(ds.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.values.data()) < 0) {
    throw DataError(where + " could not be read (corrupt data or an unsupported filter)");
  }
  return out;
}

void check_token(const std::string& path, const std::string& name, uint64_t index, int64_t v, int64_t vocab_size) {
  if (v < 0 || v >= vocab_size) {
    throw DataError(path + ": dataset '" + name + "' element " + std::to_string(index) + " is " + std::to_string(v) +
                    ", outside the tokenizer's vocabulary [0, " + std::to_string(vocab_size) + ")");
  }
}

std::vector<std::vector<int32_t>> read_documents_here(const std::string& path, const std::string& dataset,
                                                      const std::string& offsets_dataset, int64_t vocab_size,
                                                      int32_t eos_id) {
  silence_hdf5();
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    throw DataError(path + ": not a readable HDF5 file");
  }
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) throw DataError(path + ": cannot open as HDF5");
  std::error_code ec;
  const uint64_t file_bytes = std::filesystem::file_size(path, ec);
  if (ec) throw DataError(path + ": cannot read its size: " + ec.message());
  const IntDataset tokens = read_int_dataset(file.get(), path, dataset, 2, kMaxHdf5Tokens, file_bytes);
  for (uint64_t i = 0; i < tokens.values.size(); ++i) {
    check_token(path, dataset, i, tokens.values[i], vocab_size);
  }
  std::vector<std::vector<int32_t>> docs;
  const auto& v = tokens.values;
  if (tokens.dims.size() == 2) {
    if (!offsets_dataset.empty()) {
      throw DataError(path + ": dataset '" + dataset + "' is 2-D (one document per row), so " +
                      "data.hdf5_offsets must be empty");
    }
    const uint64_t cols = tokens.dims[1];
    for (uint64_t r = 0; r < tokens.dims[0]; ++r) {
      docs.emplace_back(v.begin() + r * cols, v.begin() + (r + 1) * cols);
    }
    return docs;
  }
  const uint64_t n = v.size();
  std::vector<uint64_t> starts;
  if (!offsets_dataset.empty()) {
    const IntDataset offs = read_int_dataset(file.get(), path, offsets_dataset, 1, n + 1, file_bytes);
    for (uint64_t i = 0; i < offs.values.size(); ++i) {
      const int64_t o = offs.values[i];
      const int64_t prev = i == 0 ? 0 : offs.values[i - 1];
      const bool last_end = i + 1 == offs.values.size() && o == static_cast<int64_t>(n) && i > 0;
      if ((i == 0 && o != 0) || o < prev || (o >= static_cast<int64_t>(n) && !last_end)) {
        throw DataError(path + ": dataset '" + offsets_dataset + "' element " + std::to_string(i) + " is " +
                        std::to_string(o) + "; document offsets must start at 0, " +
                        "ascend and stay below the token count " + std::to_string(n) + " (a final " +
                        std::to_string(n) + " is allowed)");
      }
      if (!last_end) starts.push_back(static_cast<uint64_t>(o));
    }
  } else {
    starts.push_back(0);
  }
  for (size_t d = 0; d < starts.size(); ++d) {
    const uint64_t end = d + 1 < starts.size() ? starts[d + 1] : n;
    if (!offsets_dataset.empty()) {
      docs.emplace_back(v.begin() + starts[d], v.begin() + end);
      continue;
    }
    std::vector<int32_t> doc;  // no offsets: EOS tokens end documents
    for (uint64_t i = starts[d]; i < end; ++i) {
      if (v[i] == eos_id) {
        if (!doc.empty()) docs.push_back(std::move(doc));
        doc.clear();
      } else {
        doc.push_back(static_cast<int32_t>(v[i]));
      }
    }
    if (!doc.empty()) docs.push_back(std::move(doc));
  }
  return docs;
}

// The child's answer on the pipe: status byte 0, document count, then (length, int32 tokens) per
// document; or status 1 and a DataError's message.
bool write_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool read_all(int fd, void* data, size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

[[noreturn]] void answer_from_child(int fd, const std::string& path, const std::string& dataset,
                                    const std::string& offsets, int64_t vocab_size, int32_t eos_id) {
  bool ok = true;
  try {
    const std::vector<std::vector<int32_t>> docs = read_documents_here(path, dataset, offsets, vocab_size, eos_id);
    const uint8_t status = 0;
    const uint64_t count = docs.size();
    ok = write_all(fd, &status, 1) && write_all(fd, &count, sizeof count);
    for (size_t i = 0; ok && i < docs.size(); ++i) {
      const uint64_t length = docs[i].size();
      ok = write_all(fd, &length, sizeof length) && write_all(fd, docs[i].data(), length * sizeof(int32_t));
    }
  } catch (const std::exception& e) {
    const uint8_t status = 1;
    const std::string message = e.what();
    const uint64_t length = message.size();
    ok = write_all(fd, &status, 1) && write_all(fd, &length, sizeof length) && write_all(fd, message.data(), length);
  }
  _exit(ok ? 0 : 1);  // no atexit handlers, no flushing of the parent's stdio buffers
}

std::vector<std::vector<int32_t>> receive_from_child(int fd, const std::string& path) {
  uint8_t status = 0;
  uint64_t count = 0;
  if (!read_all(fd, &status, 1) || !read_all(fd, &count, sizeof count)) {
    throw DataError(path + ": the HDF5 reader stopped without an answer");
  }
  if (status == 1) {
    if (count > (uint64_t{1} << 20)) throw DataError(path + ": the HDF5 reader's message is garbled");
    std::string message(count, '\0');
    if (!read_all(fd, message.data(), count)) throw DataError(path + ": the HDF5 reader's message was cut");
    throw DataError(message);
  }
  std::vector<std::vector<int32_t>> docs;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t length = 0;
    if (!read_all(fd, &length, sizeof length) || length > kMaxHdf5Tokens) {
      throw DataError(path + ": the HDF5 reader's answer was cut");
    }
    std::vector<int32_t> doc(length);
    if (!read_all(fd, doc.data(), length * sizeof(int32_t)))
      throw DataError(path + ": the HDF5 reader's answer was cut");
    docs.push_back(std::move(doc));
  }
  return docs;
}

}  // namespace

std::vector<std::vector<int32_t>> read_hdf5_documents(const std::string& path, const std::string& dataset,
                                                      const std::string& offsets_dataset, int64_t vocab_size,
                                                      int32_t eos_id) {
  // libhdf5 (1.10 in Debian 12) can crash on a corrupted file inside its own parsing, before any
  // check of ours can run (fuzzing found a null read in H5Lexists). The file is therefore read in
  // a forked child: a crash there becomes a DataError naming the file, never the end of a run.
  int fds[2];
  if (pipe(fds) != 0) throw DataError(path + ": cannot create a pipe for the HDF5 reader: " + std::strerror(errno));
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    throw DataError(path + ": cannot start the HDF5 reader: " + std::strerror(errno));
  }
  if (pid == 0) {
    close(fds[0]);
    answer_from_child(fds[1], path, dataset, offsets_dataset, vocab_size, eos_id);
  }
  close(fds[1]);
  std::vector<std::vector<int32_t>> docs;
  std::string failure;
  try {
    docs = receive_from_child(fds[0], path);
  } catch (const DataError& e) {
    failure = e.what();
  }
  close(fds[0]);
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  const bool died = WIFSIGNALED(wait_status) || (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) != 0);
  if (died && (failure.empty() || failure.find("without an answer") != std::string::npos)) {
    const std::string how = WIFSIGNALED(wait_status) ? "signal " + std::to_string(WTERMSIG(wait_status))
                                                     : "exit status " + std::to_string(WEXITSTATUS(wait_status));
    throw DataError(path + ": libhdf5 crashed (" + how +
                    ") reading the file: it is corrupt, or not an HDF5 layout this reader supports");
  }
  if (!failure.empty()) throw DataError(failure);
  return docs;
}

}  // namespace bitnet::data
