// Torch-free generation and log-probability dump over a GGUF export (see runtime.h).
#include "cli/runtime.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "data/bpe_tokenizer.h"
#include "data/byte_level.h"
#include "data/byte_tokenizer.h"
#include "data/error.h"
#include "kernels/sampling.h"

namespace bitnet::cli {

std::unique_ptr<data::Tokenizer> tokenizer_from_gguf(const kernels::GgufVocab& v, const std::string& path) {
  data::ByteTokenizer byte;
  bool is_byte = v.model == "gpt2" && v.merges.empty() && static_cast<int64_t>(v.tokens.size()) >= byte.vocab_size() &&
                 v.bos == byte.bos_id() && v.eos == byte.eos_id();
  for (int b = 0; is_byte && b < 256; ++b)
    is_byte = v.tokens[size_t(b)] == data::bytes_to_byte_level(std::string(1, char(b)));
  if (is_byte) return std::make_unique<data::ByteTokenizer>();
  // A BPE vocabulary (our export of a tokenizer.json): rebuilt with the same encoder as training.
  const std::optional<std::string> pattern = data::split_pattern_for_gguf_pre(v.pre);
  if (v.model != "gpt2" || !pattern || v.merges.empty()) {
    throw std::runtime_error(path + ": tokenizer \"" + v.model + "\" (pre \"" + v.pre +
                             "\") is neither the byte vocabulary (256 byte tokens, BOS 256, EOS 257) nor a gpt2 BPE "
                             "vocabulary with merges and pre-tokenizer llama-bpe or gpt-2");
  }
  data::BpeTokenizer::Parts parts;
  parts.merges = v.merges;
  parts.split_pattern = *pattern;
  parts.ignore_merges = v.pre != "gpt-2";  // llama.cpp skips merges for whole pieces with llama-bpe
  parts.bos_id = v.bos;
  parts.eos_id = v.eos;
  parts.pad_id = v.pad;
  parts.tokens.resize(v.tokens.size());
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    const int32_t type = v.token_types.empty() ? 1 : v.token_types[id];
    if (type == 5) continue;  // unused: a hole
    parts.tokens[id] = v.tokens[id];
    if (type == 3 || type == 4) parts.added.emplace_back(static_cast<int32_t>(id), type == 3);
  }
  try {
    return data::BpeTokenizer::from_parts(parts, path);
  } catch (const data::DataError& e) {
    throw std::runtime_error(e.what());
  }
}

int resolve_threads(int threads) {
  if (threads > 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

void add_run_options(CLI::App* cmd, RunOptions* o) {
  cmd->add_option("model", o->model, "GGUF export (bitnet export)")->required();
  cmd->add_option("--prompt", o->prompt, "prompt text")->required();
  cmd->add_option("-n,--tokens", o->max_new_tokens, "tokens to generate (default 64)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  cmd->add_option("--temp", o->temperature, "temperature; 0 = greedy (default 0.8)")->check(CLI::Range(0.0f, 100.0f));
  cmd->add_option("--top-k", o->top_k, "keep the k most likely tokens; 0 = all (default 40)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", o->top_p, "nucleus probability in (0, 1] (default 0.95)")->check(CLI::Range(1e-6f, 1.0f));
  cmd->add_option("--seed", o->seed, "sampling seed (default 0)");
  cmd->add_option("--threads", o->threads, "threads; 0 = all cores (default)")->check(CLI::NonNegativeNumber);
  cmd->add_option(
      "--logprobs-json", o->logprobs_json,
      "write teacher-forced next-token log-probabilities of EOS + prompt to this JSON file instead of generating");
}

namespace {

struct Loaded {
  kernels::LoadedModel model;
  std::unique_ptr<data::Tokenizer> tokenizer;
  std::vector<int32_t> prompt;
};

Loaded load(const RunOptions& o) {
  Loaded l{kernels::load_gguf_model(o.model, kernels::select_kernel_path()), nullptr, {}};
  l.tokenizer = tokenizer_from_gguf(l.model.vocab, o.model);
  l.prompt.push_back(l.tokenizer->eos_id());
  for (int32_t id : l.tokenizer->encode(o.prompt)) l.prompt.push_back(id);
  if (static_cast<int64_t>(l.prompt.size()) > l.model.weights.spec.max_seq_len) {
    throw std::runtime_error("prompt is " + std::to_string(l.prompt.size()) + " tokens, the model's context is " +
                             std::to_string(l.model.weights.spec.max_seq_len));
  }
  return l;
}

}  // namespace

int run_generate(const RunOptions& o) {
  Loaded l = load(o);
  kernels::ThreadPool pool(resolve_threads(o.threads));
  kernels::Session session(l.model.weights, &pool);
  kernels::Rng rng(o.seed);
  const kernels::SamplingParams params{o.temperature, o.top_k, o.top_p};
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<float> logits = session.prefill(l.prompt);
  const auto t1 = std::chrono::steady_clock::now();
  int64_t produced = 0;
  std::fwrite(o.prompt.data(), 1, o.prompt.size(), stdout);
  std::fflush(stdout);
  while (produced < o.max_new_tokens && session.position() < l.model.weights.spec.max_seq_len) {
    const int32_t next = kernels::sample(logits, params, rng);
    if (next == l.tokenizer->eos_id()) break;
    const std::string piece = l.tokenizer->decode({next});
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    ++produced;
    if (produced < o.max_new_tokens && session.position() < l.model.weights.spec.max_seq_len)
      logits = session.decode(next);
  }
  const auto t2 = std::chrono::steady_clock::now();
  std::fputc('\n', stdout);
  const double pre = std::chrono::duration<double>(t1 - t0).count(),
               dec = std::chrono::duration<double>(t2 - t1).count();
  std::fprintf(stderr, "[%zu prompt tokens: %.1f tok/s | %lld generated: %.1f tok/s | %d threads, %s kernels]\n",
               l.prompt.size(), double(l.prompt.size()) / std::max(pre, 1e-9), static_cast<long long>(produced),
               double(produced) / std::max(dec, 1e-9), pool.size(),
               kernels::kernel_path_name(kernels::select_kernel_path()));
  return 0;
}

int run_dump_logprobs(const RunOptions& o) {
  Loaded l = load(o);
  kernels::ThreadPool pool(resolve_threads(o.threads));
  kernels::Session session(l.model.weights, &pool);
  nlohmann::json rows = nlohmann::json::array();
  for (int32_t tok : l.prompt) {
    std::vector<float> logits = session.decode(tok);
    double mx = -INFINITY;
    for (float v : logits) mx = std::max(mx, double(v));
    double z = 0;
    for (float v : logits) z += std::exp(double(v) - mx);
    const double lz = mx + std::log(z);
    std::vector<double> lp(logits.size());
    for (size_t i = 0; i < logits.size(); ++i) lp[i] = double(logits[i]) - lz;
    rows.push_back(lp);
  }
  nlohmann::json out = {{"tokens", l.prompt}, {"logprobs", rows}};
  std::ofstream f(o.logprobs_json);
  if (!f) throw std::runtime_error("cannot write " + o.logprobs_json);
  f << out.dump() << "\n";
  if (!f) throw std::runtime_error("error writing " + o.logprobs_json);
  return 0;
}

}  // namespace bitnet::cli
