// GGUF value-type and ggml tensor-type tables (ids, names, block sizes) shared by reader and writer.
#include <string>

#include "formats/file_io.h"
#include "formats/gguf.h"

namespace bitnet::formats {

namespace {

// Variant index order within the scalars (and again within the arrays) of GgufValue.
constexpr GgufValueType kIndexToType[12] = {
    GgufValueType::UINT8,  GgufValueType::INT8,   GgufValueType::UINT16,  GgufValueType::INT16,
    GgufValueType::UINT32, GgufValueType::INT32,  GgufValueType::FLOAT32, GgufValueType::BOOL,
    GgufValueType::STRING, GgufValueType::UINT64, GgufValueType::INT64,   GgufValueType::FLOAT64,
};

struct GgmlTypeEntry {
  GgmlType type;
  const char* name;
  int64_t block;
  size_t bytes;
};

constexpr GgmlTypeEntry kGgmlTypes[] = {
    {GgmlType::F32, "F32", 1, 4},        {GgmlType::F16, "F16", 1, 2},        {GgmlType::Q8_0, "Q8_0", 32, 34},
    {GgmlType::I8, "I8", 1, 1},          {GgmlType::I16, "I16", 1, 2},        {GgmlType::I32, "I32", 1, 4},
    {GgmlType::I64, "I64", 1, 8},        {GgmlType::F64, "F64", 1, 8},        {GgmlType::BF16, "BF16", 1, 2},
    {GgmlType::TQ1_0, "TQ1_0", 256, 54}, {GgmlType::TQ2_0, "TQ2_0", 256, 66},
};

const GgmlTypeEntry& ggml_entry(GgmlType type) {
  for (const auto& e : kGgmlTypes)
    if (e.type == type) return e;
  throw FormatError("unsupported ggml tensor type id " + std::to_string(static_cast<uint32_t>(type)) +
                    " (supported: F32, F16, BF16, F64, I8, I16, I32, I64, Q8_0, TQ1_0, TQ2_0)");
}

}  // namespace

GgufValueType gguf_value_type(const GgufValue& value) {
  return value.index() < 12 ? kIndexToType[value.index()] : GgufValueType::ARRAY;
}

GgufValueType gguf_array_type(const GgufValue& value) {
  if (value.index() < 12) throw FormatError("gguf_array_type: the value is not an array");
  return kIndexToType[value.index() - 12];
}

const char* gguf_value_type_name(GgufValueType type) {
  switch (type) {
    case GgufValueType::UINT8:
      return "UINT8";
    case GgufValueType::INT8:
      return "INT8";
    case GgufValueType::UINT16:
      return "UINT16";
    case GgufValueType::INT16:
      return "INT16";
    case GgufValueType::UINT32:
      return "UINT32";
    case GgufValueType::INT32:
      return "INT32";
    case GgufValueType::FLOAT32:
      return "FLOAT32";
    case GgufValueType::BOOL:
      return "BOOL";
    case GgufValueType::STRING:
      return "STRING";
    case GgufValueType::ARRAY:
      return "ARRAY";
    case GgufValueType::UINT64:
      return "UINT64";
    case GgufValueType::INT64:
      return "INT64";
    case GgufValueType::FLOAT64:
      return "FLOAT64";
  }
  return "unknown";
}

const char* ggml_type_name(GgmlType type) {
  return ggml_entry(type).name;
}
int64_t ggml_block_size(GgmlType type) {
  return ggml_entry(type).block;
}
size_t ggml_block_bytes(GgmlType type) {
  return ggml_entry(type).bytes;
}

uint64_t ggml_tensor_bytes(GgmlType type, const std::vector<int64_t>& ne) {
  const GgmlTypeEntry& e = ggml_entry(type);
  if (ne.empty() || ne.size() > kGgufMaxDims)
    throw FormatError("a GGUF tensor has 1 to 4 dimensions, found " + std::to_string(ne.size()));
  uint64_t count = 1;
  for (int64_t d : ne) {
    if (d < 0) throw FormatError("negative GGUF dimension " + std::to_string(d));
    if (!checked_mul(count, static_cast<uint64_t>(d), &count))
      throw FormatError("GGUF tensor element count overflows 64 bits");
  }
  if (count > static_cast<uint64_t>(INT64_MAX)) throw FormatError("GGUF tensor element count overflows int64");
  if (ne[0] % e.block != 0)
    throw FormatError(std::string(e.name) + " stores rows in blocks of " + std::to_string(e.block) +
                      ": ne[0] = " + std::to_string(ne[0]) + " is not a multiple");
  uint64_t bytes = 0;
  if (!checked_mul(count / static_cast<uint64_t>(e.block), e.bytes, &bytes))
    throw FormatError("GGUF tensor byte size overflows 64 bits");
  return bytes;
}

std::string GgufReader::describe_type(const GgufValue& v) {
  if (v.index() < 12) return gguf_value_type_name(gguf_value_type(v));
  return std::string("ARRAY of ") + gguf_value_type_name(gguf_array_type(v));
}

}  // namespace bitnet::formats
