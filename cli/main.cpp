// `bitnet`: train, fine-tune, export and run BitNet b1.58 (ternary) language models.
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "cli/omp_wait_policy.h"
#include "trainer/host_memory.h"

int main(int argc, char** argv) {
  bitnet::cli::use_short_omp_spin(argv);
  bitnet::keep_freed_memory_for_reuse();
  CLI::App app{
      "bitnet: train BitNet b1.58 (ternary) language models from a YAML config, and inspect runs.\n"
      "  bitnet train configs/tiny-fortunes.yaml                 train the built-in tiny model\n"
      "  bitnet train CONFIG.yaml train.steps=50 optim.lr=1e-3    override any key\n"
      "  bitnet config show CONFIG.yaml [key=value ...]           print the resolved config\n"
      "  bitnet data prepare a.jsonl --format jsonl --out shards/ tokenize once into token shards\n"
      "  bitnet data check CONFIG.yaml                            dataset statistics with its tokenizer\n"
      "  bitnet bench train CONFIG.yaml                           training throughput and MFU\n"
      "  bitnet bench data --sizes-gb 1,8                         data path tokens/s and memory on synthetic shards\n"
      "  bitnet export runs/NAME/ckpt/latest --out m.gguf         pack ternary weights, then verify\n"
      "  bitnet generate m.gguf --prompt \"The \" -n 64            run an export on the CPU kernels\n"
      "  bitnet verify m.gguf --checkpoint runs/NAME/ckpt/latest  check an export against its checkpoint\n"
      "  bitnet eval runs/NAME --data held-out.txt               loss, perplexity, bits/byte (or a .gguf)\n"
      "  bitnet lora merge runs/NAME --out merged                 fold LoRA adapters in, report the drift",
      "bitnet"};
  app.require_subcommand(1);
  int exit_code = 0;
  bitnet::cli::add_train_command(app, &exit_code);
  bitnet::cli::add_config_command(app, &exit_code);
  bitnet::cli::add_bench_train_command(app, &exit_code);
  bitnet::cli::add_bench_prepare_command(app, &exit_code);
  bitnet::cli::add_export_command(app, &exit_code);
  bitnet::cli::add_generate_command(app, &exit_code);
  bitnet::cli::add_bench_command(app, &exit_code);
  bitnet::cli::add_bench_data_command(app, &exit_code);
  bitnet::cli::add_lora_command(app, &exit_code);
  bitnet::cli::add_data_command(app, &exit_code);
  bitnet::cli::add_eval_command(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return exit_code;
}
