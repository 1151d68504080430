// `bitnet bench train` end to end: OpenMP threads wait passively unless the user chose a policy
// (the 2-thread step collapsed under a compiler's load with libgomp's spinning default), and the
// benchmark times the step again with competing processes beside it.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/e2e/cli_runner.h"

namespace bitnet::e2e {
namespace {

std::vector<std::string> tiny_bench_args(const std::string& load) {
  return {"bench", "train", std::string(BITNET_SOURCE_DIR) + "/tests/e2e/tiny.yaml", "--warmup", "0",
          "--steps", "1", "--no-twin", "--load", load, "train.threads=1"};
}

// Restores the test's own environment whatever the test sets.
struct OmpEnvironment {
  OmpEnvironment() { clear(); }
  ~OmpEnvironment() { clear(); }
  static void clear() {
    unsetenv("OMP_WAIT_POLICY");
    unsetenv("GOMP_SPINCOUNT");
  }
};

TEST(BenchE2E, OpenMpWaitsPassivelyUnlessTheUserChose) {
  OmpEnvironment env;
  RunResult r = run_bitnet(tiny_bench_args("1"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("OpenMP waiting OMP_WAIT_POLICY=PASSIVE"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ms median with 1 competing process(es) (same run): "), std::string::npos) << r.output;

  setenv("OMP_WAIT_POLICY", "ACTIVE", 1);
  r = run_bitnet(tiny_bench_args("0"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("OpenMP waiting OMP_WAIT_POLICY=ACTIVE"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("under load"), std::string::npos) << r.output;

  OmpEnvironment::clear();
  setenv("GOMP_SPINCOUNT", "1000", 1);
  r = run_bitnet(tiny_bench_args("0"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("OpenMP waiting GOMP_SPINCOUNT=1000"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace bitnet::e2e
