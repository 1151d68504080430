// Reading a rank's place in the run from the environment (see distributed.h).
#include <cerrno>
#include <cstdlib>

#include "trainer/distributed.h"

namespace bitnet {
namespace {

const char* kHint = " (set by torchrun, srun, or `bitnet train --nproc N`; see docs/distributed.md)";

std::optional<int64_t> parse_int(const char* text) {
  if (text == nullptr || *text == '\0') return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return static_cast<int64_t>(v);
}

int64_t read_int(const EnvLookup& lookup, const char* name, int64_t min_value, int64_t max_value,
                 std::optional<int64_t> fallback) {
  const char* text = lookup(name);
  if (text == nullptr) {
    if (fallback) return *fallback;
    throw DistributedError(std::string("environment variable ") + name + " is not set but WORLD_SIZE is" + kHint);
  }
  const std::optional<int64_t> v = parse_int(text);
  if (!v || *v < min_value || *v > max_value) {
    throw DistributedError(std::string("environment variable ") + name + "='" + text + "': expected an integer in [" +
                           std::to_string(min_value) + ", " + std::to_string(max_value) + "]" + kHint);
  }
  return *v;
}

}  // namespace

std::optional<DistributedEnv> read_distributed_env(const EnvLookup& lookup) {
  if (lookup("WORLD_SIZE") == nullptr) {
    for (const char* name : {"RANK", "LOCAL_RANK"}) {
      if (lookup(name) != nullptr) {
        throw DistributedError(std::string(name) + " is set but WORLD_SIZE is not" + kHint);
      }
    }
    return std::nullopt;
  }
  constexpr int64_t kMaxRanks = 1 << 20;
  DistributedEnv env;
  env.world_size = read_int(lookup, "WORLD_SIZE", 1, kMaxRanks, std::nullopt);
  env.rank = read_int(lookup, "RANK", 0, env.world_size - 1, std::nullopt);
  env.local_world_size = read_int(lookup, "LOCAL_WORLD_SIZE", 1, env.world_size, env.world_size);
  env.local_rank = read_int(lookup, "LOCAL_RANK", 0, env.local_world_size - 1,
                            env.local_world_size == env.world_size ? std::optional<int64_t>(env.rank) : std::nullopt);
  if (const char* ifname = lookup("GLOO_SOCKET_IFNAME")) env.socket_ifname = ifname;
  if (env.world_size == 1) return env;
  const char* addr = lookup("MASTER_ADDR");
  if (addr == nullptr || *addr == '\0') {
    throw DistributedError(std::string("environment variable MASTER_ADDR (the host of rank 0) is not set but "
                                       "WORLD_SIZE is ") +
                           std::to_string(env.world_size) + kHint);
  }
  env.master_addr = addr;
  env.master_port = static_cast<int>(read_int(lookup, "MASTER_PORT", 1, 65535, std::nullopt));
  return env;
}

}  // namespace bitnet
