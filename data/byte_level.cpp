// GPT-2 byte-level alphabet (see byte_level.h).
#include "data/byte_level.h"

namespace bitnet::data {

namespace {

std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> table{};
  uint32_t next_extra = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool self = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    table[b] = self ? b : next_extra++;
  }
  return table;
}

// Reads one UTF-8 code point at text[pos]; returns false on a malformed sequence.
bool next_code_point(std::string_view text, size_t& pos, uint32_t& cp) {
  const auto c0 = static_cast<unsigned char>(text[pos]);
  int extra;
  if (c0 < 0x80) {
    cp = c0;
    extra = 0;
  } else if ((c0 & 0xE0) == 0xC0) {
    cp = c0 & 0x1F;
    extra = 1;
  } else if ((c0 & 0xF0) == 0xE0) {
    cp = c0 & 0x0F;
    extra = 2;
  } else if ((c0 & 0xF8) == 0xF0) {
    cp = c0 & 0x07;
    extra = 3;
  } else
    return false;
  if (pos + extra >= text.size()) return false;
  for (int i = 1; i <= extra; ++i) {
    const auto c = static_cast<unsigned char>(text[pos + i]);
    if ((c & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (c & 0x3F);
  }
  pos += extra + 1;
  return true;
}

}  // namespace

const std::array<uint32_t, 256>& byte_to_code_point() {
  static const std::array<uint32_t, 256> table = make_table();
  return table;
}

std::string utf8_encode(uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return out;
}

std::string bytes_to_byte_level(std::string_view bytes) {
  const auto& table = byte_to_code_point();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += utf8_encode(table[static_cast<unsigned char>(c)]);
  return out;
}

bool byte_level_to_bytes(std::string_view text, std::string& bytes) {
  // Inverse table over the 324 code points the alphabet uses (0..0x143).
  static const std::array<int16_t, 0x144> inverse = [] {
    std::array<int16_t, 0x144> inv{};
    inv.fill(-1);
    const auto& table = byte_to_code_point();
    for (int b = 0; b < 256; ++b) inv[table[b]] = static_cast<int16_t>(b);
    return inv;
  }();
  size_t pos = 0;
  while (pos < text.size()) {
    uint32_t cp = 0;
    if (!next_code_point(text, pos, cp)) return false;
    if (cp >= inverse.size() || inverse[cp] < 0) return false;
    bytes.push_back(static_cast<char>(inverse[cp]));
  }
  return true;
}

}  // namespace bitnet::data
