// Validating GGUF reader. A Cursor reads little-endian fields and checks every length against
// the bytes that remain before anything is allocated, so a hostile file cannot make us allocate
// more than its own size or read past its end.
#include <algorithm>
#include <cstring>

#include "formats/file_io.h"
#include "formats/gguf.h"

namespace bitnet::formats {

namespace {

class Cursor {
 public:
  Cursor(const std::vector<uint8_t>& bytes, const std::string& path) : bytes_(bytes), path_(path) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return bytes_.size() - pos_; }

  void need(uint64_t n, const std::string& what) const {
    if (n > remaining())
      throw_format_error(path_, "file ends inside " + what, pos_, std::to_string(n) + " more bytes",
                         std::to_string(remaining()));
  }

  template <typename T>
  T scalar(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));  // little-endian host, as in the writer
    pos_ += sizeof(T);
    return v;
  }

  std::string str(const std::string& what) {
    const uint64_t at = pos_;
    const uint64_t n = scalar<uint64_t>(what + " length");
    if (n > remaining())
      throw_format_error(path_, what + " length runs past the end of the file", at,
                         "at most " + std::to_string(remaining()), std::to_string(n));
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<size_t>(n));
    pos_ += n;
    return s;
  }

  // An element count whose elements take at least min_size bytes each must fit in what is left.
  uint64_t count(const std::string& what, uint64_t min_size) {
    const uint64_t at = pos_;
    const uint64_t n = scalar<uint64_t>(what);
    if (n > remaining() / min_size)
      throw_format_error(path_, what + " is larger than the file can hold", at,
                         "at most " + std::to_string(remaining() / min_size), std::to_string(n));
    return n;
  }

  [[noreturn]] void fail(const std::string& problem, uint64_t at, const std::string& expected = {},
                         const std::string& found = {}) const {
    throw_format_error(path_, problem, at, expected, found);
  }

 private:
  const std::vector<uint8_t>& bytes_;
  const std::string& path_;
  uint64_t pos_ = 0;
};

size_t scalar_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8:
    case GgufValueType::INT8:
    case GgufValueType::BOOL:
      return 1;
    case GgufValueType::UINT16:
    case GgufValueType::INT16:
      return 2;
    case GgufValueType::UINT32:
    case GgufValueType::INT32:
    case GgufValueType::FLOAT32:
      return 4;
    case GgufValueType::UINT64:
    case GgufValueType::INT64:
    case GgufValueType::FLOAT64:
      return 8;
    case GgufValueType::STRING:
      return 8;  // at least its length field
    case GgufValueType::ARRAY:
      return 0;
  }
  return 0;
}

template <typename T>
GgufValue read_array(Cursor& c, uint64_t n, const std::string& what) {
  std::vector<T> v;
  v.reserve(static_cast<size_t>(n));  // n was bounded by the remaining bytes
  for (uint64_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<T, std::string>)
      v.push_back(c.str(what + " element"));
    else if constexpr (std::is_same_v<T, bool>)
      v.push_back(c.scalar<int8_t>(what) != 0);
    else
      v.push_back(c.scalar<T>(what));
  }
  return GgufValue{std::move(v)};
}

GgufValue read_value(Cursor& c, GgufValueType type, bool is_array, const std::string& what) {
  uint64_t n = 1;
  if (is_array) n = c.count(what + " array length", std::max<size_t>(scalar_size(type), 1));
  switch (type) {
    case GgufValueType::UINT8:
      return is_array ? read_array<uint8_t>(c, n, what) : GgufValue{c.scalar<uint8_t>(what)};
    case GgufValueType::INT8:
      return is_array ? read_array<int8_t>(c, n, what) : GgufValue{c.scalar<int8_t>(what)};
    case GgufValueType::UINT16:
      return is_array ? read_array<uint16_t>(c, n, what) : GgufValue{c.scalar<uint16_t>(what)};
    case GgufValueType::INT16:
      return is_array ? read_array<int16_t>(c, n, what) : GgufValue{c.scalar<int16_t>(what)};
    case GgufValueType::UINT32:
      return is_array ? read_array<uint32_t>(c, n, what) : GgufValue{c.scalar<uint32_t>(what)};
    case GgufValueType::INT32:
      return is_array ? read_array<int32_t>(c, n, what) : GgufValue{c.scalar<int32_t>(what)};
    case GgufValueType::FLOAT32:
      return is_array ? read_array<float>(c, n, what) : GgufValue{c.scalar<float>(what)};
    case GgufValueType::BOOL:
      return is_array ? read_array<bool>(c, n, what) : GgufValue{c.scalar<int8_t>(what) != 0};
    case GgufValueType::STRING:
      return is_array ? read_array<std::string>(c, n, what) : GgufValue{c.str(what)};
    case GgufValueType::UINT64:
      return is_array ? read_array<uint64_t>(c, n, what) : GgufValue{c.scalar<uint64_t>(what)};
    case GgufValueType::INT64:
      return is_array ? read_array<int64_t>(c, n, what) : GgufValue{c.scalar<int64_t>(what)};
    case GgufValueType::FLOAT64:
      return is_array ? read_array<double>(c, n, what) : GgufValue{c.scalar<double>(what)};
    case GgufValueType::ARRAY:
      break;
  }
  throw FormatError("unreachable GGUF value type");
}

