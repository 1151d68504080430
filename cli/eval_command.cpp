// `bitnet eval MODEL --data PATHS...`: loss, perplexity and bits per byte of a model on a dataset.
// MODEL is a checkpoint (or a run directory), scored by its LibTorch model in fp32, or a GGUF
// export, scored by the CPU kernels. Both read the data the way validation does during training:
// documents packed with EOS between them into consecutive windows of seq_len + 1 tokens (every
// token after a window's first is a target), or one masked example per row (only the trained
// tokens are targets). So the same model and data give the same figures through both, up to
// what export verification allows.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "checkpoint/checkpoint_model.h"
#include "cli/commands.h"
#include "cli/mode_option.h"
#include "cli/runtime.h"
#include "data/batches.h"
#include "data/byte_tokenizer.h"
#include "data/token_dataset.h"
#include "kernels/cpu_features.h"
#include "kernels/gguf_model.h"
#include "kernels/model.h"
#include "kernels/thread_pool.h"
#include "trainer/console.h"
#include "trainer/run_data.h"
#include "trainer/train_step.h"

namespace bitnet::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct EvalOptions {
  std::string model;  // checkpoint dir, run dir or .gguf file
  std::vector<std::string> data;
  data::DataFormat format = data::DataFormat::kText;
  std::string separator = "%";
  data::ChatTemplate chat_template = data::ChatTemplate::kGeneric;
  data::BadLines bad_lines = data::BadLines::kFail;
  int64_t seq_len = 0;      // tokens fed per window; 0: the checkpoint's data.seq_len, or the GGUF's context
  int64_t max_windows = 0;  // 0: all of them
  int threads = 0;          // 0: all cores
  std::string json_out;
};

// Summed cross-entropy over the targets scored so far.
struct Totals {
  double nats = 0;
  int64_t targets = 0;
  int64_t windows = 0;
};

// Prints "\r..." progress at most twice a second, and a final line.
class Progress {
 public:
  explicit Progress(int64_t total) : total_(total), start_(Clock::now()), last_(start_) {}
  void update(const Totals& t, bool final) {
    const auto now = Clock::now();
    if (!final && now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    const double s = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\reval: %lld/%lld windows, %s tokens, %.1f s (%s tokens/s)%s",
                 static_cast<long long>(t.windows), static_cast<long long>(total_),
                 format_si(double(t.targets)).c_str(), s, format_si(s > 0 ? double(t.targets) / s : 0.0).c_str(),
                 final ? "\n" : "");
    std::fflush(stderr);
  }

 private:
  int64_t total_;
  Clock::time_point start_, last_;
};

data::DatasetOptions dataset_options(const EvalOptions& o) {
  data::DatasetOptions d;
  d.format = o.format;
  d.paths = o.data;
  d.separator_line = o.separator;
  d.chat_template = o.chat_template;
  d.bad_lines = o.bad_lines;
  return d;
}

bool is_gguf(const std::string& path) {
  return path.size() >= 5 && path.compare(path.size() - 5, 5, ".gguf") == 0;
}

// The batches to score, and the bytes per target token for bits per byte.
struct EvalData {
  std::vector<data::Batch> batches;
  int64_t windows = 0;
  int64_t items = 0;
  bool masked = false;
  double bytes_per_token = 1.0;
};

