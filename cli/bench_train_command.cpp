// `bitnet bench train CONFIG`: training throughput (figures only, never pass/fail), and the
// `bench` group every benchmark registers under.
#include <cstdio>

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
      "train", "Training throughput of a config on its train.device: ms/step, tokens/s, peak memory, MFU vs a matmul\n"
      "of the same shapes, the cost of quantization against the same model with quant.mode=none, and the step\n"
      "again while competing processes load the CPU.");
  auto config_path = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto options = std::make_shared<BenchTrainOptions>();
  cmd->add_option("config", *config_path, "YAML run config")->required();
  cmd->add_option("overrides", *overrides, "key.sub=value overrides");
  cmd->add_option("--warmup", options->warmup_steps, "steps before measuring")->capture_default_str();
  cmd->add_option("--steps", options->measured_steps, "measured steps")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_flag("!--no-twin", options->compare_full_precision,
               "skip the full-precision twin (quant.mode=none) measured for the quantization-cost ratio");
  cmd->add_option("--load", options->competing_processes,
                  "also time the step with N competing processes (default: one per hardware thread; 0 skips; CPU only)")
      ->check(CLI::Range(-1, 256));
  cmd->callback([=] {
    bench_train(load_config(*config_path, *overrides), *options, stdout);
    *exit_code = 0;
  });
}

}  // namespace bitnet::cli
