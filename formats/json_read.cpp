// Strict JSON parsing and bounded descriptions of values for error messages (see json_read.h).
#include "formats/json_read.h"

#include <functional>
#include <set>
#include <vector>

namespace bitnet::formats {

namespace {

using nlohmann::json;

// Throws (aborting the parse) on a container nested too deep or a key repeated in one object.
// nlohmann's callback parser keeps its own stack instead of recursing, so the check fires
// before anything that recurses per level ever sees the value.
class StrictnessCheck {
 public:
  StrictnessCheck(const std::string& origin, int max_depth) : origin_(origin), max_depth_(max_depth) {}

  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        // `depth` counts the containers around this one, so this one is level depth + 1.
        if (depth >= max_depth_)
          throw_format_error(origin_, "JSON arrays/objects nest too deeply", kNoOffset,
                             "at most " + std::to_string(max_depth_) + " levels", "level " + std::to_string(depth + 1));
        if (event == json::parse_event_t::object_start) open_objects_.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!open_objects_.empty()) open_objects_.pop_back();
        break;
      case json::parse_event_t::key: {
        const auto& key = parsed.get_ref<const std::string&>();
        if (!open_objects_.empty() && !open_objects_.back().insert(key).second)
          throw_format_error(origin_, "duplicate key \"" + quote_excerpt(key) + "\" in a JSON object");
        break;
      }
      default:
        break;
    }
    return true;
  }

 private:
  const std::string& origin_;
  int max_depth_;
  std::vector<std::set<std::string>> open_objects_;  // the keys seen in each open object
};

}  // namespace

json parse_json_strict(std::string_view text, const std::string& origin, uint64_t offset_base, int max_depth) {
  StrictnessCheck check(origin, max_depth);
  try {
    return json::parse(text.begin(), text.end(), std::ref(check), /*allow_exceptions=*/true);
  } catch (const json::parse_error& e) {
    // e.byte is 1-based. nlohmann's message quotes the last token read, which can be the
    // whole rest of a huge input (an unterminated string), so only an excerpt is kept.
    throw_format_error(origin, "not valid JSON: " + quote_excerpt(e.what()),
                       offset_base + (e.byte > 0 ? e.byte - 1 : 0));
  } catch (const json::exception& e) {
    // A number out of range (1e400) and the like.
    throw_format_error(origin, "not valid JSON: " + quote_excerpt(e.what()));
  }
}

std::string describe_json(const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return "string \"" + quote_excerpt(value.get_ref<const std::string&>()) + "\"";
    case json::value_t::array:
      return "array of " + std::to_string(value.size()) + (value.size() == 1 ? " element" : " elements");
    case json::value_t::object:
      return "object of " + std::to_string(value.size()) + (value.size() == 1 ? " key" : " keys");
    case json::value_t::binary:
      return "binary of " + std::to_string(value.get_binary().size()) + " bytes";
    default:  // null, boolean, numbers: short
      return value.is_null() ? std::string("null") : std::string(value.type_name()) + " " + value.dump();
  }
}

}  // namespace bitnet::formats
