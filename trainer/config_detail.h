// Internals shared by the config*.cpp files: the table that binds each dotted key to its field
// in RunConfig, the scalar parsers/printers, and the nearest-key suggestion. Not a public API.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "trainer/config.h"

namespace bitnet::config_detail {

// A mode field (an enum, or train.device), reached through its names: the parser sets it from a
// name, the printer prints its name. An optional one (a key of data.sources) may be unset.
struct ModeRef {
  std::function<bool()> is_set;                      // false: an optional left unset
  std::function<std::string()> name;                 // the value's name (is_set() only)
  std::function<bool(const std::string&)> set_name;  // false: `text` names no value (the field is unchanged)
  std::string allowed;                               // the names, for messages: "relu2, silu"
};

// A ModeRef's set_name: parses `text` with `parse` (an optional-returning parser) into *field.
template <typename Field, typename Parse>
std::function<bool(const std::string&)> name_setter(Field* field, Parse parse) {
  return [field, parse](const std::string& text) {
    const auto value = parse(text);
    if (value) *field = *value;
    return value.has_value();
  };
}

template <typename E>
ModeRef mode_ref(E* field) {
  return {[] { return true; }, [field] { return std::string(enum_name(*field)); }, name_setter(field, parse_enum<E>),
          enum_name_list<E>()};
}

template <typename E>
ModeRef mode_ref(std::optional<E>* field) {
  return {[field] { return field->has_value(); }, [field] { return std::string(enum_name(field->value())); },
          name_setter(field, parse_enum<E>), enum_name_list<E>()};
}

ModeRef device_mode_ref(DeviceSetting* field);

// One leaf field of a RunConfig (a pointer into it, or a ModeRef); the alternative says the type.
using FieldRef = std::variant<int64_t*, double*, bool*, std::string*, std::vector<std::string>*, std::vector<double>*,
                              std::vector<DataSourceConfig>*, ModeRef>;

struct Field {
  std::string key;  // dotted, e.g. "optim.lr"
  FieldRef ref;
};

// The sections, in print order ("model", "quant", ...). Top-level leaves have no section.
const std::vector<std::string>& section_names();

// Every leaf of `config`, in print order. The pointers point into `config`.
std::vector<Field> bind_fields(RunConfig& config);

// The field for a dotted key, or nullopt when the key is not a leaf.
std::optional<FieldRef> find_field(RunConfig& config, const std::string& key);

bool is_section(const std::string& name);

// The keys of one data.sources item, in print order. An optional one left unset takes the
// data.<name> value.
using SourceFieldRef = std::variant<std::vector<std::string>*, double*, std::optional<std::string>*, ModeRef>;

struct SourceField {
  std::string name;  // "weight"
  SourceFieldRef ref;
};

std::vector<SourceField> bind_source_fields(DataSourceConfig& source);

// "data.sources[1].weight" (0-based index); an empty name gives "data.sources[1]".
std::string source_key(size_t index, const std::string& name);

// The per-format keys a source may set, each with the one format it applies to.
struct FormatKey {
  const char* name;
  data::DataFormat format;
};
const std::vector<FormatKey>& source_format_keys();

// The nearest valid key (or section) to an unknown one, or "" when none is reasonably close.
std::string suggest_key(const std::string& unknown);

// " (did you mean 'x'?)" or "".
std::string did_you_mean(const std::string& unknown);

size_t levenshtein(const std::string& a, const std::string& b);

// Strict scalar parsers (YAML 1.2 core forms); nullopt when the text is not of that type.
// parse_int64 sets *overflow when the text is an integer that does not fit.
std::optional<int64_t> parse_int64(const std::string& text, bool* overflow);
std::optional<double> parse_double(const std::string& text);  // finite values only
std::optional<bool> parse_bool(const std::string& text);

// Printers whose output the parsers read back exactly.
std::string format_double(double value);
std::string quote_string(const std::string& value);  // YAML double-quoted, escaped
std::string format_value(const FieldRef& field);     // a field's value as YAML (flow lists)

// Where each key got its value ("file:line:col" or "override 'k=v'"); absent = default.
using Origins = std::map<std::string, std::string>;

// Range, allowed-value and cross-field checks. `source` prefixes messages about keys that were
// never set. Throws ConfigError.
void validate(const RunConfig& config, const Origins& origins, const std::string& source);

}  // namespace bitnet::config_detail
