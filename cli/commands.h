// The `bitnet` subcommands: each file adds one subcommand to the CLI11 app and runs it.
#pragma once

#include <CLI/CLI.hpp>

namespace bitnet::cli {

// Each registers its subcommand; the callback it installs stores the exit code in *exit_code.
void add_train_command(CLI::App& app, int* exit_code);
void add_config_command(CLI::App& app, int* exit_code);
void add_bench_train_command(CLI::App& app, int* exit_code);

// The `bench` subcommand group, created on first use so each benchmark registers itself.
CLI::App* bench_group(CLI::App& app);
void add_export_command(CLI::App& app, int* exit_code);  // export, verify
void add_generate_command(CLI::App& app, int* exit_code);
void add_bench_command(CLI::App& app, int* exit_code);       // bench kernels, bench generate
void add_bench_data_command(CLI::App& app, int* exit_code);  // bench data
void add_lora_command(CLI::App& app, int* exit_code);        // lora merge
void add_data_command(CLI::App& app, int* exit_code);        // data prepare, data check
void add_data_prepare_command(CLI::App& data_command, int* exit_code);
void add_bench_prepare_command(CLI::App& app, int* exit_code);
void add_eval_command(CLI::App& app, int* exit_code);

}  // namespace bitnet::cli
