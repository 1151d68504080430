// Our training step beside transformers' BitNet (see bench_train_peer.h). For each thread count,
// ours is timed first and the peer right after (its own process, the same thread count), so both
// see the same machine; the table compares medians of step time.
#include "cli/bench_train_peer.h"

#include <sys/wait.h>

#include <cstdlib>
#include <map>
#include <stdexcept>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "cli/bench_paths.h"
#include "trainer/bench_step_timing.h"
#include "trainer/console.h"
#include "trainer/device.h"
#include "trainer/host_memory.h"

namespace bitnet::cli {
namespace {

struct OursAt {
  double step_s = 0, tokens_per_s = 0, mfu = 0;
};

struct PeerRun {
  int64_t parameters = 0;
  std::string versions;
  std::map<std::string, double> step_s;       // mode -> median seconds per step
  std::map<std::string, std::string> errors;  // mode -> why it did not run
  std::map<std::string, std::string> notes;   // mode -> what the peer changed to make it train
};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// printf-style formatting of one number ("%.4f", "%.17g").
std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : sep) + p;
  return s;
}

// The peer's command line: our config's shapes and hyper-parameters, nothing left to its defaults.
std::string peer_command(const RunConfig& c, int64_t vocab, bool bf16, int64_t our_parameters, int threads,
                         const PeerBenchOptions& o) {
  const auto& m = c.model;
  // The peer gets our malloc settings (host_memory.h), so the ratios compare the training steps,
  // not two allocator policies.
  const std::string malloc_env = host_memory_env_for_peer();
  std::string cmd = (malloc_env.empty() ? "" : malloc_env + " ") + shell_quote(bench_python()) + " " +
                    shell_quote(bench_script("hf_bitnet_train.py"));
  auto arg = [&cmd](const char* name, const std::string& value) { cmd += std::string(" --") + name + " " + value; };
  auto num = [](double v) { return fmt("%.17g", v); };  // round-trips every double
  arg("hidden-size", std::to_string(m.hidden_size));
  arg("layers", std::to_string(m.num_layers));
  arg("heads", std::to_string(m.num_heads));
  arg("kv-heads", std::to_string(m.num_kv_heads));
  arg("intermediate-size", std::to_string(m.intermediate_size));
  arg("vocab", std::to_string(vocab));
  arg("max-seq-len", std::to_string(m.max_seq_len));
  arg("hidden-act", shell_quote(enum_name(m.hidden_act)));
  arg("rope-theta", num(m.rope_theta));
  arg("rms-eps", num(m.rms_norm_eps));
  if (m.tie_embeddings) cmd += " --tie";
  arg("micro-batch", std::to_string(c.train.micro_batch));
  arg("seq-len", std::to_string(c.data.seq_len));
  arg("grad-accum", std::to_string(c.train.grad_accum));
  if (bf16) cmd += " --bf16";
  arg("lr", num(c.optim.lr));
  arg("beta1", num(c.optim.betas[0]));
  arg("beta2", num(c.optim.betas[1]));
  arg("eps", num(c.optim.eps));
  arg("weight-decay", num(c.optim.weight_decay));
  arg("grad-clip", num(c.optim.grad_clip));
  arg("threads", std::to_string(threads));
  arg("warmup", std::to_string(o.warmup_steps));
  arg("steps", std::to_string(o.measured_steps));
  arg("modes", join(o.modes, ","));
  arg("seed", std::to_string(c.train.seed));
  arg("expect-parameters", std::to_string(our_parameters));
  return cmd + " 2>&1";
}

// Runs the peer and reads its JSON lines; anything else it prints is kept for the error message.
PeerRun run_peer(const std::string& cmd) {
  std::FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("bench train --peer: cannot start " + cmd);
  PeerRun run;
  std::string line, other;
  for (int ch = std::fgetc(pipe); ch != EOF; ch = std::fgetc(pipe)) {
    if (ch != '\n') {
      line += static_cast<char>(ch);
      continue;
    }
    const nlohmann::json j = line.rfind('{', 0) == 0 ? nlohmann::json::parse(line, nullptr, false) : nlohmann::json();
    if (j.is_object() && j.contains("parameters")) {
      run.parameters = j["parameters"].get<int64_t>();
      run.versions = "transformers " + j.value("transformers", "?") + ", torch " + j.value("torch", "?");
    } else if (j.is_object() && j.contains("mode") && j.contains("median_s")) {
      run.step_s[j["mode"].get<std::string>()] = j["median_s"].get<double>();
      if (j.contains("note") && j["note"].is_string())
        run.notes[j["mode"].get<std::string>()] = j["note"].get<std::string>();
    } else if (j.is_object() && j.contains("mode") && j.contains("error")) {
      run.errors[j["mode"].get<std::string>()] = j["error"].get<std::string>();
    } else {
      other += line + "\n";
    }
    line.clear();
  }
  const int status = pclose(pipe);
  if (status != 0 || run.parameters == 0) {
    if (other.size() > 2000) other = "..." + other.substr(other.size() - 2000);
    throw std::runtime_error("bench train --peer transformers: the peer failed (exit status " +
                             std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + "):\n  " + cmd + "\n" +
                             other);
  }
  return run;
}

