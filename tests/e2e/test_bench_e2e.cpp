// `bitnet bench train` end to end: OpenMP threads spin briefly (GOMP_SPINCOUNT=1000) and then
// sleep unless the user chose a policy (the 2-thread step collapsed under a compiler's load with
// libgomp's long spinning default), the benchmark times the step again with competing processes
// beside it, and --peer transformers prints ours beside transformers' BitNet built with the same
// parameter count.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>

#include "tests/e2e/cli_runner.h"

namespace bitnet::e2e {
namespace {

std::vector<std::string> tiny_bench_args(const std::string& load) {
  return {"bench",
          "train",
          std::string(BITNET_SOURCE_DIR) + "/tests/e2e/tiny.yaml",
          "--warmup",
          "0",
          "--steps",
          "1",
          "--no-twin",
          "--load",
          load,
          "train.threads=1"};
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

TEST(BenchE2E, OpenMpSpinsBrieflyUnlessTheUserChose) {
  OmpEnvironment env;
  RunResult r = run_bitnet(tiny_bench_args("1"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("OpenMP waiting GOMP_SPINCOUNT=1000"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ms median with 1 competing process(es) (same run): "), std::string::npos) << r.output;

  setenv("OMP_WAIT_POLICY", "ACTIVE", 1);
  r = run_bitnet(tiny_bench_args("0"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("OpenMP waiting OMP_WAIT_POLICY=ACTIVE"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("under load"), std::string::npos) << r.output;

  OmpEnvironment::clear();
  setenv("GOMP_SPINCOUNT", "0", 1);
  r = run_bitnet(tiny_bench_args("0"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("OpenMP waiting GOMP_SPINCOUNT=0"), std::string::npos) << r.output;
}

// `bitnet bench data` on tiny sizes: a row of figures per size for the streaming path, one for the
// in-memory path below --in-memory-max-gb, and nothing left in --dir afterwards.
TEST(BenchE2E, DataBenchPrintsFiguresPerSizeAndDeletesItsShards) {
  TempDir tmp("bench_data");
  const RunResult r =
      run_bitnet({"bench", "data", "--sizes-gb", "0.0004,0.0008", "--in-memory-max-gb", "0.0005", "--dir",
                  tmp.path.string(), "--seq-len", "16", "--micro-batch", "2", "--batches", "5", "--eval-batches", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("train tok/s"), std::string::npos) << r.output;
  std::istringstream lines(r.output);
  std::string line;
  std::vector<std::string> rows;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string path;
    fields >> path;
    if (path != "streaming" && path != "in-memory") continue;
    double gb = 0, build_s = -1, train = 0, eval = 0, peak = 0, anon = 0, file = -1, start = 0;
    ASSERT_TRUE(fields >> gb >> build_s >> train >> eval >> peak >> anon >> file >> start) << line;
    EXPECT_GT(train, 0) << line;
    EXPECT_GT(eval, 0) << line;
    EXPECT_GT(peak, 0) << line;
    EXPECT_GE(anon, 0) << line;  // growth over the child's baseline
    EXPECT_GE(file, 0) << line;
    EXPECT_GT(start, 0) << line;
    rows.push_back(path + " " + std::to_string(gb));
  }
  EXPECT_EQ(rows, (std::vector<std::string>{"streaming 0.000400", "in-memory 0.000400", "streaming 0.000800"}))
      << r.output;
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path)) << "bench data left files in " << tmp.path;
}

// The table of `--peer transformers`: a row per thread count with ours and the peer's eager step,
// and the parameter counts of both models, which must be equal for the comparison to be fair.
// (torch.compile is left out here: compiling a training step takes minutes on a loaded CPU.)
TEST(BenchE2E, PeerTransformersRowsPerThreadCountWithTheSameParameterCount) {
  const RunResult r = run_bitnet({"bench", "train", std::string(BITNET_SOURCE_DIR) + "/tests/e2e/tiny.yaml", "--warmup",
                                  "1", "--steps", "1", "--peer", "transformers", "--peer-modes", "eager",
                                  "--peer-threads", "1,2", "model.tie_embeddings=false"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"(parameters  ours ([0-9,]+), transformers ([0-9,]+))")))
      << r.output;
  EXPECT_EQ(m[1].str(), m[2].str()) << r.output;
  for (const char* threads : {"1", "2"}) {
    // threads | ours s/step | ours tok/s | MFU | eager s/step | compiled s/step (not run) | eager/ours | -
    const std::regex row(std::string(R"(\n  )") + threads +
                         R"( +[0-9.]+ +[0-9]+ +[0-9.]+% +[0-9.]+ +- +[0-9.]+x +-\n)");
    EXPECT_TRUE(std::regex_search(r.output, row)) << "no row for " << threads << " thread(s):\n" << r.output;
  }
  EXPECT_NE(r.output.find("speed-up 1->2 threads: ours "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(", transformers eager "), std::string::npos) << r.output;
}

// Runs `.venv/bin/python SCRIPT ARGS...` from the source tree.
RunResult run_venv_python(const std::string& script, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {std::string(BITNET_SOURCE_DIR) + "/" + script};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(std::string(BITNET_SOURCE_DIR) + "/.venv/bin/python", argv);
}

// The pieces that keep the compiled peer an honest training step (tests/clients/hf_peer_ste_check.py):
// its rewritten straight-through estimators equal transformers' own, and a zero gradient is caught.
TEST(BenchE2E, PeerEstimatorRewriteIsExactAndDeadGradientsAreCaught) {
  const RunResult r = run_venv_python("tests/clients/hf_peer_ste_check.py", {});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("ok"), std::string::npos) << r.output;
}

// The peer script itself refuses a model whose parameter count is not ours.
TEST(BenchE2E, PeerScriptRefusesADifferentParameterCount) {
  const RunResult r = run_venv_python("bench/hf_bitnet_train.py", {"--hidden-size",
                                                                   "64",
                                                                   "--layers",
                                                                   "1",
                                                                   "--heads",
                                                                   "2",
                                                                   "--kv-heads",
                                                                   "1",
                                                                   "--intermediate-size",
                                                                   "128",
                                                                   "--vocab",
                                                                   "256",
                                                                   "--micro-batch",
                                                                   "1",
                                                                   "--seq-len",
                                                                   "8",
                                                                   "--threads",
                                                                   "1",
                                                                   "--expect-parameters",
                                                                   "12345"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("ours 12345: the shapes differ"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("\"mode\""), std::string::npos) << "nothing may be timed:\n" << r.output;
}

}  // namespace
}  // namespace bitnet::e2e
