// Reads a YAML config (plus key=value overrides) into RunConfig. yaml-cpp builds the node tree;
// this file walks it against the key table so that every unknown key, duplicate key and wrongly
// typed value is reported with its file:line:column, then hands the result to the validator.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "trainer/config_detail.h"

namespace bitnet {

namespace {

using config_detail::FieldRef;
using config_detail::ModeRef;
using config_detail::Origins;

// Turns a node's position into the text that starts an error message. In a file that is
// "path:line:column" (1-based); in an override it is the override itself, since its columns would
// only point into the command line.
struct Locator {
  std::string source;
  std::string override_text;  // empty when reading the file

  std::string at(const YAML::Mark& mark) const {
    if (!override_text.empty()) return "override '" + override_text + "'";
    if (mark.is_null()) return source;
    return source + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }
};

// Keys and values quoted in messages may hold control characters; show those as \xNN so the
// message stays on one readable line.
std::string printable(const std::string& text) {
  std::string out;
  for (char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte < 0x20 || byte == 0x7f) {
      const char* hex = "0123456789abcdef";
      out += std::string("\\x") + hex[byte >> 4] + hex[byte & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar: {
      std::string text = node.Scalar();
      if (text.size() > 60) text = text.substr(0, 57) + "...";
      return "'" + printable(text) + "'";
    }
    default:
      return "an undefined value";
  }
}

// A null value's mark points past it (at the next key), so use the key's mark instead.
YAML::Mark value_mark(const YAML::Node& key, const YAML::Node& value) {
  return value.IsNull() ? key.Mark() : value.Mark();
}

[[noreturn]] void fail(const std::string& where, const std::string& key, const std::string& what) {
  throw ConfigError(where + ": key '" + key + "': " + what);
}

int64_t to_int64(const YAML::Node& node, const std::string& key, const std::string& where) {
  if (node.IsScalar()) {
    bool overflow = false;
    if (auto value = config_detail::parse_int64(node.Scalar(), &overflow)) return *value;
    if (overflow) fail(where, key, describe(node) + " does not fit in a 64-bit integer");
  }
  fail(where, key, "expected an integer, found " + describe(node));
}

double to_double(const YAML::Node& node, const std::string& key, const std::string& where) {
  if (node.IsScalar()) {
    if (auto value = config_detail::parse_double(node.Scalar())) return *value;
  }
  fail(where, key, "expected a number, found " + describe(node));
}

bool to_bool(const YAML::Node& node, const std::string& key, const std::string& where) {
  if (node.IsScalar()) {
    if (auto value = config_detail::parse_bool(node.Scalar())) return *value;
  }
  fail(where, key, "expected true or false, found " + describe(node));
}

std::string to_string(const YAML::Node& node, const std::string& key, const std::string& where) {
  if (node.IsNull()) return "";
  if (node.IsScalar()) return node.Scalar();
  fail(where, key, "expected a string, found " + describe(node));
}

std::string join_key(const std::string& section, const std::string& name) {
  return section.empty() ? name : section + "." + name;
}

// The name of one key of a map (`prefix` is the dotted path of the map, "" at the top level);
// ConfigError when it is not a plain name or the map already has it. yaml-cpp keeps both entries
// of a repeated key and lookups see only the first, so repeats are caught here.
std::string note_key(const YAML::Node& key_node, const std::string& prefix, const Locator& locator,
                     std::map<std::string, YAML::Mark>& seen) {
  if (!key_node.IsScalar()) {
    throw ConfigError(locator.at(key_node.Mark()) + ": keys must be plain names, found " + describe(key_node) +
                      " used as a key");
  }
  const std::string name = key_node.Scalar();
  if (auto first = seen.find(name); first != seen.end()) {
    std::string message = locator.at(key_node.Mark()) + ": duplicate key '" + printable(join_key(prefix, name)) + "'";
    if (locator.override_text.empty()) message += " (first defined at " + locator.at(first->second) + ")";
    throw ConfigError(message);
  }
  seen.emplace(name, key_node.Mark());
  return name;
}

std::vector<DataSourceConfig> to_sources(const YAML::Node& value, const YAML::Mark& mark, const Locator& locator,
                                         Origins& origins);

// Stores `value` (the YAML node of one leaf) into the field. `scalar_as_list` lets an override say
// data.paths=a.txt for the one-element list. Keys inside the value (data.sources) get their
// origins recorded.
void set_leaf(const FieldRef& field, const std::string& key, const YAML::Node& value, const YAML::Mark& mark,
              const Locator& locator, bool scalar_as_list, Origins& origins) {
  const std::string where = locator.at(mark);
  if (auto* p = std::get_if<int64_t*>(&field)) {
    **p = to_int64(value, key, where);
  } else if (auto* p = std::get_if<double*>(&field)) {
    **p = to_double(value, key, where);
  } else if (auto* p = std::get_if<bool*>(&field)) {
    **p = to_bool(value, key, where);
  } else if (auto* p = std::get_if<std::string*>(&field)) {
    **p = to_string(value, key, where);
  } else if (auto* p = std::get_if<std::vector<std::string>*>(&field)) {
    std::vector<std::string> items;
    if (value.IsSequence()) {
      for (size_t i = 0; i < value.size(); ++i) {
        const YAML::Node item = value[i];
        if (!item.IsScalar()) {
          fail(locator.at(item.IsNull() ? mark : item.Mark()), key,
               "item " + std::to_string(i + 1) + ": expected a string, found " + describe(item));
        }
        items.push_back(item.Scalar());
      }
    } else if (value.IsScalar() && scalar_as_list) {
      items.push_back(value.Scalar());
    } else if (!value.IsNull()) {
      std::string hint = value.IsScalar() ? " (write a list: [" + value.Scalar() + "])" : "";
      fail(where, key, "expected a list of strings, found " + describe(value) + hint);
    }
    **p = std::move(items);
  } else if (auto* p = std::get_if<std::vector<double>*>(&field)) {
    if (!value.IsSequence()) fail(where, key, "expected a list of numbers, found " + describe(value));
    std::vector<double> items;
    for (size_t i = 0; i < value.size(); ++i) {
      const YAML::Node item = value[i];
      if (!item.IsScalar() || !config_detail::parse_double(item.Scalar())) {
        fail(locator.at(item.IsNull() ? mark : item.Mark()), key,
             "item " + std::to_string(i + 1) + ": expected a number, found " + describe(item));
      }
      items.push_back(*config_detail::parse_double(item.Scalar()));
    }
    **p = std::move(items);
  } else if (auto* p = std::get_if<std::vector<DataSourceConfig>*>(&field)) {
    **p = to_sources(value, mark, locator, origins);
  } else if (auto* p = std::get_if<ModeRef>(&field)) {
    const std::string name = to_string(value, key, where);
    if (!p->set_name(name)) {
      fail(where, key, config_detail::quote_string(name) + " is not allowed (choose one of: " + p->allowed + ")");
    }
  }
}

// The sentence that lists what a source may hold, for unknown-key messages.
std::string source_keys_hint(const std::string& name) {
  const std::string data_key = "data." + name;
  const std::vector<std::string> keys = config_keys();
  if (std::find(keys.begin(), keys.end(), data_key) != keys.end()) {
    return " ('" + data_key + "' applies to the whole mixture: set it under 'data:')";
  }
  DataSourceConfig probe;
  std::string list, nearest;
  for (const auto& field : config_detail::bind_source_fields(probe)) {
    list += (list.empty() ? "" : ", ") + field.name;
    if (config_detail::levenshtein(name, field.name) <= 2) nearest = field.name;
  }
  if (!nearest.empty()) return " (did you mean '" + nearest + "'?)";
  return " (a source takes: " + list + ")";
}

// Stores a value into one key of a source, given by its table entry. An optional string is
// engaged first, since the key is being set.
void set_source_field(const config_detail::SourceFieldRef& ref, const std::string& key, const YAML::Node& value,
                      const YAML::Mark& mark, const Locator& locator, Origins& origins) {
  FieldRef field;
  if (auto* p = std::get_if<std::optional<std::string>*>(&ref)) {
    field = &(*p)->emplace();
  } else if (auto* p = std::get_if<std::vector<std::string>*>(&ref)) {
    field = *p;
  } else if (auto* p = std::get_if<ModeRef>(&ref)) {
    field = *p;
  } else {
    field = std::get<double*>(ref);
  }
  set_leaf(field, key, value, mark, locator, false, origins);
}

// data.sources: a list of maps whose keys are checked against the source key table; paths and
// weight are required. Records where each source key was set ("data.sources[1].weight").
std::vector<DataSourceConfig> to_sources(const YAML::Node& value, const YAML::Mark& mark, const Locator& locator,
                                         Origins& origins) {
  for (auto it = origins.begin(); it != origins.end();) {  // a new list replaces the old one's keys
    it = it->first.rfind("data.sources[", 0) == 0 ? origins.erase(it) : std::next(it);
  }
  if (value.IsNull()) return {};
  if (!value.IsSequence()) {
    fail(locator.at(mark), "data.sources",
         "expected a list of sources ({paths: [...], weight: N} maps), found " + describe(value));
  }
  std::vector<DataSourceConfig> sources(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    const YAML::Node item = value[i];
    const std::string item_key = config_detail::source_key(i, "");
    const YAML::Mark item_mark = item.IsNull() ? mark : item.Mark();
    if (!item.IsMap()) {
      fail(locator.at(item_mark), item_key, "expected a map with 'paths' and 'weight', found " + describe(item));
    }
    std::map<std::string, YAML::Mark> seen;
    for (auto it = item.begin(); it != item.end(); ++it) {
      const std::string name = note_key(it->first, item_key, locator, seen);
      const std::string key = printable(config_detail::source_key(i, name));
      const std::vector<config_detail::SourceField> fields = config_detail::bind_source_fields(sources[i]);
      const auto field = std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return f.name == name; });
      if (field == fields.end()) {
        throw ConfigError(locator.at(it->first.Mark()) + ": unknown key '" + key + "'" + source_keys_hint(name));
      }
      const YAML::Mark field_mark = value_mark(it->first, it->second);
      set_source_field(field->ref, key, it->second, field_mark, locator, origins);
      origins[key] = locator.at(field_mark);
    }
    for (const char* required : {"paths", "weight"}) {
      if (seen.count(required) == 0) {
        fail(locator.at(item_mark), item_key,
             std::string("missing '") + required +
                 "' (a source needs its files and its weight, e.g. "
                 "{paths: [corpus.txt], weight: 0.5})");
      }
    }
  }
  return sources;
}

// Applies one YAML map: the top level (section == "") or the body of one section.
void apply_map(const YAML::Node& map, const std::string& section, const Locator& locator, RunConfig& config,
               Origins& origins) {
  std::map<std::string, YAML::Mark> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key_node = it->first;
    const YAML::Node value = it->second;
    const std::string name = note_key(key_node, section, locator, seen);
    const std::string key = printable(join_key(section, name));

    if (section.empty() && config_detail::is_section(name)) {
      if (value.IsNull()) continue;  // "model:" with nothing under it keeps the defaults
      if (!value.IsMap()) {
        fail(locator.at(value_mark(key_node, value)), key, "a section must be a map of keys, found " + describe(value));
      }
      apply_map(value, name, locator, config, origins);
      continue;
    }
    auto field = name.find('.') == std::string::npos ? config_detail::find_field(config, key) : std::nullopt;
    if (field) {
      const YAML::Mark mark = value_mark(key_node, value);
      set_leaf(*field, key, value, mark, locator, false, origins);
      origins[key] = locator.at(mark);
      continue;
    }
    if (name.find('.') != std::string::npos && config_detail::find_field(config, name)) {
      throw ConfigError(locator.at(key_node.Mark()) + ": dotted key '" + name +
                        "': in a file, write it nested (the section, then the key indented under it)");
    }
    throw ConfigError(locator.at(key_node.Mark()) + ": unknown key '" + key + "'" + config_detail::did_you_mean(key));
  }
}

