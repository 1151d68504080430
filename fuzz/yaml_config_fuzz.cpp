// Feeds a run config to bitnet::parse_config: the input split at 0x00 bytes is the YAML text and
// then up to eight "key=value" overrides. A config that parses is validated again, printed with
// config_to_yaml, and the printout must parse back to the same printout (the round trip
// config.h promises). ConfigError is the only accepted failure.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "trainer/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> parts = bitnet::fuzz::split_at_nul(data, size);
  std::vector<std::string> overrides;
  for (size_t i = 1; i < parts.size() && i <= 8; ++i) overrides.push_back(parts[i]);
  try {
    bitnet::RunConfig config = bitnet::parse_config(parts[0], "fuzz.yaml", overrides);
    bitnet::validate_config(config);
    const std::string yaml = bitnet::config_to_yaml(config);
    if (bitnet::config_to_yaml(bitnet::parse_config(yaml, "printed.yaml")) != yaml) std::abort();
  } catch (const bitnet::ConfigError&) {
  }
  return 0;
}
