// safetensors: round trips of every dtype, a golden file whose bytes are written out by hand, and
// hand-built broken files that must each give a FormatError naming the problem.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "formats/dtype.h"
#include "formats/safetensors.h"
#include "tests/support/temp_dir.h"

namespace bitnet::formats {
namespace {

std::vector<uint8_t> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// An 8-byte little-endian length, the header text, then data_size bytes (value i & 0xFF).
std::vector<uint8_t> build(const std::string& header, size_t data_size, uint64_t length = UINT64_MAX) {
  if (length == UINT64_MAX) length = header.size();
  std::vector<uint8_t> bytes;
  for (int b = 0; b < 8; ++b) bytes.push_back(static_cast<uint8_t>(length >> (8 * b)));
  bytes.insert(bytes.end(), header.begin(), header.end());
  for (size_t i = 0; i < data_size; ++i) bytes.push_back(static_cast<uint8_t>(i));
  return bytes;
}

// Parses and expects a FormatError whose message contains every needle and the file name.
void expect_error(const std::vector<uint8_t>& bytes, std::initializer_list<const char*> needles) {
  try {
    SafetensorsReader::from_bytes(bytes, "bad.safetensors");
    ADD_FAILURE() << "expected a FormatError";
  } catch (const FormatError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bad.safetensors"), std::string::npos) << msg;
    for (const char* n : needles) EXPECT_NE(msg.find(n), std::string::npos) << "missing '" << n << "' in: " << msg;
  }
}

TEST(Safetensors, RoundTripEveryDType) {
  testing::TempDir dir;
  const DType all[] = {DType::BOOL, DType::F16, DType::F64, DType::I8,  DType::F32,
                       DType::BF16, DType::I64, DType::U8,  DType::I32, DType::I16};
  std::mt19937 rng(1);
  std::vector<std::vector<uint8_t>> buffers;
  std::vector<TensorToWrite> tensors;
  for (DType d : all) {
    std::vector<int64_t> shape = {3, 5};
    std::vector<uint8_t> buf(15 * dtype_size(d));
    for (auto& b : buf) b = static_cast<uint8_t>(rng());
    buffers.push_back(std::move(buf));
    tensors.push_back({std::string("t.") + dtype_name(d), d, shape, buffers.back().data(), buffers.back().size()});
  }
  const float scalar = 3.5f;
  tensors.push_back({"scalar", DType::F32, {}, &scalar, 4});
  tensors.push_back({"empty", DType::F16, {0, 7}, nullptr, 0});
  const std::string path = dir.file("all.safetensors");
  write_safetensors(path, tensors, {{"format", "pt"}, {"step", "12"}});

  const auto reader = SafetensorsReader::open(path);
  EXPECT_EQ(reader.path(), path);
  EXPECT_EQ(reader.metadata().size(), 2u);
  EXPECT_EQ(reader.metadata().at("step"), "12");
  EXPECT_EQ((8 + reader.header_size()) % 8, 0u);
  ASSERT_EQ(reader.tensors().size(), tensors.size());
  for (const TensorToWrite& t : tensors) {
    const TensorInfo* info = reader.find(t.name);
    ASSERT_NE(info, nullptr) << t.name;
    EXPECT_EQ(info->dtype, t.dtype);
    EXPECT_EQ(info->shape, t.shape);
    EXPECT_EQ(info->nbytes, t.nbytes);
    EXPECT_EQ(info->offset % dtype_size(t.dtype), 0u) << t.name << " is not naturally aligned";
    if (t.nbytes) {
      EXPECT_EQ(std::memcmp(reader.data(*info), t.data, t.nbytes), 0) << t.name;
    }
  }
  EXPECT_EQ(reader.find("missing"), nullptr);
  // Offsets are contiguous from the data start and end at the end of the file (no gaps).
  uint64_t expect_offset = 8 + reader.header_size();
  for (const TensorInfo& info : reader.tensors()) {
    EXPECT_EQ(info.offset, expect_offset) << info.name;
    expect_offset += info.nbytes;
  }
  EXPECT_EQ(expect_offset, std::filesystem::file_size(path));
}

TEST(Safetensors, SameDTypeKeepsGivenOrder) {
  testing::TempDir dir;
  const float a[2] = {1, 2}, b[1] = {3}, c[3] = {4, 5, 6};
  write_safetensors(dir.file("o.safetensors"),
                    {{"z", DType::F32, {2}, a, 8}, {"a", DType::F32, {1}, b, 4}, {"m", DType::F32, {3}, c, 12}});
  const auto r = SafetensorsReader::open(dir.file("o.safetensors"));
  ASSERT_EQ(r.tensors().size(), 3u);
  EXPECT_EQ(r.tensors()[0].name, "z");
  EXPECT_EQ(r.tensors()[1].name, "a");
  EXPECT_EQ(r.tensors()[2].name, "m");
}

// The golden file, byte by byte: a F32 [2] tensor "a" = {1, -2}, then U8 [3] "b" = {1, 2, 3},
// metadata {"format": "pt"}.
TEST(Safetensors, GoldenFileBytesWrittenByHand) {
  const std::string header = R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}})";
  // The JSON above is 32 + 53 + 53 = 138 bytes; 8 + 138 = 146, so 6 spaces pad the data start
  // to byte 152 and the length field says 144.
  ASSERT_EQ(header.size(), 138u);
  std::vector<uint8_t> expected = {144, 0, 0, 0, 0, 0, 0, 0};
  expected.insert(expected.end(), header.begin(), header.end());
  expected.insert(expected.end(), 6, ' ');
  const uint8_t data[] = {0x00, 0x00, 0x80, 0x3F,  // 1.0f  = 0x3F800000 little-endian
                          0x00, 0x00, 0x00, 0xC0,  // -2.0f = 0xC0000000
                          0x01, 0x02, 0x03};
  expected.insert(expected.end(), data, data + sizeof(data));

  testing::TempDir dir;
  const float a[2] = {1.0f, -2.0f};
  const uint8_t b[3] = {1, 2, 3};
  write_safetensors(dir.file("g.safetensors"), {{"a", DType::F32, {2}, a, 8}, {"b", DType::U8, {3}, b, 3}},
                    {{"format", "pt"}});
  EXPECT_EQ(slurp(dir.file("g.safetensors")), expected);

  const auto r = SafetensorsReader::from_bytes(expected, "golden");
  const TensorInfo* ta = r.find("a");
  ASSERT_NE(ta, nullptr);
  EXPECT_EQ(ta->offset, 152u);
  float got[2];
  std::memcpy(got, r.data(*ta), 8);
  EXPECT_EQ(got[0], 1.0f);
  EXPECT_EQ(got[1], -2.0f);
  EXPECT_EQ(r.find("b")->offset, 160u);
  EXPECT_EQ(r.data(*r.find("b"))[2], 3);
  EXPECT_EQ(r.metadata().at("format"), "pt");
}

