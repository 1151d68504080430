// Feeds the input bytes to formats::GgufReader::from_bytes and, when it parses, touches every
// key/value and every tensor's metadata and data span. FormatError is the only accepted failure;
// any other exception, a sanitizer report or a tensor span outside the input is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <variant>
#include <vector>

#include "formats/gguf.h"

using namespace bitnet::formats;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    GgufReader r = GgufReader::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.gguf");
    for (const auto& [key, value] : r.kvs()) {
      if (r.find_kv(key) == nullptr) std::abort();
      (void)gguf_value_type_name(gguf_value_type(value));
    }
    const uint64_t file_size = size;
    for (const GgufTensorInfo& t : r.tensors()) {
      if (r.find(t.name) == nullptr) std::abort();
      // The reader promises every tensor lies inside the file and matches its type and dims.
      if (t.offset > file_size || t.nbytes > file_size - t.offset) std::abort();
      if (ggml_tensor_bytes(t.type, t.ne) != t.nbytes) std::abort();
      const uint8_t* p = r.data(t);
      uint8_t sum = 0;
      for (uint64_t i = 0; i < t.nbytes; ++i) sum ^= p[i];  // ASan checks every byte is ours
      (void)sum;
    }
  } catch (const FormatError&) {
  }
  return 0;
}
