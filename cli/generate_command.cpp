// `bitnet generate MODEL.gguf --prompt TEXT [-n N] [--temp T --top-k K --top-p P --seed S]`:
// streams a generation from an export on the bundled CPU kernels (the same code as bitnet-run).
#include <memory>

#include "cli/commands.h"
#include "cli/runtime.h"

namespace bitnet::cli {

void add_generate_command(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<RunOptions>();
  auto* cmd =
      app.add_subcommand("generate", "Generate text from a GGUF export on the CPU kernels (greedy with --temp 0).");
  add_run_options(cmd, o.get());
  cmd->callback([=] { *exit_code = o->logprobs_json.empty() ? run_generate(*o) : run_dump_logprobs(*o); });
}

}  // namespace bitnet::cli
