// `bitnet train CONFIG.yaml [key.sub=value ...] [--nproc N]`: one process, one rank of a
// torchrun/srun-style distributed run (WORLD_SIZE etc. in the environment), or, with --nproc,
// the launcher of N local ranks (cli/launcher.h, docs/distributed.md).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/launcher.h"
#include "trainer/communicator.h"
#include "trainer/config.h"
#include "trainer/device.h"
#include "trainer/distributed.h"
#include "trainer/trainer.h"

namespace bitnet::cli {
namespace {

const char* lookup_env(const char* name) {
  return std::getenv(name);
}

// train.threads=0 means "all cores"; ranks sharing a machine split them.
void share_cores(RunConfig& config, int64_t local_world_size) {
  if (config.train.threads != 0 || local_world_size <= 1) return;
  const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
  config.train.threads = std::max<int64_t>(1, cores / local_world_size);
}

void print_collective_stats(const ProcessGroupCommunicator& comm, DistributedBackend backend) {
  const CollectiveStats& s = comm.stats();
  if (s.calls == 0) return;
  std::printf(
      "all-reduce (%s, %lld ranks): %lld calls, %.2f ms per call on average, %.2f MB in the largest, "
      "%.2f s in total\n",
      enum_name(backend), static_cast<long long>(comm.world_size()), static_cast<long long>(s.calls),
      1000.0 * s.seconds / double(s.calls), double(s.largest_call_bytes) / 1e6, s.seconds);
}

int train_one_rank(const std::string& config_path, const std::vector<std::string>& overrides) {
  RunConfig config = load_config(config_path, overrides);
  std::string overrides_text;
  for (const auto& o : overrides) overrides_text += (overrides_text.empty() ? "" : " ") + o;
  const std::optional<DistributedEnv> env = read_distributed_env(lookup_env);
  if (!env || env->world_size == 1) {
    LocalCommunicator comm;
    return run_training(config, config_path, overrides_text, comm, stdout);
  }
  share_cores(config, env->local_world_size);
  DistributedConfig distributed = config.distributed;
  distributed.backend =
      resolve_distributed_backend(distributed.backend, resolve_training_device(config.train.device, env->local_rank));
  std::unique_ptr<ProcessGroupCommunicator> comm = join_process_group(*env, distributed);
  const int code = run_training(config, config_path, overrides_text, *comm, stdout);
  if (comm->is_main()) print_collective_stats(*comm, distributed.backend);
  return code;
}

}  // namespace

void add_train_command(CLI::App& app, int* exit_code) {
  auto* cmd =
      app.add_subcommand("train",
                         "Train a model as the YAML config says. Arguments after the config are overrides,\n"
                         "e.g. train.steps=50 optim.lr=1e-3 data.paths=[my.txt] resume=auto.\n"
                         "The run directory is log.dir/name (default runs/<name>): config.yaml, metrics.jsonl,\n"
                         "samples.txt, loss.svg and ckpt/. SIGINT/SIGTERM finish the step, checkpoint and exit;\n"
                         "resume=auto continues from the newest valid checkpoint.\n"
                         "Data-parallel: --nproc N starts N local ranks; under torchrun or srun (RANK, WORLD_SIZE,\n"
                         "MASTER_ADDR, MASTER_PORT set) each process is one rank. See docs/distributed.md.");
  auto config_path = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto nproc = std::make_shared<int>(0);
  cmd->add_option("config", *config_path, "YAML run config, e.g. configs/tiny-fortunes.yaml")->required();
  cmd->add_option("overrides", *overrides, "key.sub=value overrides, applied in order");
  cmd->add_option("--nproc", *nproc,
                  "start N local ranks on loopback (like torchrun --standalone --nproc-per-node N); "
                  "the global batch is micro_batch x grad_accum x N")
      ->check(CLI::Range(1, 1024));
  cmd->callback([=] {
    if (*nproc == 0) {
      *exit_code = train_one_rank(*config_path, *overrides);
      return;
    }
    if (std::getenv("WORLD_SIZE") != nullptr) {
      throw DistributedError(
          "--nproc starts its own ranks, but WORLD_SIZE is already set (this process is a rank "
          "of torchrun, srun or another launcher): drop --nproc or unset WORLD_SIZE");
    }
    const RunConfig config = load_config(*config_path, *overrides);  // fail here, once, on a bad config
    if (config.distributed.backend == DistributedBackend::kNccl && !nccl_available()) {
      throw DistributedError(
          "distributed.backend=nccl needs a LibTorch built with CUDA and NCCL, and this build has "
          "none; use distributed.backend=gloo (docs/distributed.md)");
    }
    LaunchOptions launch;
    launch.nproc = *nproc;
    launch.timeout_s = config.distributed.timeout_s;
    launch.args = {"train", *config_path};
    launch.args.insert(launch.args.end(), overrides->begin(), overrides->end());
    *exit_code = launch_local_ranks(launch);
  });
}

}  // namespace bitnet::cli
