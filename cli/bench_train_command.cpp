// `bitnet bench train CONFIG [--peer transformers]`: training throughput (figures only, never
// pass/fail), and the `bench` group every benchmark registers under.
#include <cstdio>

#include "cli/bench_train_peer.h"
#include "cli/commands.h"
#include "trainer/bench_train.h"
#include "trainer/config.h"

namespace bitnet::cli {

CLI::App* bench_group(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App* a) { return a->get_name() == "bench"; })) return sub;
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks: print figures with the machine and thread count.");
  bench->require_subcommand(1);
  return bench;
}

void add_bench_train_command(CLI::App& app, int* exit_code) {
  auto* cmd = bench_group(app)->add_subcommand(
      "train",
      "Training throughput of a config on its train.device: ms/step, tokens/s, peak memory, MFU vs a matmul\n"
      "of the same shapes, the cost of quantization against the same model with quant.mode=none, and the step\n"
      "again while competing processes load the CPU. With --peer transformers: ours beside transformers' BitNet\n"
      "(eager and torch.compile) at 1 and 2 threads, with ratios and our speed-up.");
  auto config_path = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto options = std::make_shared<BenchTrainOptions>();
  auto peer = std::make_shared<std::string>();
  auto peer_options = std::make_shared<PeerBenchOptions>();
  cmd->add_option("config", *config_path, "YAML run config")->required();
  cmd->add_option("overrides", *overrides, "key.sub=value overrides");
  cmd->add_option("--warmup", options->warmup_steps, "steps before measuring")->capture_default_str();
  cmd->add_option("--steps", options->measured_steps, "measured steps")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("!--no-twin", options->compare_full_precision,
                "skip the full-precision twin (quant.mode=none) measured for the quantization-cost ratio");
  cmd->add_option("--load", options->competing_processes,
                  "also time the step with N competing processes (default: one per hardware thread; 0 skips; CPU only)")
      ->check(CLI::Range(-1, 256));
  cmd->add_option("--peer", *peer,
                  "instead, time our step beside Hugging Face transformers' BitNet (bench/hf_bitnet_train.py, from\n"
                  ".venv or $BITNET_PYTHON) with the same shapes and optimizer, per thread count, in one run")
      ->check(CLI::IsMember({"transformers"}));
  // Comma lists (one argument each), so key=value overrides may follow them.
  cmd->add_option("--peer-threads", peer_options->threads, "thread counts of the side-by-side table (default 1,2)")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--peer-modes", peer_options->modes, "the peer's modes: eager,compiled (torch.compile); default both")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->check(CLI::IsMember({"eager", "compiled"}));
  cmd->callback([=] {
    const RunConfig config = load_config(*config_path, *overrides);
    if (!peer->empty()) {
      peer_options->warmup_steps = options->warmup_steps;
      peer_options->measured_steps = options->measured_steps;
      bench_train_vs_transformers(config, *peer_options, stdout);
      *exit_code = 0;
      return;
    }
    bench_train(config, *options, stdout);
    *exit_code = 0;
  });
}

}  // namespace bitnet::cli
