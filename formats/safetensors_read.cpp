// Validating safetensors reader: nothing read from the file is used as a size, offset or count
// before it has been checked against the file size and for overflow.
#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "formats/file_io.h"
#include "formats/json_read.h"
#include "formats/safetensors.h"

namespace bitnet::formats {

namespace {

using nlohmann::json;

// A shape for a message: "[2, 3]", or its rank alone when it is long.
std::string describe_shape(const std::vector<int64_t>& shape) {
  if (shape.size() > 8) return "(a shape of rank " + std::to_string(shape.size()) + ")";
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

uint64_t non_negative_int(const std::string& path, const std::string& what, const json& j) {
  if (!j.is_number_unsigned()) throw_format_error(path, what, kNoOffset, "a non-negative integer", describe_json(j));
  return j.get<uint64_t>();
}

}  // namespace

SafetensorsReader SafetensorsReader::open(const std::string& path) {
  return from_bytes(read_file_bytes(path), path);
}

SafetensorsReader SafetensorsReader::from_bytes(std::vector<uint8_t> bytes, const std::string& name) {
  SafetensorsReader reader;
  reader.path_ = name;
  reader.bytes_ = std::move(bytes);
  try {
    reader.parse();
  } catch (const nlohmann::json::exception& e) {
    // A value of a type that parse() does not check first: still a FormatError naming the file.
    throw_format_error(name, std::string("unexpected value in the JSON header: ") + quote_excerpt(e.what()));
  }
  return reader;
}

namespace {

// The 8-byte little-endian header length, checked against the file size and the 100 MB limit,
// and the header's first byte.
uint64_t read_header_length(const std::string& path, const std::vector<uint8_t>& bytes) {
  const uint64_t file_size = bytes.size();
  if (file_size < 8)
    throw_format_error(path, "file too short for the 8-byte header length", 0, "at least 8 bytes",
                       std::to_string(file_size) + " bytes");
  const uint64_t n = load_u64_le(bytes.data());
  if (n > file_size - 8)
    throw_format_error(path, "header length is larger than the file", 0,
                       "at most " + std::to_string(file_size - 8) + " (file size - 8)", std::to_string(n));
  if (n > kSafetensorsMaxHeader)
    throw_format_error(path, "header length exceeds the 100 MB limit", 0,
                       "at most " + std::to_string(kSafetensorsMaxHeader), std::to_string(n));
  if (n < 2 || bytes[8] != '{')
    throw_format_error(path, "header does not start with '{'", 8, "a JSON object",
                       n == 0 ? std::string("an empty header") : "byte " + std::to_string(bytes[8]));
  return n;
}

// "__metadata__": an object of strings.
std::map<std::string, std::string> read_metadata(const std::string& path, const json& value) {
  if (!value.is_object())
    throw_format_error(path, "\"__metadata__\" is not an object", kNoOffset, "object of strings", describe_json(value));
  std::map<std::string, std::string> out;
  for (const auto& [mkey, mvalue] : value.items()) {
    if (!mvalue.is_string())
      throw_format_error(path, "\"__metadata__\" value of \"" + quote_excerpt(mkey) + "\" is not a string", kNoOffset,
                         "string", describe_json(mvalue));
    out[mkey] = mvalue.get<std::string>();
  }
  return out;
}

// One tensor entry {dtype, shape, data_offsets}: its byte range must lie in the data section
// (data_size bytes from data_start) and hold exactly shape x dtype bytes.
TensorInfo read_tensor_entry(const std::string& path, const std::string& key, const json& value, uint64_t data_start,
                             uint64_t data_size) {
  const std::string where = "tensor \"" + quote_excerpt(key) + "\"";
  if (key.empty()) throw_format_error(path, "a tensor has an empty name");
  if (!value.is_object())
    throw_format_error(path, where + " entry is not an object", kNoOffset, "object", describe_json(value));
  for (const auto& [field, unused] : value.items()) {
    (void)unused;
    if (field != "dtype" && field != "shape" && field != "data_offsets")
      throw_format_error(path, where + " has an unknown field \"" + quote_excerpt(field) + "\"", kNoOffset,
                         "dtype, shape, data_offsets", quote_excerpt(field));
  }
  for (const char* field : {"dtype", "shape", "data_offsets"})
    if (!value.contains(field)) throw_format_error(path, where + " lacks the field \"" + std::string(field) + "\"");

  TensorInfo info;
  info.name = key;
  const json& jdtype = value["dtype"];
  if (!jdtype.is_string())
    throw_format_error(path, where + " dtype is not a string", kNoOffset, "string", describe_json(jdtype));
  try {
    info.dtype = dtype_from_name(jdtype.get<std::string>());
  } catch (const FormatError& e) {
    throw_format_error(path, where + ": " + e.what());
  }

  const json& jshape = value["shape"];
  if (!jshape.is_array())
    throw_format_error(path, where + " shape is not an array", kNoOffset, "array", describe_json(jshape));
  uint64_t elements = 1;
  for (const json& jdim : jshape) {
    const uint64_t dim = non_negative_int(path, where + " has a bad shape entry", jdim);
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) || !checked_mul(elements, dim, &elements))
      throw_format_error(path, where + " shape overflows 64 bits at entry " + std::to_string(info.shape.size()) + " (" +
                                   std::to_string(dim) + ")");
    info.shape.push_back(static_cast<int64_t>(dim));
  }
  uint64_t expected_bytes = 0;
  if (!checked_mul(elements, dtype_size(info.dtype), &expected_bytes))
    throw_format_error(path, where + " shape " + describe_shape(info.shape) + " times the " + dtype_name(info.dtype) +
                                 " size overflows 64 bits");

