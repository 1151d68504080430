// safetensors writer: validates what it is given, lays tensors out without gaps, and streams the
// caller's buffers straight into an AtomicFileWriter (no second copy of the data in memory).
#include <algorithm>
#include <numeric>
#include <set>

#include <nlohmann/json.hpp>

#include "formats/atomic_file.h"
#include "formats/file_io.h"
#include "formats/safetensors.h"

namespace bitnet::formats {

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::set<std::string> names;
  for (const TensorToWrite& t : tensors) {
    const std::string where = "tensor \"" + t.name + "\"";
    if (t.name.empty()) throw_format_error(path, "cannot write a tensor with an empty name");
    if (t.name == "__metadata__") throw_format_error(path, "\"__metadata__\" is not a valid tensor name");
    if (!names.insert(t.name).second) throw_format_error(path, "duplicate tensor name \"" + t.name + "\"");
    uint64_t elements = 1;
    for (int64_t dim : t.shape) {
      if (dim < 0) throw_format_error(path, where + " has a negative dimension " + std::to_string(dim));
      if (!checked_mul(elements, static_cast<uint64_t>(dim), &elements))
        throw_format_error(path, where + " shape overflows 64 bits");
    }
    uint64_t expected = 0;
    if (!checked_mul(elements, dtype_size(t.dtype), &expected))
      throw_format_error(path, where + " byte size overflows 64 bits");
    if (expected != t.nbytes)
      throw_format_error(path, where + " nbytes does not match shape x dtype", kNoOffset, std::to_string(expected),
                         std::to_string(t.nbytes));
    if (t.nbytes > 0 && t.data == nullptr) throw_format_error(path, where + " has null data");
  }

  // Largest element size first, stable: every tensor lands on a multiple of its element size.
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return dtype_size(tensors[a].dtype) > dtype_size(tensors[b].dtype); });

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  uint64_t offset = 0;
  for (size_t i : order) {
    const TensorToWrite& t = tensors[i];
    header[t.name] = {
        {"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.nbytes}}};
    offset += t.nbytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    throw_format_error(path, std::string("cannot encode the header (names and metadata must be UTF-8): ") + e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // data section starts at a multiple of 8
  if (text.size() > kSafetensorsMaxHeader)
    throw_format_error(path, "header would exceed the 100 MB limit", kNoOffset,
                       "at most " + std::to_string(kSafetensorsMaxHeader), std::to_string(text.size()));

  uint8_t length[8];
  for (int b = 0; b < 8; ++b) length[b] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * b));
  AtomicFileWriter out(path);
  out.write(length, 8);
  out.write(text.data(), text.size());
  for (size_t i : order)
    if (tensors[i].nbytes > 0) out.write(tensors[i].data, tensors[i].nbytes);
  out.commit();
}

}  // namespace bitnet::formats