bool known_value_type(uint32_t t) {
  return t <= static_cast<uint32_t>(GgufValueType::FLOAT64);
}

}  // namespace

GgufReader GgufReader::open(const std::string& path) {
  return from_bytes(read_file_bytes(path), path);
}

GgufReader GgufReader::from_bytes(std::vector<uint8_t> bytes, const std::string& name) {
  GgufReader r;
  r.path_ = name;
  r.bytes_ = std::move(bytes);
  r.parse();
  return r;
}

namespace {

// The magic and the version (2 or 3).
uint32_t read_magic_and_version(Cursor& c, const std::vector<uint8_t>& bytes) {
  c.need(4, "the magic");
  if (std::memcmp(bytes.data(), "GGUF", 4) != 0) {
    std::string found;
    for (int i = 0; i < 4; ++i) found += (bytes[i] >= 32 && bytes[i] < 127) ? static_cast<char>(bytes[i]) : '?';
    c.fail("not a GGUF file (bad magic)", 0, "\"GGUF\"", "\"" + found + "\"");
  }
  c.scalar<uint32_t>("the magic");
  const uint32_t version = c.scalar<uint32_t>("the version");
  if (version != 2 && version != 3) c.fail("unsupported GGUF version", 4, "2 or 3", std::to_string(version));
  return version;
}

// The typed value after a key (arrays of arrays refused).
GgufValue read_kv_value(Cursor& c, const std::string& key) {
  const std::string what = "the value of \"" + key + "\"";
  const uint64_t type_at = c.pos();
  uint32_t type = c.scalar<uint32_t>(what + " type");
  bool is_array = false;
  if (type == static_cast<uint32_t>(GgufValueType::ARRAY)) {
    is_array = true;
    type = c.scalar<uint32_t>(what + " array type");
    if (type == static_cast<uint32_t>(GgufValueType::ARRAY))
      c.fail(what + " is a nested array, which GGUF readers do not support", type_at);
  }
  if (!known_value_type(type)) c.fail(what + " has an unknown value type", type_at, "0..12", std::to_string(type));
  return read_value(c, static_cast<GgufValueType>(type), is_array, what);
}

// Tensor info i: name, dimensions, type (its byte size computed with overflow checks) and its data
// offset relative to the data section, which must be a multiple of `alignment`.
GgufTensorInfo read_tensor_info(Cursor& c, uint64_t i, uint32_t alignment, uint64_t* relative_offset) {
  const uint64_t at = c.pos();
  GgufTensorInfo info;
  info.name = c.str("tensor name " + std::to_string(i));
  const std::string where = "tensor \"" + info.name + "\"";
  if (info.name.empty()) c.fail("tensor " + std::to_string(i) + " has an empty name", at);
  if (info.name.size() > kGgufMaxNameLength)
    c.fail(where + " name is too long", at, "at most " + std::to_string(kGgufMaxNameLength) + " bytes",
           std::to_string(info.name.size()));
  const uint64_t dims_at = c.pos();
  const uint32_t n_dims = c.scalar<uint32_t>(where + " dimension count");
  if (n_dims == 0 || n_dims > kGgufMaxDims)
    c.fail(where + " has a bad number of dimensions", dims_at, "1 to 4", std::to_string(n_dims));
  for (uint32_t d = 0; d < n_dims; ++d) {
    const uint64_t dim_at = c.pos();
    const int64_t dim = c.scalar<int64_t>(where + " dimensions");
    if (dim < 0) c.fail(where + " has a negative dimension", dim_at, ">= 0", std::to_string(dim));
    info.ne.push_back(dim);
  }
  const uint64_t type_at = c.pos();
  const uint32_t type = c.scalar<uint32_t>(where + " type");
  info.type = static_cast<GgmlType>(type);
  try {
    info.nbytes = ggml_tensor_bytes(info.type, info.ne);
  } catch (const FormatError& e) {
    c.fail(where + ": " + e.what(), type_at);
  }
  const uint64_t off_at = c.pos();
  *relative_offset = c.scalar<uint64_t>(where + " offset");
  if (*relative_offset % alignment != 0)
    c.fail(where + " data offset is not aligned", off_at, "a multiple of " + std::to_string(alignment),
           std::to_string(*relative_offset));
  return info;
}

// Non-empty tensors must not share bytes.
void check_no_overlap(Cursor& c, const std::vector<GgufTensorInfo>& tensors) {
  std::vector<const GgufTensorInfo*> by_offset;
  for (const auto& t : tensors)
    if (t.nbytes > 0) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  const GgufTensorInfo* furthest = nullptr;  // the tensor reaching furthest so far
  for (const GgufTensorInfo* cur : by_offset) {
    if (furthest && cur->offset < furthest->offset + furthest->nbytes)
      c.fail("tensors \"" + furthest->name + "\" and \"" + cur->name + "\" overlap", cur->offset,
             "start at or after byte " + std::to_string(furthest->offset + furthest->nbytes),
             std::to_string(cur->offset));
    if (!furthest || cur->offset + cur->nbytes > furthest->offset + furthest->nbytes) furthest = cur;
  }
}

}  // namespace