OursAt time_ours(const RunConfig& config, const PeerBenchOptions& o, const torch::Device& device, int threads,
                 StepFigures* figures) {
  at::set_num_threads(threads);
  *figures = measure_steps(config, o.warmup_steps, o.measured_steps, device);
  const double step_s = median(figures->step_ms) / 1000.0;
  const int64_t tokens = config.train.micro_batch * config.data.seq_len * config.train.grad_accum;
  const double peak = matmul_flops_per_second(figures->shapes, config.train.micro_batch * config.data.seq_len,
                                              compute_dtype_for(config.train.precision, device), device);
  return OursAt{step_s, double(tokens) / step_s, model_flops_per_step(config, *figures) / step_s / peak};
}

std::string peer_cell(const PeerRun& run, const std::string& mode) {
  auto it = run.step_s.find(mode);
  if (it != run.step_s.end()) return fmt("%.4f", it->second);
  return run.errors.count(mode) ? "failed" : "-";
}

}  // namespace

void bench_train_vs_transformers(const RunConfig& config, const PeerBenchOptions& o, std::FILE* out) {
  const torch::Device device = resolve_training_device(config.train.device);
  if (device.is_cuda())
    throw std::runtime_error("bench train --peer transformers times CPU training (thread counts); " + config.name +
                             " trains on " + describe_device(device) + ": set train.device=cpu");
  prepare_device(device, config.train.deterministic);
  const bool bf16 = compute_dtype_for(config.train.precision, device) == torch::kBFloat16;
  const int64_t tokens = config.train.micro_batch * config.data.seq_len * config.train.grad_accum;

  auto ratio = [](const PeerRun& run, const std::string& mode, double ours_s) {
    auto it = run.step_s.find(mode);
    return it == run.step_s.end() ? std::string("-") : fmt("%.2fx", it->second / ours_s);
  };
  // A row as soon as its thread count is measured: a long run (torch.compile) shows progress.
  std::map<int, OursAt> ours;
  std::map<int, PeerRun> peer;
  for (int t : o.threads) {
    StepFigures figures;
    const OursAt a = ours[t] = time_ours(config, o, device, t, &figures);
    const PeerRun& p = peer[t] = run_peer(peer_command(config, figures.vocab_size, bf16, figures.parameters, t, o));
    if (t == o.threads.front()) {
      std::fprintf(out,
                   "bench train %s vs transformers' BitNetForCausalLM (%s): %s, %s, %s tokens/step "
                   "(micro-batch %lld x seq %lld x accum %lld), median of %lld steps after %lld warm-up\n"
                   "  parameters  ours %s, transformers %s (online AutoBitLinear: ternary weights, int8 activations, "
                   "STE)\n"
                   "  memory      both: %s\n",
                   config.name.c_str(), p.versions.c_str(), describe_device(device).c_str(),
                   describe_precision(config.train.precision, device).c_str(), format_count(tokens).c_str(),
                   (long long)config.train.micro_batch, (long long)config.data.seq_len,
                   (long long)config.train.grad_accum, (long long)o.measured_steps, (long long)o.warmup_steps,
                   format_count(figures.parameters).c_str(), format_count(p.parameters).c_str(),
                   host_memory_policy().c_str());
      std::fprintf(out, "  %-7s %-12s %-11s %-6s %-13s %-16s %-11s %s\n", "threads", "ours s/step", "ours tok/s", "MFU",
                   "eager s/step", "compiled s/step", "eager/ours", "compiled/ours");
    }
    std::fprintf(out, "  %-7d %-12.4f %-11.0f %-6s %-13s %-16s %-11s %s\n", t, a.step_s, a.tokens_per_s,
                 fmt("%.1f%%", 100.0 * a.mfu).c_str(), peer_cell(p, "eager").c_str(), peer_cell(p, "compiled").c_str(),
                 ratio(p, "eager", a.step_s).c_str(), ratio(p, "compiled", a.step_s).c_str());
    for (const auto& [mode, why] : p.errors)
      std::fprintf(out, "  transformers %s at %d thread(s) did not run: %s\n", mode.c_str(), t, why.c_str());
    for (const auto& [mode, note] : p.notes)
      std::fprintf(out, "  transformers %s at %d thread(s): %s\n", mode.c_str(), t, note.c_str());
    std::fflush(out);
  }
  if (o.threads.size() >= 2) {
    const int t0 = o.threads.front(), t1 = o.threads.back();
    std::string line = "  speed-up " + std::to_string(t0) + "->" + std::to_string(t1) + " threads: ours " +
                       fmt("%.2fx", ours[t0].step_s / ours[t1].step_s);
    for (const auto& mode : o.modes) {
      auto a = peer[t0].step_s.find(mode), b = peer[t1].step_s.find(mode);
      if (a != peer[t0].step_s.end() && b != peer[t1].step_s.end())
        line += ", transformers " + mode + " " + fmt("%.2fx", a->second / b->second);
    }
    std::fprintf(out, "%s\n", line.c_str());
  }
  std::fprintf(out,
               "  (MFU: model FLOPs per step / step time, against the best fp32/bf16 matmul of the model's "
               "projection shapes at that thread count, same run; ratios > 1 mean ours is faster)\n");
}

}  // namespace bitnet::cli