TEST(SafetensorsBad, TooShort) {
  expect_error({1, 2, 3}, {"too short", "3 bytes"});
  expect_error({}, {"too short"});
}

TEST(SafetensorsBad, HeaderLengthLargerThanFile) {
  expect_error(build("{}", 0, 3), {"header length is larger than the file", "found 3"});
  expect_error(build("{}", 0, UINT64_MAX - 1), {"header length is larger than the file"});
}

TEST(SafetensorsBad, HeaderLengthOverLimit) {
  std::vector<uint8_t> bytes(8 + 100'000'008, ' ');
  const uint64_t n = 100'000'008;
  for (int b = 0; b < 8; ++b) bytes[b] = static_cast<uint8_t>(n >> (8 * b));
  bytes[8] = '{';
  expect_error(bytes, {"100 MB"});
}

TEST(SafetensorsBad, HeaderNotAnObject) {
  expect_error(build("[1, 2, 3]", 0), {"does not start with '{'"});
  expect_error(build("", 0), {"empty header"});
  expect_error(build("{\"a\": ", 0), {"not valid JSON"});
  expect_error(build("{} x", 0), {"not valid JSON"});
}

TEST(SafetensorsBad, OffsetsPastEnd) {
  expect_error(build(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 12),
               {"\"w\"", "past the end", "end <= 12", "found 16"});
}

TEST(SafetensorsBad, TruncatedFile) {
  testing::TempDir dir;
  const float w[4] = {1, 2, 3, 4};
  const std::string path = dir.file("t.safetensors");
  write_safetensors(path, {{"w", DType::F32, {4}, w, 16}});
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 3);
  try {
    SafetensorsReader::open(path);
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("past the end"), std::string::npos) << e.what();
  }
  EXPECT_THROW(SafetensorsReader::open(dir.file("absent.safetensors")), FormatError);
}

TEST(SafetensorsBad, Overlapping) {
  expect_error(build(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                     R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                     12),
               {"\"a\" and \"b\" overlap"});
  // An enclosed range is an overlap too, even after a longer one.
  expect_error(build(R"({"a":{"dtype":"U8","shape":[10],"data_offsets":[0,10]},)"
                     R"("b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]},)"
                     R"("c":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}})",
                     10),
               {"overlap"});
}

TEST(SafetensorsBad, DuplicateNames) {
  expect_error(build(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                     R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                     2),
               {"duplicate key \"a\""});
  expect_error(build(R"({"__metadata__":{"k":"1","k":"2"}})", 0), {"duplicate key \"k\""});
}