void GgufReader::parse() {
  Cursor c(bytes_, path_);
  version_ = read_magic_and_version(c, bytes_);
  // Each tensor info takes >= 24 bytes (name length, n_dims, type, offset); each KV >= 13.
  const uint64_t n_tensors = c.count("the tensor count", 24);
  const uint64_t n_kv = c.count("the key/value count", 13);

  kvs_.reserve(static_cast<size_t>(n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) {
    const uint64_t at = c.pos();
    std::string key = c.str("key " + std::to_string(i));
    if (key.empty()) c.fail("key " + std::to_string(i) + " is empty", at);
    if (kv_index_.count(key)) c.fail("duplicate key \"" + key + "\"", at);
    GgufValue value = read_kv_value(c, key);
    kv_index_[key] = kvs_.size();
    kvs_.emplace_back(std::move(key), std::move(value));
  }

  if (const GgufValue* a = find_kv("general.alignment")) {
    const uint32_t* v = std::get_if<uint32_t>(a);
    if (!v) c.fail("general.alignment must be UINT32", kNoOffset, "UINT32", describe_type(*a));
    if (*v == 0 || (*v & (*v - 1)) != 0)
      c.fail("general.alignment is not a power of two", kNoOffset, "a power of two", std::to_string(*v));
    alignment_ = *v;
  }

  tensors_.reserve(static_cast<size_t>(n_tensors));
  std::vector<uint64_t> relative_offsets(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    const uint64_t at = c.pos();
    GgufTensorInfo info = read_tensor_info(c, i, alignment_, &relative_offsets[static_cast<size_t>(i)]);
    if (tensor_index_.count(info.name)) c.fail("duplicate tensor \"" + info.name + "\"", at);
    tensor_index_[info.name] = tensors_.size();
    tensors_.push_back(std::move(info));
  }

  // The data section starts at the next multiple of the alignment.
  const uint64_t end_of_infos = c.pos();
  data_offset_ = end_of_infos + (alignment_ - end_of_infos % alignment_) % alignment_;
  const uint64_t file_size = bytes_.size();
  if (n_tensors > 0 && data_offset_ > file_size)
    c.fail("file ends before the tensor data section", end_of_infos,
           "at least " + std::to_string(data_offset_) + " bytes", std::to_string(file_size));
  const uint64_t data_size = n_tensors > 0 ? file_size - data_offset_ : 0;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    GgufTensorInfo& t = tensors_[i];
    const uint64_t rel = relative_offsets[i];
    if (rel > data_size || t.nbytes > data_size - rel)
      c.fail("tensor \"" + t.name + "\" data lies outside the file", kNoOffset,
             "end <= " + std::to_string(data_size) + " (data section size)",
             "offset " + std::to_string(rel) + " + " + std::to_string(t.nbytes) + " bytes");
    t.offset = data_offset_ + rel;
  }
  check_no_overlap(c, tensors_);
}

const GgufValue* GgufReader::find_kv(const std::string& key) const {
  const auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second].second;
}

const GgufTensorInfo* GgufReader::find(const std::string& name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const uint8_t* GgufReader::data(const GgufTensorInfo& info) const {
  if (info.offset > bytes_.size() || info.nbytes > bytes_.size() - info.offset)
    throw_format_error(path_, "tensor \"" + info.name + "\" is not inside this file");
  return bytes_.data() + info.offset;
}

}  // namespace bitnet::formats
