// Feeds the input bytes to formats::SafetensorsReader::from_bytes and, when it parses, touches
// every tensor's metadata, data span and the metadata map. FormatError is the only accepted
// failure; any other exception, a sanitizer report or a span outside the input is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "formats/safetensors.h"

using namespace bitnet::formats;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    SafetensorsReader r = SafetensorsReader::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.safetensors");
    const uint64_t file_size = size;
    for (const TensorInfo& t : r.tensors()) {
      if (r.find(t.name) == nullptr) std::abort();
      if (t.offset > file_size || t.nbytes > file_size - t.offset) std::abort();
      const uint8_t* p = r.data(t);
      uint8_t sum = 0;
      for (uint64_t i = 0; i < t.nbytes; ++i) sum ^= p[i];
      (void)sum;
    }
    size_t meta_bytes = 0;
    for (const auto& [k, v] : r.metadata()) meta_bytes += k.size() + v.size();
    if (meta_bytes > file_size) std::abort();
  } catch (const FormatError&) {
  }
  return 0;
}