// A header nested 100,000 levels deep (200 KB) must be refused while parsing: nlohmann's dump,
// copy and compare recurse once per level and would overflow the stack.
TEST(SafetensorsBad, DeepNestingRefused) {
  const int levels = 100'000;
  const std::string deep = R"({"__metadata__":)" + std::string(levels, '[') + std::string(levels, ']') + "}";
  expect_error(build(deep, 0), {"nest too deeply", "at most 64 levels", "level 65"});
  // 64 levels in all (the header object, "__metadata__"'s object, then 62 arrays) still parse
  // as JSON; the reader then refuses the value for its type, not for its depth.
  const std::string ok = R"({"__metadata__":{"k":)" + std::string(62, '[') + std::string(62, ']') + "}}";
  expect_error(build(ok, 0), {"\"k\" is not a string", "array of 1 element"});
}

// nlohmann throws out_of_range (not parse_error) for a number beyond double; it must still be a
// FormatError naming the file.
TEST(SafetensorsBad, NumberOutOfRange) {
  expect_error(build(R"({"w":{"dtype":"U8","shape":[1e400],"data_offsets":[0,1]}})", 1), {"not valid JSON", "1e400"});
}

// A huge key or value from the file is quoted only in part.
TEST(SafetensorsBad, MessagesQuoteAnExcerpt) {
  const std::string name(100'000, 'n');
  try {
    SafetensorsReader::from_bytes(build(R"({")" + name + R"(":{"dtype":"U8"}})", 0), "bad.safetensors");
    ADD_FAILURE() << "expected a FormatError";
  } catch (const FormatError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("lacks the field"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(100000 bytes)"), std::string::npos) << msg;
    EXPECT_LT(msg.size(), 400u);
  }
  const std::string unterminated = R"({"w":")" + std::string(100'000, 'x');
  try {
    SafetensorsReader::from_bytes(build(unterminated, 0), "bad.safetensors");
    ADD_FAILURE() << "expected a FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
    EXPECT_LT(std::string(e.what()).size(), 400u);
  }
}

TEST(SafetensorsBad, ShapeProductMismatch) {
  expect_error(build(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", 24),
               {"\"w\"", "does not match its shape", "24 bytes", "found 20 bytes"});
}

TEST(SafetensorsBad, ShapeOverflow) {
  expect_error(build(R"({"w":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", 0), {"overflows"});
  expect_error(build(R"({"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})", 0),
               {"F32 size overflows"});
  expect_error(build(R"({"w":{"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,0]}})", 0), {"overflows"});
  expect_error(build(R"({"w":{"dtype":"U8","shape":[1e30],"data_offsets":[0,0]}})", 0),
               {"bad shape entry", "non-negative integer"});
}

TEST(SafetensorsBad, UnknownDType) {
  expect_error(build(R"({"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", 1),
               {"\"w\"", "unknown dtype \"F8_E4M3\""});
  expect_error(build(R"({"w":{"dtype":7,"shape":[1],"data_offsets":[0,1]}})", 1), {"dtype is not a string"});
}

TEST(SafetensorsBad, FieldProblems) {
  expect_error(build(R"({"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}})", 0),
               {"bad shape entry", "non-negative integer", "-1"});
  expect_error(build(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}})", 1), {"begin is after end"});
  expect_error(build(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0]}})", 1), {"[begin, end] pair"});
  expect_error(build(R"({"w":{"dtype":"U8","shape":[1]}})", 1), {"lacks the field \"data_offsets\""});
  expect_error(build(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1}})", 1), {"unknown field \"x\""});
  expect_error(build(R"({"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1), {"empty name"});
  expect_error(build(R"({"w":[1]})", 1), {"entry is not an object"});
  expect_error(build(R"({"__metadata__":{"k":1}})", 0), {"\"k\" is not a string"});
  expect_error(build(R"({"__metadata__":[]})", 0), {"\"__metadata__\" is not an object"});
}

TEST(SafetensorsWrite, RejectsBadInput) {
  testing::TempDir dir;
  const float w[2] = {1, 2};
  const std::string path = dir.file("w.safetensors");
  EXPECT_THROW(write_safetensors(path, {{"w", DType::F32, {3}, w, 8}}), FormatError);
  EXPECT_THROW(write_safetensors(path, {{"w", DType::F32, {2}, w, 8}, {"w", DType::F32, {2}, w, 8}}), FormatError);
  EXPECT_THROW(write_safetensors(path, {{"", DType::F32, {2}, w, 8}}), FormatError);
  EXPECT_THROW(write_safetensors(path, {{"w", DType::F32, {-2}, w, 8}}), FormatError);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

}  // namespace
}  // namespace bitnet::formats