YAML::Node load_override_value(const std::string& text, const Locator& locator) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(locator.at(YAML::Mark::null_mark()) + ": invalid YAML value: " + e.msg);
  }
}

bool starts_quoted(const std::string& text) {
  return !text.empty() && (text[0] == '"' || text[0] == '\'');
}

void apply_override(const std::string& text, RunConfig& config, Origins& origins) {
  const Locator locator{"", text};
  const std::string where = locator.at(YAML::Mark::null_mark());
  const size_t eq = text.find('=');
  if (eq == std::string::npos) {
    throw ConfigError(where + ": expected key=value, e.g. optim.lr=3e-4");
  }
  std::string key = text.substr(0, eq);
  const std::string value_text = text.substr(eq + 1);
  while (!key.empty() && key.back() == ' ') key.pop_back();
  while (!key.empty() && key.front() == ' ') key.erase(key.begin());
  if (key.empty()) throw ConfigError(where + ": the key before '=' is empty");

  if (config_detail::is_section(key)) {
    const YAML::Node value = load_override_value(value_text, locator);
    if (value.IsNull()) return;
    if (!value.IsMap()) fail(where, key, "a section must be a map of keys, found " + describe(value));
    apply_map(value, key, locator, config, origins);
    return;
  }
  const auto field = config_detail::find_field(config, key);
  if (!field) throw ConfigError(where + ": unknown key '" + key + "'" + config_detail::did_you_mean(key));

  // Strings are taken as written unless quoted, so paths and prompts need no YAML escaping on a
  // command line ("*.txt" would otherwise be a YAML alias and "a #b" a comment).
  YAML::Node value;
  const bool is_string = std::holds_alternative<std::string*>(*field) || std::holds_alternative<ModeRef>(*field);
  const bool is_string_list = std::holds_alternative<std::vector<std::string>*>(*field);
  if ((is_string || (is_string_list && (value_text.empty() || value_text[0] != '['))) && !starts_quoted(value_text)) {
    value = YAML::Node(value_text);
  } else {
    value = load_override_value(value_text, locator);
  }
  set_leaf(*field, key, value, YAML::Mark::null_mark(), locator, true, origins);
  origins[key] = where;
}