EvalData load_eval_data(const EvalOptions& o, const data::Tokenizer& tokenizer, int64_t seq_len, int64_t micro_batch) {
  data::TokenDataset ds = data::load_token_dataset(dataset_options(o), tokenizer);
  EvalData d;
  d.masked = ds.masked;
  d.items = static_cast<int64_t>(ds.items.size());
  d.bytes_per_token = bytes_per_target(ds.items, tokenizer, ds.masked);
  const auto stream = eval_stream(std::move(ds.items), ds.masked, tokenizer, seq_len);
  const int64_t max_batches = o.max_windows > 0 ? (o.max_windows + micro_batch - 1) / micro_batch : INT64_MAX / 2;
  d.batches = stream->first(max_batches, micro_batch);
  if (o.max_windows > 0) {  // the last batch may hold more rows than asked for
    int64_t keep = o.max_windows;
    for (data::Batch& b : d.batches) {
      if (b.batch_size > keep) {
        b.inputs.resize(static_cast<size_t>(keep * b.seq_len));
        b.targets.resize(static_cast<size_t>(keep * b.seq_len));
        if (!b.doc_ids.empty()) b.doc_ids.resize(static_cast<size_t>(keep * b.seq_len));
        b.batch_size = keep;
        b.num_targets = 0;
        for (int32_t t : b.targets) b.num_targets += t != data::kIgnoreIndex;
      }
      keep -= b.batch_size;
    }
    while (!d.batches.empty() && d.batches.back().batch_size == 0) d.batches.pop_back();
  }
  for (const data::Batch& b : d.batches) d.windows += b.batch_size;
  return d;
}

Totals score_checkpoint(CheckpointModel& m, const EvalData& d) {
  Totals t;
  Progress progress(d.windows);
  for (const data::Batch& batch : d.batches) {
    const EvalResult r = evaluate(m.model, {batch});
    t.nats += r.loss * double(r.targets);
    t.targets += r.targets;
    t.windows += batch.batch_size;
    progress.update(t, false);
  }
  progress.update(t, true);
  return t;
}

// -log softmax(logits)[target], in double.
double token_nats(const float* logits, int64_t vocab, int32_t target) {
  double mx = -INFINITY;
  for (int64_t i = 0; i < vocab; ++i) mx = std::max(mx, double(logits[i]));
  double z = 0;
  for (int64_t i = 0; i < vocab; ++i) z += std::exp(double(logits[i]) - mx);
  return mx + std::log(z) - double(logits[target]);
}

Totals score_gguf(const kernels::LoadedModel& model, const EvalData& d, int threads) {
  kernels::ThreadPool pool(resolve_threads(threads));
  kernels::Session session(model.weights, &pool);
  const int64_t vocab = model.weights.spec.vocab_size;
  Totals t;
  Progress progress(d.windows);
  for (const data::Batch& batch : d.batches) {
    if (!batch.doc_ids.empty()) {
      throw std::runtime_error("eval: rows that pack several examples cannot be scored by the kernels");
    }
    for (int64_t r = 0; r < batch.batch_size; ++r) {
      const auto row = static_cast<size_t>(r * batch.seq_len);
      const std::vector<int32_t> inputs(batch.inputs.begin() + long(row),
                                        batch.inputs.begin() + long(row + batch.seq_len));
      session.reset();
      const std::vector<float> logits = session.prefill_all(inputs);
      for (int64_t p = 0; p < batch.seq_len; ++p) {
        const int32_t target = batch.targets[row + static_cast<size_t>(p)];
        if (target == data::kIgnoreIndex) continue;
        t.nats += token_nats(logits.data() + p * vocab, vocab, target);
        ++t.targets;
      }
      ++t.windows;
      progress.update(t, false);
    }
  }
  progress.update(t, true);
  return t;
}

