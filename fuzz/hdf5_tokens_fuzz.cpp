// Writes the input to a temporary file and reads it with data::read_hdf5_documents in its three
// layouts (1-D + offsets, 1-D cut at EOS, 2-D rows), with dataset names that the seed corpus
// uses. Checks every token read is in [0, vocab_size). DataError is the only accepted failure.
// libhdf5 itself is not instrumented: a crash inside it is still reported, with its stack.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "data/error.h"
#include "data/hdf5_tokens.h"
#include "fuzz_util.h"

using namespace bitnet::data;

namespace {

constexpr int64_t kVocab = 300;
constexpr int32_t kEos = 2;

void read(const std::string& path, const char* dataset, const char* offsets) {
  try {
    for (const std::vector<int32_t>& doc : read_hdf5_documents(path, dataset, offsets, kVocab, kEos)) {
      for (int32_t t : doc) {
        if (t < 0 || t >= kVocab) std::abort();
      }
    }
  } catch (const DataError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = bitnet::fuzz::write_temp_file(data, size, ".h5");
  read(path, "tokens", "offsets");
  read(path, "tokens", "");
  read(path, "input_ids", "");
  return 0;
}
