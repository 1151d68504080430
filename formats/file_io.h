// Whole-file reading with errors that name the path (readers parse from memory after this).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bitnet::formats {

// Reads the whole regular file at path. Throws FormatError if it cannot be opened or read.
std::vector<uint8_t> read_file_bytes(const std::string& path);

// Little-endian loads from a byte span (callers check bounds first).
uint16_t load_u16_le(const uint8_t* p);
uint32_t load_u32_le(const uint8_t* p);
uint64_t load_u64_le(const uint8_t* p);

// Overflow-checked arithmetic on sizes read from files: false when the result does not fit.
bool checked_mul(uint64_t a, uint64_t b, uint64_t* out);
bool checked_add(uint64_t a, uint64_t b, uint64_t* out);

}  // namespace bitnet::formats
