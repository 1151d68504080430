// Token documents from an HDF5 file (libhdf5). Two layouts, the dataset names set in config:
//   1-D integer dataset of N tokens; documents are cut at the positions of an optional 1-D
//       integer offsets dataset (document starts: ascending, first 0, each < N; a final N may
//       be present), or, without one, at every EOS token (EOS itself is dropped: packing adds it);
//   2-D integer dataset (rows, columns), e.g. `input_ids`: each row is one document.
// Before anything is read: the dataset exists, its type class is integer (any width and sign;
// values are converted to int64 by HDF5), its rank is 1 or 2, its extent is at most
// kMaxHdf5Tokens elements and at most 64 times the bytes the file stores for it (so a forged
// extent cannot make us allocate), and the offsets dataset is 1-D integer with at most N + 1 entries.
// After reading: every token is in [0, vocab_size). Every failure is a DataError naming the file
// and dataset. The file is read in a forked child process, because libhdf5 itself can crash on a
// corrupted file: such a crash is a DataError too.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bitnet::data {

inline constexpr uint64_t kMaxHdf5Tokens = uint64_t(1) << 32;

std::vector<std::vector<int32_t>> read_hdf5_documents(const std::string& path, const std::string& dataset,
                                                      const std::string& offsets_dataset, int64_t vocab_size,
                                                      int32_t eos_id);

}  // namespace bitnet::data
