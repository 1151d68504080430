// `bitnet-run`: the deployable runtime. Loads a GGUF export and generates with the bundled CPU
// kernels; links no LibTorch (bitnet_kernels + bitnet_formats + bitnet_data only).
//   bitnet-run tiny.gguf --prompt "The sea" -n 64 --temp 0
#include <cstdio>
#include <exception>

#include "cli/runtime.h"

int main(int argc, char** argv) {
  CLI::App app{
      "bitnet-run: generate text with a BitNet b1.58 GGUF export on the CPU (no LibTorch).\n"
      "  bitnet-run MODEL.gguf --prompt \"The \" -n 64 [--temp 0.8 --top-k 40 --top-p 0.95 --seed 0] [--threads N]",
      "bitnet-run"};
  bitnet::cli::RunOptions options;
  bitnet::cli::add_run_options(&app, &options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return options.logprobs_json.empty() ? bitnet::cli::run_generate(options) : bitnet::cli::run_dump_logprobs(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
