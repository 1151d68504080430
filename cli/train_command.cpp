// `bitnet train CONFIG.yaml [key.sub=value ...]`
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "trainer/communicator.h"
#include "trainer/config.h"
#include "trainer/trainer.h"

namespace bitnet::cli {

void add_train_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "train",
      "Train a model as the YAML config says. Arguments after the config are overrides,\n"
      "e.g. train.steps=50 optim.lr=1e-3 data.paths=[my.txt] resume=auto.\n"
      "The run directory is log.dir/name (default runs/<name>): config.yaml, metrics.jsonl,\n"
      "samples.txt, loss.svg and ckpt/. SIGINT/SIGTERM finish the step, checkpoint and exit;\n"
      "resume=auto continues from the newest valid checkpoint.");
  auto config_path = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  cmd->add_option("config", *config_path, "YAML run config, e.g. configs/tiny-fortunes.yaml")->required();
  cmd->add_option("overrides", *overrides, "key.sub=value overrides, applied in order");
  cmd->callback([=] {
    const RunConfig config = load_config(*config_path, *overrides);
    std::string overrides_text;
    for (const auto& o : *overrides) overrides_text += (overrides_text.empty() ? "" : " ") + o;
    LocalCommunicator comm;
    *exit_code = run_training(config, *config_path, overrides_text, comm, stdout);
  });
}

}  // namespace bitnet::cli
