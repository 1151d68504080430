// Robustness: thousands of randomly corrupted and truncated copies of valid safetensors and GGUF
// files must each either parse or throw FormatError: never crash, hang or throw anything else.
// (Run under the address/undefined sanitizers in CI for the full value of this test.)
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "formats/ternary_pack.h"
#include "tests/support/temp_dir.h"

namespace bitnet::formats {
namespace {

std::vector<uint8_t> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

template <typename Parse>
void mutate_and_parse(const std::vector<uint8_t>& valid, Parse parse, uint32_t seed) {
  std::mt19937 rng(seed);
  int parsed = 0, rejected = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> bytes = valid;
    const int kind = round % 3;
    if (kind == 0 || kind == 2) {  // overwrite 1..4 bytes with random or extreme values
      const int n = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < n; ++i) {
        const size_t at = rng() % bytes.size();
        const uint8_t choices[] = {0x00, 0xFF, 0x7F, 0x80, static_cast<uint8_t>(rng())};
        bytes[at] = choices[rng() % 5];
      }
    }
    if (kind >= 1) bytes.resize(rng() % (bytes.size() + 1));  // truncate
    try {
      parse(bytes);
      ++parsed;
    } catch (const FormatError&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_EQ(parsed + rejected, 3000);
}

TEST(ReaderMutations, Safetensors) {
  testing::TempDir dir;
  const float a[6] = {1, 2, 3, 4, 5, 6};
  const uint16_t h[2] = {1, 2};
  write_safetensors(dir.file("m.safetensors"), {{"a", DType::F32, {2, 3}, a, 24}, {"h", DType::F16, {2}, h, 4}},
                    {{"k", "v"}});
  mutate_and_parse(
      slurp(dir.file("m.safetensors")),
      [](std::vector<uint8_t> b) { SafetensorsReader::from_bytes(std::move(b), "m"); }, 11);
}

TEST(ReaderMutations, Gguf) {
  testing::TempDir dir;
  GgufWriter w;
  w.set("general.architecture", "bitnet");
  w.set("tokens", GgufValue{std::vector<std::string>{"a", "b"}});
  w.set("n", GgufValue{uint32_t{7}});
  std::vector<int8_t> trits(256, 1);
  const auto tq = pack_tq2_0(trits.data(), 1, 256);
  const float s = 0.5f;
  w.add_tensor({"w", GgmlType::TQ2_0, {256, 1}, tq.data(), tq.size()});
  w.add_tensor({"w.scale", GgmlType::F32, {1}, &s, 4});
  w.write(dir.file("m.gguf"));
  mutate_and_parse(
      slurp(dir.file("m.gguf")), [](std::vector<uint8_t> b) { GgufReader::from_bytes(std::move(b), "m"); }, 12);
}

}  // namespace
}  // namespace bitnet::formats