int run_eval(const EvalOptions& o) {
  nlohmann::json result;
  Totals totals;
  EvalData d;
  int64_t seq_len = o.seq_len;
  if (is_gguf(o.model)) {
    const kernels::LoadedModel model = kernels::load_gguf_model(o.model, kernels::select_kernel_path());
    const std::unique_ptr<data::Tokenizer> tokenizer = tokenizer_from_gguf(model.vocab, o.model);
    const int64_t context = model.weights.spec.max_seq_len;
    if (seq_len == 0) seq_len = context;
    if (seq_len > context) {
      throw std::runtime_error("--seq-len " + std::to_string(seq_len) + " is longer than the model's context " +
                               std::to_string(context));
    }
    d = load_eval_data(o, *tokenizer, seq_len, 1);
    std::fprintf(stderr, "eval %s: GGUF %s on the CPU kernels (%s), %lld %s, %lld windows of %lld tokens\n",
                 o.model.c_str(), model.architecture.c_str(), kernels::kernel_path_name(kernels::select_kernel_path()),
                 static_cast<long long>(d.items), d.masked ? "examples" : "documents",
                 static_cast<long long>(d.windows), static_cast<long long>(seq_len));
    totals = score_gguf(model, d, o.threads);
    result["backend"] = "kernels";
  } else {
    CheckpointModel m = load_checkpoint_model(o.model);
    if (seq_len == 0) seq_len = m.config.data.seq_len;
    if (seq_len > m.config.model.max_seq_len) {
      throw std::runtime_error("--seq-len " + std::to_string(seq_len) + " is longer than the model's context " +
                               std::to_string(m.config.model.max_seq_len));
    }
    if (o.threads > 0) at::set_num_threads(o.threads);
    d = load_eval_data(o, *m.tokenizer, seq_len, 8);
    std::fprintf(stderr, "eval %s: checkpoint on LibTorch (fp32, %d threads), %lld %s, %lld windows of %lld tokens\n",
                 m.dir.c_str(), at::get_num_threads(), static_cast<long long>(d.items),
                 d.masked ? "examples" : "documents", static_cast<long long>(d.windows),
                 static_cast<long long>(seq_len));
    totals = score_checkpoint(m, d);
    result["backend"] = "libtorch";
  }
  if (totals.targets == 0) throw std::runtime_error("eval: the data holds no target token to score");
  const double loss = totals.nats / double(totals.targets);
  const double bpb = loss / std::log(2.0) / d.bytes_per_token;
  std::printf("loss %.6f nats/token | ppl %.4f | %.4f bits/byte | %lld target tokens in %lld windows\n", loss,
              std::exp(loss), bpb, static_cast<long long>(totals.targets), static_cast<long long>(totals.windows));
  if (!o.json_out.empty()) {
    result["model"] = o.model;
    result["loss"] = loss;
    result["ppl"] = std::exp(loss);
    result["bits_per_byte"] = bpb;
    result["targets"] = totals.targets;
    result["windows"] = totals.windows;
    result["seq_len"] = seq_len;
    std::ofstream f(o.json_out);
    f << result.dump(2) << "\n";
    if (!f) throw std::runtime_error("cannot write " + o.json_out);
  }
  return 0;
}

}  // namespace

void add_eval_command(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<EvalOptions>();
  auto* cmd = app.add_subcommand(
      "eval",
      "Loss, perplexity and bits per byte of a checkpoint (LibTorch) or a GGUF export (CPU kernels) on a dataset.");
  cmd->add_option("model", o->model, "checkpoint directory, run directory (its ckpt/latest) or .gguf file")->required();
  cmd->add_option("--data", o->data, "files or globs (shards: directories too)")->required();
  add_mode_option(cmd, "--format", &o->format, "dataset format",
                  {data::DataFormat::kText, data::DataFormat::kJsonl, data::DataFormat::kShards});
  cmd->add_option("--separator", o->separator, "text: line that ends a document (\"\" = blank lines; default %)");
  add_mode_option(cmd, "--chat-template", &o->chat_template, "jsonl messages");
  add_mode_option(cmd, "--bad-lines", &o->bad_lines, "jsonl");
  cmd->add_option(
         "--seq-len", o->seq_len,
         "tokens fed (and predicted) per window (default: the checkpoint's data.seq_len, or the GGUF's context)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--max-windows", o->max_windows, "score only the first N windows (default: all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--threads", o->threads, "threads; 0 = all cores (default)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--json", o->json_out, "also write the figures to this JSON file");
  cmd->callback([=] { *exit_code = run_eval(*o); });
}

}  // namespace bitnet::cli
