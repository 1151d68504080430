// The names of a mode's values, written once next to its enum and used by every reader and
// printer of that mode (the YAML config, command-line options, file metadata, messages):
//
//   enum class HiddenAct { kRelu2, kSilu };
//   template <>
//   struct EnumNames<HiddenAct> {
//     static constexpr EnumName<HiddenAct> table[] = {{HiddenAct::kRelu2, "relu2"}, {HiddenAct::kSilu, "silu"}};
//   };
//
// A mode is parsed from its name once, where outside text enters; the code past that point
// switches on the enum and never compares strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bitnet {

template <typename E>
struct EnumName {
  E value;
  const char* name;
};

// Specialized for each mode with a `table` of every value and its name, in the order messages list them.
template <typename E>
struct EnumNames;

// The value named `name`, or nullopt when no value has that name (names are case-sensitive).
template <typename E>
std::optional<E> parse_enum(std::string_view name) {
  for (const EnumName<E>& entry : EnumNames<E>::table) {
    if (name == entry.name) return entry.value;
  }
  return std::nullopt;
}

// The name of `value`. Every value of a mode has one in its table.
template <typename E>
const char* enum_name(E value) {
  for (const EnumName<E>& entry : EnumNames<E>::table) {
    if (entry.value == value) return entry.name;
  }
  return "?";
}

// Every name, in table order.
template <typename E>
std::vector<std::string> enum_names() {
  std::vector<std::string> names;
  for (const EnumName<E>& entry : EnumNames<E>::table) names.emplace_back(entry.name);
  return names;
}

// The names joined for a message: "relu2, silu", or with `separator` " | ".
template <typename E>
std::string enum_name_list(const char* separator = ", ") {
  std::string out;
  for (const EnumName<E>& entry : EnumNames<E>::table) {
    if (!out.empty()) out += separator;
    out += entry.name;
  }
  return out;
}

}  // namespace bitnet
