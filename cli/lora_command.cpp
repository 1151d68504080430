// `bitnet lora merge CKPT_OR_RUN --out DIR [--batches N]`: fold a LoRA run's adapters into its
// base, re-quantize, report the drift, write the merged checkpoint (see trainer/lora_merge.h).
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "trainer/lora_merge.h"

namespace bitnet::cli {
namespace {

struct MergeArgs {
  std::string source, out;
  int64_t batches = 8;
};

int run_merge(const MergeArgs& a) {
  std::printf("merging the LoRA adapters of %s\n", a.source.c_str());
  const MergeReport r = merge_lora(a.source, a.out, a.batches);
  std::printf("  checkpoint          %s (%lld adapted projections)\n", r.checkpoint_dir.c_str(),
              static_cast<long long>(r.adapted_layers));
  std::printf("  merged checkpoint   %s\n", r.merged_dir.c_str());
  std::printf("  exact before re-quantization: max |logits diff| %.3g (quantization off, merged vs base+adapter)\n",
              r.max_abs_prequant);
  std::printf("  ternary codes changed by the merge: %.4f%% of the adapted projections' weights\n",
              100.0 * r.codes_changed);
  std::printf("  held-out text (%lld tokens):\n", static_cast<long long>(r.eval_tokens));
  std::printf("    loss base alone        %.4f\n", r.loss_base);
  std::printf("    loss base + adapter    %.4f\n", r.loss_adapter);
  std::printf("    loss merged ternary    %.4f  (%+.4f vs base + adapter)\n", r.loss_merged,
              r.loss_merged - r.loss_adapter);
  std::printf("    KL(base+adapter || merged) %.5f nats/token\n", r.kl);
  std::printf("export it with: bitnet export %s/latest --out MODEL.gguf\n", a.out.c_str());
  return 0;
}

}  // namespace

void add_lora_command(CLI::App& app, int* exit_code) {
  auto* group = app.add_subcommand("lora", "LoRA adapters: merge them into their base.");
  group->require_subcommand(1);
  auto a = std::make_shared<MergeArgs>();
  auto* merge = group->add_subcommand(
      "merge", "Fold a LoRA run's adapters into the latent weights, re-quantize, report the drift.");
  merge->add_option("source", a->source, "LoRA checkpoint directory or run directory (uses ckpt/latest)")->required();
  merge->add_option("--out", a->out, "directory for the merged checkpoint (OUT/latest)")->required();
  merge->add_option("--batches", a->batches, "held-out batches to measure the drift on (default 8)")
      ->check(CLI::PositiveNumber);
  merge->callback([=] { *exit_code = run_merge(*a); });
}

}  // namespace bitnet::cli
