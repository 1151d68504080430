// GGUF writer: serializes key/values and tensor infos into memory (small), then streams header and
// tensor data through an AtomicFileWriter, padding each tensor to the alignment.
#include <cstring>
#include <set>

#include "formats/atomic_file.h"
#include "formats/gguf.h"

namespace bitnet::formats {

namespace {

class ByteSink {
 public:
  template <typename T>
  void scalar(T v) {  // little-endian hosts only (x86-64, aarch64): memcpy is the LE encoding
    static_assert(std::is_trivially_copyable_v<T>);
    const size_t at = bytes.size();
    bytes.resize(at + sizeof(T));
    std::memcpy(bytes.data() + at, &v, sizeof(T));
  }
  void str(const std::string& s) {
    scalar<uint64_t>(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
  std::vector<uint8_t> bytes;
};

void put_value(ByteSink& out, const GgufValue& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          out.str(v);
        } else if constexpr (std::is_same_v<T, bool>) {
          out.scalar<int8_t>(v ? 1 : 0);
        } else if constexpr (std::is_arithmetic_v<T>) {
          out.scalar<T>(v);
        } else {  // array: element type, count, elements
          out.scalar<uint32_t>(static_cast<uint32_t>(gguf_array_type(value)));
          out.scalar<uint64_t>(v.size());
          for (const auto& e : v) {
            using E = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<E, std::string>)
              out.str(e);
            else if constexpr (std::is_same_v<T, std::vector<bool>>)
              out.scalar<int8_t>(e ? 1 : 0);
            else
              out.scalar<E>(e);
          }
        }
      },
      value);
}

uint64_t pad_to(uint64_t n, uint64_t alignment) {
  return (n + alignment - 1) / alignment * alignment;
}

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue value) {
  if (key.empty()) throw FormatError("GGUF keys must not be empty");
  if (key == "general.alignment") {
    const uint32_t* a = std::get_if<uint32_t>(&value);
    if (!a || *a == 0 || (*a & (*a - 1)) != 0) throw FormatError("general.alignment must be a UINT32 power of two");
    alignment_ = *a;
  }
  for (auto& kv : kvs_)
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  kvs_.emplace_back(key, std::move(value));
}

void GgufWriter::add_tensor(const GgufTensorToWrite& tensor) {
  const std::string where = "GGUF tensor \"" + tensor.name + "\"";
  if (tensor.name.empty()) throw FormatError("GGUF tensor names must not be empty");
  if (tensor.name.size() > kGgufMaxNameLength)
    throw FormatError(where + " name is " + std::to_string(tensor.name.size()) + " bytes, at most " +
                      std::to_string(kGgufMaxNameLength) + " allowed");
  for (const auto& t : tensors_)
    if (t.name == tensor.name) throw FormatError("duplicate " + where);
  uint64_t expected = 0;
  try {
    expected = ggml_tensor_bytes(tensor.type, tensor.ne);
  } catch (const FormatError& e) {
    throw FormatError(where + ": " + e.what());
  }
  if (expected != tensor.nbytes)
    throw FormatError(where + " nbytes mismatch: expected " + std::to_string(expected) + " for its dims and " +
                      ggml_type_name(tensor.type) + ", found " + std::to_string(tensor.nbytes));
  if (tensor.nbytes > 0 && tensor.data == nullptr) throw FormatError(where + " has null data");
  tensors_.push_back(tensor);
}

void GgufWriter::write(const std::string& path) const {
  ByteSink head;
  head.bytes = {'G', 'G', 'U', 'F'};
  head.scalar<uint32_t>(kGgufVersion);
  head.scalar<uint64_t>(tensors_.size());
  head.scalar<uint64_t>(kvs_.size());
  for (const auto& [key, value] : kvs_) {
    head.str(key);
    head.scalar<uint32_t>(static_cast<uint32_t>(gguf_value_type(value)));
    put_value(head, value);
  }
  uint64_t offset = 0;  // relative to the data section
  for (const auto& t : tensors_) {
    head.str(t.name);
    head.scalar<uint32_t>(static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) head.scalar<int64_t>(d);
    head.scalar<uint32_t>(static_cast<uint32_t>(t.type));
    head.scalar<uint64_t>(offset);
    offset = pad_to(offset + t.nbytes, alignment_);
  }
  AtomicFileWriter out(path);
  out.write(head.bytes.data(), head.bytes.size());
  out.write_zeros(pad_to(head.bytes.size(), alignment_) - head.bytes.size());
  for (const auto& t : tensors_) {
    if (t.nbytes > 0) out.write(t.data, t.nbytes);
    out.write_zeros(pad_to(t.nbytes, alignment_) - t.nbytes);
  }
  out.commit();
}

}  // namespace bitnet::formats