// Records where each YAML document starts, and nothing else.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Parses the one document a config holds. YAML::LoadAll is not used: on some malformed input
// (a stray ',' where a node should start) yaml-cpp up to 0.8 returns an empty document without
// consuming the token and LoadAll loops forever, allocating. Here each document must start past
// the previous one, so the loop ends after at most one document per byte.
YAML::Node load_single_document(const std::string& yaml_text, const std::string& source_name) {
  const Locator locator{source_name, ""};
  try {
    std::istringstream stream(yaml_text);
    YAML::Parser parser(stream);
    DocumentStarts documents;
    while (parser.HandleNextDocument(documents)) {
      const size_t count = documents.starts.size();
      if (count >= 2 && documents.starts[count - 1].pos <= documents.starts[count - 2].pos) {
        const YAML::Mark& mark = documents.starts.back();
        const size_t at = static_cast<size_t>(std::max(mark.pos, 0));
        const std::string found = at < yaml_text.size() ? printable(yaml_text.substr(at, 1)) : "end";
        throw ConfigError(locator.at(mark) + ": invalid YAML: unexpected '" + found + "' where a value should start");
      }
    }
    if (documents.starts.size() > 1) {
      throw ConfigError(source_name + ": holds " + std::to_string(documents.starts.size()) +
                        " YAML documents (separated by '---'); a config is a single document");
    }
    if (documents.starts.empty()) return YAML::Node();
    return YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(locator.at(e.mark) + ": invalid YAML: " + e.msg);
  }
}

}  // namespace

