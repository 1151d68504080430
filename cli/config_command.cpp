// `bitnet config show CONFIG.yaml [key.sub=value ...]`
#include <cstdio>

#include "cli/commands.h"
#include "trainer/config.h"

namespace bitnet::cli {

void add_config_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("config", "Inspect run configs.");
  cmd->require_subcommand(1);
  auto* show = cmd->add_subcommand("show", "Print the fully resolved config (every key, defaults filled in).");
  auto config_path = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  show->add_option("config", *config_path, "YAML run config")->required();
  show->add_option("overrides", *overrides, "key.sub=value overrides");
  show->callback([=] {
    std::fputs(config_to_yaml(load_config(*config_path, *overrides)).c_str(), stdout);
    *exit_code = 0;
  });
}

}  // namespace bitnet::cli
