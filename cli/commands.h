// The `bitnet` subcommands: each file adds one subcommand to the CLI11 app and runs it.
#pragma once

#include <CLI/CLI.hpp>

namespace bitnet::cli {

// Each registers its subcommand; the callback it installs stores the exit code in *exit_code.
void add_train_command(CLI::App& app, int* exit_code);
void add_config_command(CLI::App& app, int* exit_code);

}  // namespace bitnet::cli
