// HDF5 token datasets, validated before reading (see hdf5_tokens.h).
#include "data/hdf5_tokens.h"

#include <hdf5.h>

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
void silence_hdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

struct IntDataset {
  std::vector<uint64_t> dims;
  std::vector<int64_t> values;
};

IntDataset read_int_dataset(hid_t file, const std::string& path, const std::string& name,
                            int max_rank, uint64_t max_elements, uint64_t file_bytes) {
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
    throw DataError(where + " has rank " + std::to_string(rank) + ", expected " +
                    (max_rank == 1 ? "1" : "1 or 2"));
  }
  hsize_t dims[2] = {0, 0};
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  IntDataset out;
  uint64_t total = 1;
  for (int i = 0; i < rank; ++i) {
    out.dims.push_back(dims[i]);
    if (dims[i] != 0 && total > max_elements / dims[i]) total = max_elements + 1;
    else total *= dims[i];
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
  if (total > 0 && H5Dread(ds.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                           out.values.data()) < 0) {
    throw DataError(where + " could not be read (corrupt data or an unsupported filter)");
  }
  return out;
}

void check_token(const std::string& path, const std::string& name, uint64_t index, int64_t v,
                 int64_t vocab_size) {
  if (v < 0 || v >= vocab_size) {
    throw DataError(path + ": dataset '" + name + "' element " + std::to_string(index) + " is " +
                    std::to_string(v) + ", outside the tokenizer's vocabulary [0, " +
                    std::to_string(vocab_size) + ")");
  }
}

}  // namespace

std::vector<std::vector<int32_t>> read_hdf5_documents(const std::string& path,
                                                      const std::string& dataset,
                                                      const std::string& offsets_dataset,
                                                      int64_t vocab_size, int32_t eos_id) {
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
        throw DataError(path + ": dataset '" + offsets_dataset + "' element " + std::to_string(i) +
                        " is " + std::to_string(o) + "; document offsets must start at 0, " +
                        "ascend and stay below the token count " + std::to_string(n) +
                        " (a final " + std::to_string(n) + " is allowed)");
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

}  // namespace bitnet::data
