// read_distributed_env: what torchrun/srun/--nproc set, and clear errors for what they did not.
#include <map>

#include <gtest/gtest.h>

#include "trainer/distributed.h"

namespace bitnet {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

std::string error_of(std::map<std::string, std::string> vars) {
  try {
    read_distributed_env(env_of(std::move(vars)));
  } catch (const DistributedError& e) {
    return e.what();
  }
  return "";
}

TEST(DistributedEnv, AbsentWorldSizeMeansOneProcess) {
  EXPECT_FALSE(read_distributed_env(env_of({})).has_value());
  EXPECT_FALSE(read_distributed_env(env_of({{"MASTER_PORT", "1234"}})).has_value());
}

TEST(DistributedEnv, ReadsTorchrunVariables) {
  const auto env = read_distributed_env(env_of({{"WORLD_SIZE", "8"},
                                                {"RANK", "5"},
                                                {"LOCAL_RANK", "1"},
                                                {"LOCAL_WORLD_SIZE", "4"},
                                                {"MASTER_ADDR", "node01"},
                                                {"MASTER_PORT", "29400"}}));
  ASSERT_TRUE(env.has_value());
  EXPECT_EQ(env->world_size, 8);
  EXPECT_EQ(env->rank, 5);
  EXPECT_EQ(env->local_rank, 1);
  EXPECT_EQ(env->local_world_size, 4);
  EXPECT_EQ(env->master_addr, "node01");
  EXPECT_EQ(env->master_port, 29400);
}

TEST(DistributedEnv, LocalValuesDefaultToGlobalOnes) {
  const auto env = read_distributed_env(
      env_of({{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "5000"}}));
  ASSERT_TRUE(env.has_value());
  EXPECT_EQ(env->local_rank, 1);
  EXPECT_EQ(env->local_world_size, 2);
}

TEST(DistributedEnv, SingleRankNeedsNoMaster) {
  const auto env = read_distributed_env(env_of({{"WORLD_SIZE", "1"}, {"RANK", "0"}}));
  ASSERT_TRUE(env.has_value());
  EXPECT_EQ(env->world_size, 1);
}

TEST(DistributedEnv, MissingAndMalformedValuesAreNamed) {
  const std::map<std::string, std::string> ok = {
      {"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "5000"}};
  auto with = [&](const std::string& key, const std::string& value) {
    auto v = ok;
    v[key] = value;
    return error_of(v);
  };
  auto without = [&](const std::string& key) {
    auto v = ok;
    v.erase(key);
    return error_of(v);
  };
  EXPECT_NE(without("RANK").find("RANK is not set"), std::string::npos) << without("RANK");
  EXPECT_NE(without("MASTER_ADDR").find("MASTER_ADDR"), std::string::npos);
  EXPECT_NE(without("MASTER_PORT").find("MASTER_PORT is not set"), std::string::npos);
  EXPECT_NE(with("RANK", "2").find("RANK='2': expected an integer in [0, 1]"), std::string::npos) << with("RANK", "2");
  EXPECT_NE(with("RANK", "-1").find("RANK='-1'"), std::string::npos);
  EXPECT_NE(with("WORLD_SIZE", "two").find("WORLD_SIZE='two'"), std::string::npos);
  EXPECT_NE(with("WORLD_SIZE", "0").find("WORLD_SIZE='0'"), std::string::npos);
  EXPECT_NE(with("MASTER_PORT", "70000").find("MASTER_PORT='70000': expected an integer in [1, 65535]"),
            std::string::npos);
  EXPECT_NE(with("MASTER_PORT", "12ab").find("MASTER_PORT='12ab'"), std::string::npos);
  EXPECT_NE(with("LOCAL_WORLD_SIZE", "3").find("LOCAL_WORLD_SIZE='3'"), std::string::npos);
  EXPECT_NE(error_of({{"RANK", "0"}}).find("RANK is set but WORLD_SIZE is not"), std::string::npos);
  // LOCAL_RANK cannot be guessed when only some of the ranks run on this machine.
  auto v = ok;
  v["LOCAL_WORLD_SIZE"] = "1";
  EXPECT_NE(error_of(v).find("LOCAL_RANK is not set"), std::string::npos) << error_of(v);
}

}  // namespace
}  // namespace bitnet
