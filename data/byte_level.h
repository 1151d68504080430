// The GPT-2 "byte-level" alphabet used by byte-level BPE tokenizers: every byte gets a printable
// Unicode character so that vocabularies can be stored as text. Bytes 0x21..0x7E, 0xA1..0xAC and
// 0xAE..0xFF stand for themselves (as code points); the other 68 bytes, in increasing order, take
// code points 256, 257, ... (so a space 0x20 is U+0120 'Ġ' and '\n' 0x0A is U+010A 'Ċ').
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace bitnet::data {

// Code point standing for each byte.
const std::array<uint32_t, 256>& byte_to_code_point();

// UTF-8 encoding of one code point (< 0x110000).
std::string utf8_encode(uint32_t code_point);

// The byte-level text of a byte string: each byte replaced by its character, UTF-8 encoded.
std::string bytes_to_byte_level(std::string_view bytes);

// The inverse: byte-level text back to bytes. Returns false if `text` is not valid UTF-8 or holds
// a character outside the byte-level alphabet.
bool byte_level_to_bytes(std::string_view text, std::string& bytes);

}  // namespace bitnet::data
