// GGUF v3 (llama.cpp's model container): a validating reader and an atomic writer.
//
// Layout (all little-endian): "GGUF", u32 version, u64 tensor count, u64 key/value count, the
// key/values, the tensor infos, zero padding to the alignment, then the tensor data, each tensor
// at an aligned offset from the data start. Byte-level description in docs/formats.md.
//
// Shapes use GGUF's order: ne[0] is the contiguous (fastest-varying) dimension, i.e. the
// PyTorch shape reversed. A PyTorch weight [out, in] is ne = {in, out}.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "formats/error.h"

namespace bitnet::formats {

enum class GgufValueType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};

// A key's value: one scalar or a (non-nested) array. The alternative's C++ type picks the GGUF
// type; build values with an explicit type, e.g. GgufValue{uint32_t{32}} or std::string("x").
using GgufValue =
    std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool, std::string, uint64_t, int64_t,
                 double, std::vector<uint8_t>, std::vector<int8_t>, std::vector<uint16_t>, std::vector<int16_t>,
                 std::vector<uint32_t>, std::vector<int32_t>, std::vector<float>, std::vector<bool>,
                 std::vector<std::string>, std::vector<uint64_t>, std::vector<int64_t>, std::vector<double>>;

GgufValueType gguf_value_type(const GgufValue& value);  // ARRAY for the vector alternatives
GgufValueType gguf_array_type(const GgufValue& value);  // element type; throws for scalars
const char* gguf_value_type_name(GgufValueType type);   // "UINT32", "STRING", ...

// ggml tensor types we read and write (ids are llama.cpp's).
enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q8_0 = 8,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
};
const char* ggml_type_name(GgmlType type);
int64_t ggml_block_size(GgmlType type);  // elements per block (1 for plain types)
size_t ggml_block_bytes(GgmlType type);  // bytes per block
// Bytes of a tensor with these dims; throws FormatError (ne[0] not a block multiple, overflow).
uint64_t ggml_tensor_bytes(GgmlType type, const std::vector<int64_t>& ne);

inline constexpr uint32_t kGgufVersion = 3;
inline constexpr uint32_t kGgufDefaultAlignment = 32;
inline constexpr size_t kGgufMaxDims = 4;
inline constexpr size_t kGgufMaxNameLength = 63;  // llama.cpp keeps names in char[64]

struct GgufTensorToWrite {
  std::string name;
  GgmlType type;
  std::vector<int64_t> ne;  // GGUF order, 1..4 dims
  const void* data;         // must stay valid until write()
  size_t nbytes;
};

class GgufWriter {
 public:
  // Adds or replaces a key (keys are written in first-insertion order). "general.alignment"
  // must be a UINT32 power of two; it sets the alignment used by write().
  void set(const std::string& key, GgufValue value);
  void set(const std::string& key, const char* value) { set(key, GgufValue{std::string(value)}); }
  // Checks the name (non-empty, <= 63 bytes, unique), dims and nbytes against the type.
  void add_tensor(const GgufTensorToWrite& tensor);
  // Writes the file atomically. Tensors are stored in the order added.
  void write(const std::string& path) const;
  uint32_t alignment() const { return alignment_; }

 private:
  std::vector<std::pair<std::string, GgufValue>> kvs_;
  std::vector<GgufTensorToWrite> tensors_;
  uint32_t alignment_ = kGgufDefaultAlignment;
};

struct GgufTensorInfo {
  std::string name;
  GgmlType type;
  std::vector<int64_t> ne;  // GGUF order
  uint64_t offset;          // from the start of the file
  uint64_t nbytes;
};

// Reads the whole file into memory and validates every count, length, offset and type before it
// allocates or trusts anything. Any problem throws FormatError (file, problem, byte offset).
class GgufReader {
 public:
  static GgufReader open(const std::string& path);
  static GgufReader from_bytes(std::vector<uint8_t> bytes, const std::string& name);

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // start of the tensor data section
  const std::vector<std::pair<std::string, GgufValue>>& kvs() const { return kvs_; }  // file order
  const GgufValue* find_kv(const std::string& key) const;                             // nullptr when absent
  // Typed access: throws FormatError naming the key when it is missing or of another type.
  template <typename T>
  const T& get(const std::string& key) const {
    const GgufValue* v = find_kv(key);
    if (!v) throw FormatError(path_ + ": missing key \"" + key + "\"");
    const T* p = std::get_if<T>(v);
    if (!p)
      throw FormatError(path_ + ": key \"" + key + "\" has type " + describe_type(*v) + ", expected " +
                        describe_type(GgufValue{T{}}));
    return *p;
  }

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }  // file order
  const GgufTensorInfo* find(const std::string& name) const;
  const uint8_t* data(const GgufTensorInfo& info) const;
  const std::string& path() const { return path_; }

 private:
  GgufReader() = default;
  void parse();
  static std::string describe_type(const GgufValue& v);

  std::string path_;
  std::vector<uint8_t> bytes_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kvs_;
  std::unordered_map<std::string, size_t> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace bitnet::formats