  const json& joff = value["data_offsets"];
  if (!joff.is_array() || joff.size() != 2)
    throw_format_error(path, where + " data_offsets is not a [begin, end] pair", kNoOffset, "array of 2 integers",
                       describe_json(joff));
  const uint64_t begin = non_negative_int(path, where + " has a bad data_offsets begin", joff[0]);
  const uint64_t end = non_negative_int(path, where + " has a bad data_offsets end", joff[1]);
  if (begin > end)
    throw_format_error(path, where + " data_offsets begin is after end", kNoOffset, "begin <= end",
                       "[" + std::to_string(begin) + ", " + std::to_string(end) + "]");
  if (end > data_size)
    throw_format_error(path, where + " data_offsets end is past the end of the file", kNoOffset,
                       "end <= " + std::to_string(data_size) + " (data section size)", std::to_string(end));
  if (end - begin != expected_bytes)
    throw_format_error(
        path, where + " byte range does not match its shape and dtype", kNoOffset,
        std::to_string(expected_bytes) + " bytes (" + describe_shape(info.shape) + " x " + dtype_name(info.dtype) + ")",
        std::to_string(end - begin) + " bytes");
  info.offset = data_start + begin;
  info.nbytes = expected_bytes;
  return info;
}

// Non-empty tensors must not share bytes (tensors sorted by offset).
void check_no_overlap(const std::string& path, const std::vector<TensorInfo>& tensors) {
  const TensorInfo* last = nullptr;  // the non-empty tensor reaching furthest so far
  for (const TensorInfo& t : tensors) {
    if (t.nbytes == 0) continue;
    if (last && t.offset < last->offset + last->nbytes)
      throw_format_error(
          path, "tensors \"" + quote_excerpt(last->name) + "\" and \"" + quote_excerpt(t.name) + "\" overlap", t.offset,
          "start at or after byte " + std::to_string(last->offset + last->nbytes), std::to_string(t.offset));
    if (!last || t.offset + t.nbytes > last->offset + last->nbytes) last = &t;
  }
}

}  // namespace

void SafetensorsReader::parse() {
  const uint64_t n = read_header_length(path_, bytes_);
  header_size_ = n;
  const uint64_t data_start = 8 + n;
  const uint64_t data_size = bytes_.size() - data_start;

  const auto* hbegin = reinterpret_cast<const char*>(bytes_.data() + 8);
  const json header = parse_json_strict(std::string_view(hbegin, n), path_, /*offset_base=*/8);
  if (!header.is_object()) throw_format_error(path_, "header is not a JSON object", 8, "object", header.type_name());
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      metadata_ = read_metadata(path_, value);
    } else {
      tensors_.push_back(read_tensor_entry(path_, key, value, data_start, data_size));
    }
  }
  std::stable_sort(tensors_.begin(), tensors_.end(),
                   [](const TensorInfo& a, const TensorInfo& b) { return a.offset < b.offset; });
  check_no_overlap(path_, tensors_);
  for (size_t i = 0; i < tensors_.size(); ++i) index_[tensors_[i].name] = i;
}

const TensorInfo* SafetensorsReader::find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const uint8_t* SafetensorsReader::data(const TensorInfo& info) const {
  // Reject infos from another reader rather than read out of bounds.
  if (info.offset > bytes_.size() || info.nbytes > bytes_.size() - info.offset)
    throw_format_error(path_, "tensor \"" + quote_excerpt(info.name) + "\" is not inside this file");
  return bytes_.data() + info.offset;
}

}  // namespace bitnet::formats
