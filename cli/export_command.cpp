// `bitnet export CKPT_DIR --out MODEL.gguf [--type tq2_0|tq1_0] [--embd-type f16|q8_0]
//  [--format gguf|hf] [--no-verify]` and `bitnet verify MODEL.gguf --checkpoint CKPT_DIR`.
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "export/errors.h"
#include "export/export_files.h"
#include "export/verify.h"

namespace bitnet::cli {
namespace {

std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b >= (uint64_t{1} << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", double(b) / double(uint64_t{1} << 30));
  else if (b >= (uint64_t{1} << 20))
    std::snprintf(buf, sizeof buf, "%.2f MiB", double(b) / double(uint64_t{1} << 20));
  else
    std::snprintf(buf, sizeof buf, "%.1f KiB", double(b) / 1024.0);
  return buf;
}

// Which runtimes compute the file's model (docs/formats.md, "llama.cpp's bitnet architecture").
const char* llama_cpp_support(const std::string& architecture) {
  if (architecture == "bitnet") return "bitnet-run, and llama.cpp (checked: llama-cpp-python 0.3.36)";
  return "bitnet-run and bitnet.cpp; llama.cpp has no such architecture (and its \"bitnet\" one computes SiLU "
         "whatever bitnet.hidden_activation says, up to llama-cpp-python 0.3.36 at least)";
}

struct ExportArgs {
  std::string checkpoint, out, type = "tq2_0", embd_type = "f16", format = "gguf";
  bool no_verify = false;
  int threads = 1;
};

int run_export(const ExportArgs& a) {
  using namespace exporting;
  if (a.format != "gguf" && a.format != "safetensors" && a.format != "hf") {
    throw ExportError("--format \"" + a.format + "\": expected gguf or hf (safetensors is the same as hf)");
  }
  const TernaryType type = parse_ternary_type(a.type);
  const EmbdType embd = parse_embd_type(a.embd_type);
  std::printf("quantizing %s\n", a.checkpoint.c_str());
  QuantizedModel m = quantize_checkpoint(a.checkpoint);
  ExportSummary s = a.format == "gguf" ? write_gguf(m, a.out, type, embd) : write_hf_packed(m, a.out);
  std::printf("wrote %s (%s, %s)\n", s.path.c_str(), a.format.c_str(), s.architecture.c_str());
  if (a.format == "gguf") std::printf("  runs in          %s\n", llama_cpp_support(s.architecture));
  std::printf("  tensors           %lld\n", static_cast<long long>(s.tensors));
  std::printf("  ternary weights   %lld in %s: %.4f bits/weight (%s)\n", static_cast<long long>(s.ternary_weights),
              human_bytes(s.ternary_bytes).c_str(), s.ternary_bits_per_weight(),
              a.format == "gguf" ? (type == TernaryType::tq2_0 ? "TQ2_0" : "TQ1_0") : "HF packed uint8");
  std::printf("  parameters        %lld\n", static_cast<long long>(s.parameters));
  std::printf("  file size         %s (%llu bytes)\n", human_bytes(s.file_bytes).c_str(),
              static_cast<unsigned long long>(s.file_bytes));
  std::printf("  same model, bf16  %s (%.2fx larger)\n", human_bytes(s.bf16_bytes).c_str(),
              double(s.bf16_bytes) / double(std::max<uint64_t>(1, s.file_bytes)));
  if (a.no_verify) {
    std::fprintf(stderr, "warning: --no-verify: the export was NOT checked against the training model\n");
    return 0;
  }
  VerifyOptions vo;
  vo.threads = a.threads;
  VerifyReport r = a.format == "gguf" ? verify_gguf(a.out, m, vo) : verify_hf_packed(a.out, m);
  std::fputs(format_report(r).c_str(), stdout);
  if (!r.ok()) {
    std::fprintf(stderr,
                 "error: verification failed: %s does not compute the checkpoint's model (see the table above)\n",
                 a.out.c_str());
    return 2;
  }
  return 0;
}

}  // namespace

void add_export_command(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand(
      "export", "Pack a checkpoint's ternary weights into GGUF (llama.cpp) or HF safetensors, then verify.");
  cmd->add_option("checkpoint", a->checkpoint, "checkpoint directory, e.g. runs/tiny/ckpt/latest")->required();
  cmd->add_option("--out", a->out, "output file (.gguf) or directory (safetensors)")->required();
  cmd->add_option("--type", a->type, "ternary packing: tq2_0 (2.06 bits/weight, default) or tq1_0 (1.69)");
  cmd->add_option("--embd-type", a->embd_type, "token embedding: f16 (default), q8_0 or f32");
  cmd->add_option("--format", a->format,
                  "gguf (default), or hf: a Hugging Face BitNet directory (packed safetensors, config.json, "
                  "tokenizer files) that transformers loads; safetensors is the same");
  cmd->add_flag("--no-verify", a->no_verify, "skip the verification against the training model");
  cmd->add_option("--threads", a->threads, "threads for the verification (default 1)")->check(CLI::PositiveNumber);
  cmd->callback([=] { *exit_code = run_export(*a); });

  auto v = std::make_shared<ExportArgs>();
  auto* ver = app.add_subcommand(
      "verify", "Check a GGUF export against its checkpoint (codes, activations, logits, greedy text).");
  ver->add_option("model", v->out, "GGUF export")->required();
  ver->add_option("--checkpoint", v->checkpoint, "checkpoint directory it was exported from")->required();
  ver->add_option("--threads", v->threads, "threads (default 1)")->check(CLI::PositiveNumber);
  ver->callback([=] {
    exporting::QuantizedModel m = exporting::quantize_checkpoint(v->checkpoint);
    exporting::VerifyOptions vo;
    vo.threads = v->threads;
    exporting::VerifyReport r = exporting::verify_gguf(v->out, m, vo);
    std::printf("%s vs %s\n", v->out.c_str(), v->checkpoint.c_str());
    std::fputs(exporting::format_report(r).c_str(), stdout);
    *exit_code = r.ok() ? 0 : 2;
  });
}

}  // namespace bitnet::cli
