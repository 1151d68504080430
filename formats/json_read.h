// Parsing JSON read from files we do not control (safetensors headers, tokenizer.json,
// config.json, JSONL lines), with one set of rules for every reader, and quoting parts of it
// in error messages without copying a huge or deeply nested value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "formats/error.h"

namespace bitnet::formats {

// Arrays and objects may nest this deep (the outermost one is level 1). Real files need fewer
// than 10 levels; nlohmann's dump(), copy and comparison recurse once per level, so a value
// nested 100,000 deep would overflow the stack long after parsing succeeded.
inline constexpr int kMaxJsonDepth = 64;

// Parses `text` as one JSON value. Throws FormatError naming `origin` (and the byte offset,
// counted from `offset_base`) when the text is not valid JSON (including numbers out of range,
// such as 1e400), nests arrays/objects deeper than `max_depth`, or repeats a key in one object
// (nlohmann would silently keep the last one). Never lets an nlohmann exception escape.
nlohmann::json parse_json_strict(std::string_view text, const std::string& origin, uint64_t offset_base = 0,
                                 int max_depth = kMaxJsonDepth);

// A JSON value for a message, of bounded size whatever the value: `number 3`, `string "abc"`
// (excerpt), `array of 5 elements`, `object of 1 key`, `boolean true`, `null`.
std::string describe_json(const nlohmann::json& value);

}  // namespace bitnet::formats
