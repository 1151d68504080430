// Scalar parsing and printing for config values. The parsers accept only the YAML 1.2 core forms
// (so "1e3" is a float, "yes" is not a bool, "0x10" is not an integer) and the printers emit text
// that these parsers read back to the identical value.
#include <cctype>
#include <charconv>
#include <cstdio>
#include <system_error>

#include "trainer/config_detail.h"

namespace bitnet::config_detail {

namespace {

bool all_digits(const std::string& text, size_t begin, size_t end) {
  if (begin >= end) return false;
  for (size_t i = begin; i < end; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

// [-+]? ( digits [. digits?] | . digits ) ( [eE] [-+]? digits )?
bool is_float_text(const std::string& text) {
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  const size_t mantissa_begin = i;
  size_t int_digits = 0, frac_digits = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++int_digits;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0 || i == mantissa_begin) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (!all_digits(text, i, text.size())) return false;
    i = text.size();
  }
  return i == text.size();
}

}  // namespace

std::optional<int64_t> parse_int64(const std::string& text, bool* overflow) {
  *overflow = false;
  size_t begin = 0;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) begin = 1;
  if (!all_digits(text, begin, text.size())) return std::nullopt;
  // from_chars takes '-' but not '+'.
  const char* first = text.data() + (text[0] == '+' ? 1 : 0);
  int64_t value = 0;
  const auto result = std::from_chars(first, text.data() + text.size(), value);
  if (result.ec == std::errc::result_out_of_range) {
    *overflow = true;
    return std::nullopt;
  }
  if (result.ec != std::errc() || result.ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_double(const std::string& text) {
  if (!is_float_text(text)) return std::nullopt;
  const char* first = text.data() + (text[0] == '+' ? 1 : 0);
  double value = 0;
  // from_chars is locale-independent and correctly rounded, so printing then parsing is exact.
  const auto result = std::from_chars(first, text.data() + text.size(), value);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<bool> parse_bool(const std::string& text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

std::string format_double(double value) {
  char buffer[64];
  // The shortest text that reads back to exactly `value`.
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  std::string text(buffer, result.ptr);
  // "1e-05" -> "1e-5", "1e+308" -> "1e308": the same value, written the way people write it.
  if (const size_t e = text.find('e'); e != std::string::npos) {
    size_t digits = e + 1;
    std::string exponent;
    if (text[digits] == '-') exponent = "-";
    if (text[digits] == '-' || text[digits] == '+') ++digits;
    while (digits + 1 < text.size() && text[digits] == '0') ++digits;
    text = text.substr(0, e + 1) + exponent + text.substr(digits);
  }
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";  // keep it visibly a float
  return text;
}

std::string quote_string(const std::string& value) {
  std::string out = "\"";
  for (char ch : value) {
    const auto byte = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20 || byte == 0x7f) {
          char escape[8];
          std::snprintf(escape, sizeof(escape), "\\x%02x", byte);
          out += escape;
        } else {
          out += ch;  // UTF-8 passes through; YAML double-quoted strings allow it
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace bitnet::config_detail

namespace bitnet {

std::optional<DeviceSetting> parse_device_setting(const std::string& text) {
  if (const std::optional<DeviceKind> kind = parse_enum<DeviceKind>(text)) return DeviceSetting{*kind, -1};
  // "cuda:N" with N a small decimal index (which GPUs exist is checked when the run starts).
  const std::string prefix = "cuda:";
  if (text.rfind(prefix, 0) != 0 || text.size() == prefix.size() || text.size() > prefix.size() + 3)
    return std::nullopt;
  int index = 0;
  for (size_t i = prefix.size(); i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    index = index * 10 + (text[i] - '0');
  }
  return DeviceSetting{DeviceKind::kCuda, index};
}

std::string device_setting_names() {
  return enum_name_list<DeviceKind>() + ", cuda:N";
}

std::string device_setting_name(const DeviceSetting& device) {
  if (device.kind == DeviceKind::kCuda && device.index >= 0) return "cuda:" + std::to_string(device.index);
  return enum_name(device.kind);
}

namespace config_detail {

ModeRef device_mode_ref(DeviceSetting* field) {
  return {[] { return true; }, [field] { return device_setting_name(*field); },
          name_setter(field, parse_device_setting), device_setting_names()};
}

}  // namespace config_detail

}  // namespace bitnet