RunConfig parse_config(const std::string& yaml_text, const std::string& source_name,
                       const std::vector<std::string>& overrides) {
  const YAML::Node root = load_single_document(yaml_text, source_name);
  if (root.IsNull()) {
    throw ConfigError(source_name +
                      ": the config is empty; it needs at least the training data, e.g. "
                      "'data: {paths: [corpus.txt]}'");
  }
  const Locator locator{source_name, ""};
  if (!root.IsMap()) {
    throw ConfigError(locator.at(root.Mark()) +
                      ": the top level must be a map of keys (e.g. 'model:', 'train:'), found " + describe(root));
  }

  RunConfig config;
  Origins origins;
  apply_map(root, "", locator, config, origins);
  for (const std::string& text : overrides) apply_override(text, config, origins);

  if (origins.count("data.paths") == 0 && origins.count("data.sources") == 0) {
    throw ConfigError(source_name +
                      ": missing required key 'data.paths' (the training files or globs, e.g. "
                      "'data: {paths: [corpus.txt]}'), or 'data.sources' for a mixture of datasets");
  }
  config_detail::validate(config, origins, source_name);
  return config;
}

RunConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) throw ConfigError("config file '" + path + "' does not exist");
  if (!fs::is_regular_file(status)) throw ConfigError("config file '" + path + "' is not a regular file");
  const uintmax_t size = fs::file_size(path, ec);
  constexpr uintmax_t kMaxConfigBytes = 16u << 20;  // a config is a page of text, not a corpus
  if (ec) throw ConfigError("cannot read config file '" + path + "': " + ec.message());
  if (size > kMaxConfigBytes) {
    throw ConfigError("config file '" + path + "' is " + std::to_string(size) +
                      " bytes; a config should be well under 16 MiB (is this the right file?)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot open config file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError("cannot read config file '" + path + "'");
  return parse_config(text.str(), path, overrides);
}

}  // namespace bitnet
