// GGUF: a golden file written out byte by byte, a write->read round trip of every value type and
// tensor type, and hand-built broken files that must each give a FormatError naming the problem.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>

#include "formats/gguf.h"
#include "formats/q8_0.h"
#include "formats/ternary_pack.h"
#include "tests/support/temp_dir.h"

namespace bitnet::formats {
namespace {

std::vector<uint8_t> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// Little-endian byte builder for hand-made files.
struct Bytes {
  std::vector<uint8_t> b;
  Bytes& raw(std::initializer_list<uint8_t> v) {
    b.insert(b.end(), v);
    return *this;
  }
  Bytes& u(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  Bytes& u32(uint32_t v) { return u(v, 4); }
  Bytes& u64(uint64_t v) { return u(v, 8); }
  Bytes& str(const std::string& s) {
    u64(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
  Bytes& header(uint64_t n_tensors, uint64_t n_kv) {
    raw({'G', 'G', 'U', 'F'});
    u32(3);
    u64(n_tensors);
    return u64(n_kv);
  }
  // A tensor info: name, dims, type, offset.
  Bytes& info(const std::string& name, std::vector<int64_t> ne, uint32_t type, uint64_t offset) {
    str(name);
    u32(static_cast<uint32_t>(ne.size()));
    for (int64_t d : ne) u64(static_cast<uint64_t>(d));
    u32(type);
    return u64(offset);
  }
  Bytes& pad(size_t alignment) {
    while (b.size() % alignment) b.push_back(0);
    return *this;
  }
};

void expect_error(const std::vector<uint8_t>& bytes, std::initializer_list<const char*> needles) {
  try {
    GgufReader::from_bytes(bytes, "bad.gguf");
    ADD_FAILURE() << "expected a FormatError";
  } catch (const FormatError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bad.gguf"), std::string::npos) << msg;
    for (const char* n : needles) EXPECT_NE(msg.find(n), std::string::npos) << "missing '" << n << "' in: " << msg;
  }
}

// One UINT8 key "k" = 5 and one F32 tensor "t" = {1, 2}:
//   0..3 "GGUF" | 4..7 version 3 | 8..15 one tensor | 16..23 one KV                      -> 24
//   KV: u64 1, 'k', u32 type 0 (UINT8), value 0x05                       14 bytes         -> 38
//   info: u64 1, 't', u32 n_dims 1, i64 ne0 2, u32 type 0 (F32), u64 offset 0   33 bytes  -> 71
//   zeros to 96 (alignment 32), data 00 00 80 3F  00 00 00 40, zeros to 128.
TEST(Gguf, GoldenFileBytesWrittenByHand) {
  std::vector<uint8_t> expected = {'G', 'G', 'U', 'F', 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
  const uint8_t kv[] = {1, 0, 0, 0, 0, 0, 0, 0, 'k', 0, 0, 0, 0, 5};
  const uint8_t info[] = {1, 0, 0, 0, 0, 0, 0, 0, 't', 1, 0, 0, 0, 2, 0, 0, 0,
                          0, 0, 0, 0, 0, 0, 0, 0, 0,   0, 0, 0, 0, 0, 0, 0};
  expected.insert(expected.end(), kv, kv + sizeof(kv));
  expected.insert(expected.end(), info, info + sizeof(info));
  ASSERT_EQ(expected.size(), 71u);
  expected.resize(96, 0);
  const uint8_t data[] = {0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40};
  expected.insert(expected.end(), data, data + 8);
  expected.resize(128, 0);

  testing::TempDir dir;
  GgufWriter w;
  w.set("k", GgufValue{uint8_t{5}});
  const float t[2] = {1.0f, 2.0f};
  w.add_tensor({"t", GgmlType::F32, {2}, t, 8});
  w.write(dir.file("g.gguf"));
  EXPECT_EQ(slurp(dir.file("g.gguf")), expected);

  const auto r = GgufReader::from_bytes(expected, "golden");
  EXPECT_EQ(r.version(), 3u);
  EXPECT_EQ(r.data_offset(), 96u);
  EXPECT_EQ(r.get<uint8_t>("k"), 5);
  ASSERT_NE(r.find("t"), nullptr);
  EXPECT_EQ(r.find("t")->offset, 96u);
  float got[2];
  std::memcpy(got, r.data(*r.find("t")), 8);
  EXPECT_EQ(got[1], 2.0f);
}

TEST(Gguf, RoundTripEveryValueAndTensorType) {
  testing::TempDir dir;
  GgufWriter w;
  w.set("general.architecture", "bitnet");
  w.set("u8", GgufValue{uint8_t{200}});
  w.set("i8", GgufValue{int8_t{-100}});
  w.set("u16", GgufValue{uint16_t{60000}});
  w.set("i16", GgufValue{int16_t{-30000}});
  w.set("u32", GgufValue{uint32_t{4000000000u}});
  w.set("i32", GgufValue{int32_t{-2000000000}});
  w.set("f32", GgufValue{1.5f});
  w.set("bool", GgufValue{true});
  w.set("u64", GgufValue{uint64_t{1} << 60});
  w.set("i64", GgufValue{int64_t{-(int64_t{1} << 60)}});
  w.set("f64", GgufValue{-2.25});
  w.set("a.u8", GgufValue{std::vector<uint8_t>{1, 2, 3}});
  w.set("a.i8", GgufValue{std::vector<int8_t>{-1, 2}});
  w.set("a.u16", GgufValue{std::vector<uint16_t>{7}});
  w.set("a.i16", GgufValue{std::vector<int16_t>{-7, 8}});
  w.set("a.u32", GgufValue{std::vector<uint32_t>{}});
  w.set("a.i32", GgufValue{std::vector<int32_t>{-5, 6, 7}});
  w.set("a.f32", GgufValue{std::vector<float>{0.5f, -0.25f}});
  w.set("a.bool", GgufValue{std::vector<bool>{true, false, true}});
  w.set("tokenizer.ggml.tokens", GgufValue{std::vector<std::string>{"<s>", "", "héllo", std::string("a\0b", 3)}});
  w.set("a.u64", GgufValue{std::vector<uint64_t>{UINT64_MAX}});
  w.set("a.i64", GgufValue{std::vector<int64_t>{INT64_MIN}});
  w.set("a.f64", GgufValue{std::vector<double>{1e300}});
  w.set("general.alignment", GgufValue{uint32_t{64}});
  w.set("u8", GgufValue{uint8_t{201}});  // replacing keeps one entry

  std::mt19937 rng(3);
  std::vector<float> emb(64 * 3);
  for (auto& v : emb) v = std::uniform_real_distribution<float>(-1, 1)(rng);
  const auto q8 = quantize_q8_0(emb.data(), static_cast<int64_t>(emb.size()));
  std::vector<int8_t> trits(512 * 3);
  for (auto& t : trits) t = static_cast<int8_t>(static_cast<int>(rng() % 3) - 1);
  const auto tq1 = pack_tq1_0(trits.data(), 3, 512);
  const auto tq2 = pack_tq2_0(trits.data(), 3, 512);
  const std::vector<uint16_t> f16 = {0x3C00, 0xC000, 0x7BFF};
  const float scale = 0.0421875f;
  w.add_tensor({"token_embd.weight", GgmlType::Q8_0, {64, 3}, q8.data(), q8.size()});
  w.add_tensor({"blk.0.attn_q.weight", GgmlType::TQ1_0, {512, 3}, tq1.data(), tq1.size()});
  w.add_tensor({"blk.0.attn_k.weight", GgmlType::TQ2_0, {512, 3}, tq2.data(), tq2.size()});
  w.add_tensor({"blk.0.attn_q.scale", GgmlType::F32, {1}, &scale, 4});
  w.add_tensor({"output_norm.weight", GgmlType::F16, {3}, f16.data(), 6});
  w.add_tensor({"empty", GgmlType::F32, {0, 4}, nullptr, 0});
  EXPECT_EQ(w.alignment(), 64u);
  const std::string path = dir.file("rt.gguf");
  w.write(path);

  const auto r = GgufReader::open(path);
  EXPECT_EQ(r.alignment(), 64u);
  EXPECT_EQ(r.data_offset() % 64, 0u);
  EXPECT_EQ(r.kvs().size(), 25u);
  EXPECT_EQ(r.kvs()[0].first, "general.architecture");
  EXPECT_EQ(r.get<std::string>("general.architecture"), "bitnet");
  EXPECT_EQ(r.get<uint8_t>("u8"), 201);
  EXPECT_EQ(r.get<int8_t>("i8"), -100);
  EXPECT_EQ(r.get<uint16_t>("u16"), 60000);
  EXPECT_EQ(r.get<int16_t>("i16"), -30000);
  EXPECT_EQ(r.get<uint32_t>("u32"), 4000000000u);
  EXPECT_EQ(r.get<int32_t>("i32"), -2000000000);
  EXPECT_EQ(r.get<float>("f32"), 1.5f);
  EXPECT_EQ(r.get<bool>("bool"), true);
  EXPECT_EQ(r.get<uint64_t>("u64"), uint64_t{1} << 60);
  EXPECT_EQ(r.get<int64_t>("i64"), -(int64_t{1} << 60));
  EXPECT_EQ(r.get<double>("f64"), -2.25);
  EXPECT_EQ(r.get<std::vector<uint8_t>>("a.u8"), (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(r.get<std::vector<int8_t>>("a.i8"), (std::vector<int8_t>{-1, 2}));
  EXPECT_EQ(r.get<std::vector<uint16_t>>("a.u16"), (std::vector<uint16_t>{7}));
  EXPECT_EQ(r.get<std::vector<int16_t>>("a.i16"), (std::vector<int16_t>{-7, 8}));
  EXPECT_TRUE(r.get<std::vector<uint32_t>>("a.u32").empty());
  EXPECT_EQ(r.get<std::vector<int32_t>>("a.i32"), (std::vector<int32_t>{-5, 6, 7}));
  EXPECT_EQ(r.get<std::vector<float>>("a.f32"), (std::vector<float>{0.5f, -0.25f}));
  EXPECT_EQ(r.get<std::vector<bool>>("a.bool"), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(r.get<std::vector<std::string>>("tokenizer.ggml.tokens"),
            (std::vector<std::string>{"<s>", "", "héllo", std::string("a\0b", 3)}));
  EXPECT_EQ(r.get<std::vector<uint64_t>>("a.u64"), (std::vector<uint64_t>{UINT64_MAX}));
  EXPECT_EQ(r.get<std::vector<int64_t>>("a.i64"), (std::vector<int64_t>{INT64_MIN}));
  EXPECT_EQ(r.get<std::vector<double>>("a.f64"), (std::vector<double>{1e300}));
  EXPECT_EQ(r.get<uint32_t>("general.alignment"), 64u);
  EXPECT_THROW(r.get<uint32_t>("u8"), FormatError);
  EXPECT_THROW(r.get<uint32_t>("missing"), FormatError);

  ASSERT_EQ(r.tensors().size(), 6u);
  for (const auto& t : r.tensors()) EXPECT_EQ((t.offset - r.data_offset()) % 64, 0u) << t.name;
  const auto* q = r.find("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->type, GgmlType::TQ1_0);
  EXPECT_EQ(q->ne, (std::vector<int64_t>{512, 3}));
  std::vector<int8_t> back(trits.size());
  unpack_tq1_0(r.data(*q), q->nbytes, 3, 512, back.data());
  EXPECT_EQ(back, trits);
  const auto* k = r.find("blk.0.attn_k.weight");
  unpack_tq2_0(r.data(*k), k->nbytes, 3, 512, back.data());
  EXPECT_EQ(back, trits);
  const auto* e = r.find("token_embd.weight");
  EXPECT_EQ(std::vector<uint8_t>(r.data(*e), r.data(*e) + e->nbytes), q8);
  float s = 0;
  std::memcpy(&s, r.data(*r.find("blk.0.attn_q.scale")), 4);
  EXPECT_EQ(s, scale);
  EXPECT_EQ(r.find("empty")->nbytes, 0u);
  EXPECT_EQ(r.find("nope"), nullptr);
}

TEST(GgufWrite, RejectsBadInput) {
  GgufWriter w;
  const float x[4] = {};
  EXPECT_THROW(w.add_tensor({"", GgmlType::F32, {4}, x, 16}), FormatError);
  EXPECT_THROW(w.add_tensor({std::string(64, 'n'), GgmlType::F32, {4}, x, 16}), FormatError);
  EXPECT_THROW(w.add_tensor({"a", GgmlType::F32, {4}, x, 12}), FormatError);
  EXPECT_THROW(w.add_tensor({"a", GgmlType::F32, {1, 1, 1, 1, 4}, x, 16}), FormatError);
  EXPECT_THROW(w.add_tensor({"a", GgmlType::TQ2_0, {128}, x, 33}), FormatError);
  EXPECT_THROW(w.add_tensor({"a", static_cast<GgmlType>(2), {32}, x, 18}), FormatError);
  w.add_tensor({"a", GgmlType::F32, {4}, x, 16});
  EXPECT_THROW(w.add_tensor({"a", GgmlType::F32, {4}, x, 16}), FormatError);
  EXPECT_THROW(w.set("general.alignment", GgufValue{uint32_t{48}}), FormatError);
  EXPECT_THROW(w.set("general.alignment", GgufValue{uint64_t{32}}), FormatError);
  EXPECT_THROW(w.set("", GgufValue{uint8_t{1}}), FormatError);
}

TEST(GgufBad, Magic) {
  expect_error(Bytes().raw({'G', 'G', 'U', 'X'}).u32(3).u64(0).u64(0).b, {"bad magic", "\"GGUX\""});
  expect_error({'G', 'G'}, {"file ends inside the magic"});
}

TEST(GgufBad, Version) {
  expect_error(Bytes().raw({'G', 'G', 'U', 'F'}).u32(1).u64(0).u64(0).b, {"unsupported GGUF version", "found 1"});
  expect_error(Bytes().raw({'G', 'G', 'U', 'F'}).u32(0x03000000).u64(0).u64(0).b, {"unsupported GGUF version"});
}

TEST(GgufBad, HugeCounts) {
  expect_error(Bytes().header(UINT64_MAX, 0).b, {"tensor count is larger than the file can hold"});
  expect_error(Bytes().header(0, uint64_t{1} << 40).b, {"key/value count is larger than the file can hold"});
  // An array claiming 2^40 strings in a tiny file.
  expect_error(Bytes().header(0, 1).str("k").u32(9).u32(8).u64(uint64_t{1} << 40).zeros(16).b,
               {"array length is larger than the file can hold"});
}

TEST(GgufBad, StringLengthPastEnd) {
  expect_error(Bytes().header(0, 1).u64(1000).raw({'a', 'b'}).zeros(12).b,
               {"key 0 length runs past the end", "found 1000"});
  expect_error(Bytes().header(0, 1).str("k").u32(8).u64(UINT64_MAX).b, {"\"k\" length runs past the end"});
  expect_error(Bytes().header(0, 1).str("k").u32(4).raw({1, 2}).b, {"file ends inside the value of \"k\""});
}

TEST(GgufBad, ValueTypes) {
  expect_error(Bytes().header(0, 1).str("k").u32(13).zeros(8).b, {"unknown value type", "found 13"});
  expect_error(Bytes().header(0, 1).str("k").u32(9).u32(9).u64(0).zeros(8).b, {"nested array"});
  expect_error(Bytes().header(0, 2).str("k").u32(0).raw({1}).str("k").u32(0).raw({2}).b, {"duplicate key \"k\""});
  expect_error(Bytes().header(0, 1).str("").u32(0).raw({1}).b, {"key 0 is empty"});
  expect_error(Bytes().header(0, 1).str("general.alignment").u32(10).u64(32).b, {"general.alignment must be UINT32"});
  expect_error(Bytes().header(0, 1).str("general.alignment").u32(4).u32(24).b, {"not a power of two"});
}

// A valid prefix with the given tensor infos (and no KVs), padded, then data_bytes of data.
std::vector<uint8_t> with_tensors(
    const std::vector<std::tuple<std::string, std::vector<int64_t>, uint32_t, uint64_t>>& infos, size_t data_bytes) {
  Bytes b;
  b.header(infos.size(), 0);
  for (const auto& [name, ne, type, off] : infos) b.info(name, ne, type, off);
  b.pad(32).zeros(data_bytes);
  return b.b;
}

TEST(GgufBad, TensorOffsets) {
  expect_error(with_tensors({{"w", {8}, 0, 0}}, 16), {"\"w\" data lies outside the file", "end <= 16"});
  expect_error(with_tensors({{"w", {4}, 0, uint64_t{1} << 63}}, 16), {"outside the file"});
  expect_error(with_tensors({{"a", {16}, 0, 0}, {"b", {8}, 0, 32}}, 96), {"\"a\" and \"b\" overlap"});
  expect_error(with_tensors({{"a", {64}, 0, 0}, {"b", {4}, 0, 64}, {"c", {4}, 0, 128}}, 256), {"overlap"});
  expect_error(with_tensors({{"w", {4}, 0, 16}}, 64),
               {"\"w\" data offset is not aligned", "multiple of 32", "found 16"});
  // Infos claim a data section the file does not have.
  Bytes b;
  b.header(1, 0).info("w", {4}, 0, 0);
  expect_error(b.b, {"file ends before the tensor data section"});
}

TEST(GgufBad, TensorInfos) {
  expect_error(with_tensors({{"w", {4}, 0, 0}, {"w", {4}, 0, 32}}, 64), {"duplicate tensor \"w\""});
  expect_error(with_tensors({{"w", {32}, 2, 0}}, 64), {"\"w\"", "unsupported ggml tensor type id 2"});
  expect_error(with_tensors({{"w", {4}, 99, 0}}, 64), {"unsupported ggml tensor type id 99"});
  expect_error(with_tensors({{"w", {1, 1, 1, 1, 4}, 0, 0}}, 64), {"bad number of dimensions", "1 to 4", "found 5"});
  expect_error(with_tensors({{"w", {}, 0, 0}}, 64), {"bad number of dimensions", "found 0"});
  expect_error(with_tensors({{"w", {-4}, 0, 0}}, 64), {"negative dimension"});
  expect_error(with_tensors({{"w", {int64_t{1} << 32, int64_t{1} << 32}, 0, 0}}, 64), {"overflows"});
  expect_error(with_tensors({{"w", {int64_t{1} << 62, 1}, 0, 0}}, 64), {"overflows"});
  expect_error(with_tensors({{"w", {128, 2}, 35, 0}}, 64), {"TQ2_0 stores rows in blocks of 256"});
  expect_error(with_tensors({{"", {4}, 0, 0}}, 64), {"empty name"});
  expect_error(with_tensors({{std::string(64, 'x'), {4}, 0, 0}}, 64), {"name is too long"});
  Bytes b;
  b.header(1, 0).str("w").u32(2).u64(4);  // ends inside the dimensions
  expect_error(b.b, {"file ends inside tensor \"w\" dimensions"});
}

TEST(GgufBad, TruncatedWrittenFile) {
  testing::TempDir dir;
  GgufWriter w;
  w.set("general.name", "tiny");
  const float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  w.add_tensor({"w", GgmlType::F32, {8}, x, 32});
  w.write(dir.file("t.gguf"));
  auto bytes = slurp(dir.file("t.gguf"));
  EXPECT_NO_THROW(GgufReader::from_bytes(bytes, "bad.gguf"));
  for (size_t cut : {size_t{3}, size_t{20}, size_t{40}, bytes.size() - 1}) {
    std::vector<uint8_t> part(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_THROW(GgufReader::from_bytes(part, "bad.gguf"), FormatError) << cut;
  }
}

}  // namespace
}  // namespace bitnet::formats
