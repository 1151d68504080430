// Export verification (see verify.h for what each check proves and why its tolerance).
#include "export/verify.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <tuple>

#include "export/errors.h"
#include "export/recording_bit_linear.h"
#include "formats/model_names.h"
#include "formats/safetensors.h"
#include "formats/ternary_pack.h"
#include "kernels/gguf_model.h"
#include "kernels/model.h"
#include "kernels/quantize.h"
#include "kernels/sampling.h"
#include "layers/quantize.h"

namespace bitnet::exporting {
namespace {

using kernels::ProjectionInput;

// The kernel matrix of the projection whose GGUF stem is `stem`.
const kernels::TernaryMatrix& matrix_of(const kernels::ModelWeights::Layer& L, const std::string& stem) {
  const auto& names = formats::projection_names();
  const auto projections = L.projections();
  for (size_t k = 0; k < names.size(); ++k) {
    if (stem == names[k].gguf) return *projections[k];
  }
  throw ExportError("no projection has the GGUF stem \"" + stem + "\"");
}

bool same_bits(float a, float b) {
  return std::memcmp(&a, &b, 4) == 0;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

void check_codes(const kernels::LoadedModel& lm, const QuantizedModel& m, VerifyReport* rep) {
  int64_t bad = 0, bad_scale = 0;
  std::string first;
  for (const QuantizedProjection& q : m.projections) {
    const kernels::TernaryMatrix& t = matrix_of(lm.weights.layers.at(static_cast<size_t>(q.layer)), q.gguf_stem);
    if (t.rows() != q.rows || t.cols() != q.cols || t.unpack() != q.codes) {
      ++bad;
      if (first.empty()) first = q.hf_name + " codes differ";
    }
    if (!same_bits(t.w_scale(), q.scale)) {
      ++bad_scale;
      if (first.empty()) first = q.hf_name + " scale " + fmt(t.w_scale()) + " vs " + fmt(q.scale);
    }
  }
  rep->checks.push_back({"ternary codes + scales", bad == 0 && bad_scale == 0,
                         std::to_string(m.projections.size()) + " projections, " + std::to_string(bad) +
                             " with other codes, " + std::to_string(bad_scale) + " with other scales" +
                             (first.empty() ? "" : " (first: " + first + ")")});
  // Norms travel as F32: bit for bit.
  int64_t bad_norm = 0;
  auto cmp = [&](const std::vector<float>& v, const std::string& hf) {
    const torch::Tensor& t = m.latent.at(hf);
    if (static_cast<int64_t>(v.size()) != t.numel() || std::memcmp(v.data(), t.data_ptr<float>(), v.size() * 4) != 0)
      ++bad_norm;
  };
  cmp(lm.weights.final_norm, formats::kFinalNormTensor.hf);
  for (size_t l = 0; l < lm.weights.layers.size(); ++l) {
    const auto norms = lm.weights.layers[l].norms();
    for (size_t n = 0; n < norms.size(); ++n) {
      cmp(*norms[n], formats::hf_layer_name(static_cast<int64_t>(l), formats::layer_norm_names()[n].hf));
    }
  }
  rep->checks.push_back({"norm weights", bad_norm == 0, std::to_string(bad_norm) + " norm tensors differ"});
}

torch::Tensor table_tensor(const kernels::TokenTable& table, const std::vector<float>& f32, int64_t vocab,
                           int64_t hidden) {
  torch::Tensor t = torch::empty({vocab, hidden}, torch::kFloat);
  if (table.empty()) {
    std::memcpy(t.data_ptr<float>(), f32.data(), f32.size() * 4);
  } else {
    for (int64_t r = 0; r < vocab; ++r) table.row(r, t.data_ptr<float>() + r * hidden);
  }
  return t;
}

// Watches the input of one BitLinear per kernel input vector and layer (the first projection of
// each group: q for q/k/v, gate for gate/up; the others read the same vector), keyed by
// (layer, ProjectionInput): swaps a RecordingBitLinear in for each.
void observe_projection_inputs(BitNetLM& model, int64_t num_layers,
                               std::map<std::pair<int64_t, int>, torch::Tensor>* captured) {
  std::map<std::string, BitLinear> by_name;
  for (auto& [name, bl] : model->bit_linears()) by_name.emplace(name, bl);
  for (int64_t layer = 0; layer < num_layers; ++layer) {
    std::set<ProjectionInput> watched;
    for (const formats::ProjectionName& pn : formats::projection_names()) {
      if (!watched.insert(pn.input).second) continue;
      const std::string name = formats::hf_layer_prefix(layer) + pn.hf;
      auto it = by_name.find(name);
      if (it == by_name.end()) throw ExportError("the reference model has no projection " + name);
      const int which = static_cast<int>(pn.input);
      auto record = [captured, layer, which](const torch::Tensor& x) {
        (*captured)[{layer, which}] = x.detach().to(torch::kFloat).contiguous();
      };
      model->replace_projection(name, std::make_shared<RecordingBitLinearImpl>(*it->second, record));
    }
  }
}

// Counts that the per-prompt comparisons add up and the final checks judge.
struct VerifyTally {
  int64_t activations_far = 0;  // codes off by more than 1, or positions the kernels never saw
  int64_t greedy_bad = 0, greedy_ties = 0, positions = 0, min_greedy = INT64_MAX;
  double kl_sum = 0, widest_tie = 0;
  std::string first_greedy;
};

// What the kernels computed for one prompt: the logits before each greedy step, the greedy
// tokens, and every quantized projection input by (layer, input) and position.
struct KernelRun {
  std::vector<std::vector<float>> logits;
  std::vector<int32_t> continuation;
  std::map<std::pair<int64_t, int>, std::map<int64_t, std::pair<std::vector<int8_t>, float>>> activations;
};

KernelRun run_kernels(const kernels::LoadedModel& lm, kernels::ThreadPool* pool, const std::vector<int32_t>& tokens,
                      int64_t steps) {
  KernelRun run;
  kernels::Session session(lm.weights, pool);
  session.set_activation_observer({lm.weights.spec.max_seq_len, [&](const kernels::ActivationRecord& r) {
                                     run.activations[{r.layer, static_cast<int>(r.input)}][r.position] = {
                                         std::vector<int8_t>(r.q, r.q + r.n), r.scale};
                                   }});
  std::vector<float> logits = session.prefill(tokens);
  for (int64_t j = 0; j < steps; ++j) {
    run.logits.push_back(logits);
    run.continuation.push_back(kernels::sample_greedy(logits));
    if (j + 1 < steps) logits = session.decode(run.continuation.back());
  }
  return run;
}

// int8 activations entering every projection at the first `fed` positions: (1) the kernels'
// quantizer on LibTorch's own fp32 input gives LibTorch's codes and scale bit for bit; (2) end to
// end, the codes the kernels computed from their own forward equal LibTorch's but for rare +-1
// flips.
void compare_activations(const std::map<std::pair<int64_t, int>, torch::Tensor>& captured, const KernelRun& run,
                         int64_t fed, VerifyReport* rep, VerifyTally* tally) {
  for (const auto& [key, x] : captured) {
    torch::Tensor codes = int8_activation_codes(x)[0];   // (T, in)
    torch::Tensor scales = int8_activation_scale(x)[0];  // (T, 1)
    torch::Tensor xin = x[0].contiguous();
    const auto found = run.activations.find(key);
    const int64_t n = codes.size(1);
    std::vector<int8_t> mine(static_cast<size_t>(n));
    for (int64_t t = 0; t < fed; ++t) {
      const int8_t* tc = codes[t].data_ptr<int8_t>();
      const float ts = scales[t][0].item<float>();
      const float ks = kernels::quantize_row(xin[t].data_ptr<float>(), n, mine.data());
      rep->quantizer_rows += 1;
      if (!same_bits(ks, ts) || std::memcmp(mine.data(), tc, size_t(n)) != 0) ++rep->quantizer_mismatch;
      if (found == run.activations.end() || !found->second.count(t)) {
        ++tally->activations_far;
        continue;
      }
      const auto& [kernel_codes, kernel_scale] = found->second.at(t);
      rep->activations_compared += n;
      rep->max_scale_rel = std::max(rep->max_scale_rel, double(std::fabs(ts - kernel_scale)) / ts);
      for (int64_t i = 0; i < n; ++i) {
        const int d = int(tc[i]) - int(kernel_codes[size_t(i)]);
        if (d == 0) continue;
        if (std::abs(d) == 1) {
          ++rep->activation_flips;
        } else {
          ++tally->activations_far;
        }
      }
    }
  }
}

// LibTorch's logits (T, V) against the kernels' before each greedy step, position by position.
void compare_logits(const torch::Tensor& torch_logits, const KernelRun& run, int64_t prompt_tokens,
                    const std::string& prompt, const VerifyOptions& opt, VerifyReport* rep, VerifyTally* tally) {
  for (size_t j = 0; j < run.logits.size(); ++j) {
    torch::Tensor t = torch_logits[prompt_tokens - 1 + static_cast<int64_t>(j)];
    torch::Tensor k = torch::from_blob(const_cast<float*>(run.logits[j].data()), {t.size(0)}, torch::kFloat);
    const double max_abs = (t - k).abs().max().item<double>();
    rep->logits_max_abs = std::max(rep->logits_max_abs, max_abs);
    rep->logits_max_rel = std::max(rep->logits_max_rel, max_abs / std::max(1e-30, t.abs().max().item<double>()));
    torch::Tensor lp = torch::log_softmax(t.to(torch::kDouble), 0), lq = torch::log_softmax(k.to(torch::kDouble), 0);
    const double kl = (lp.exp() * (lp - lq)).sum().item<double>();
    rep->max_kl = std::max(rep->max_kl, kl);
    tally->kl_sum += kl;
    ++tally->positions;
    const int64_t torch_pick = t.argmax().item<int64_t>();
    if (torch_pick == run.continuation[j]) continue;
    // LibTorch's own gap between its pick and the kernels': a near-tie flips on rounding alone.
    const double gap = (t[torch_pick] - t[run.continuation[j]]).item<double>();
    if (gap <= opt.greedy_tie_gap) {
      ++tally->greedy_ties;
      tally->widest_tie = std::max(tally->widest_tie, gap);
      continue;
    }
    ++tally->greedy_bad;
    if (tally->first_greedy.empty())
      tally->first_greedy = "prompt \"" + prompt + "\" step " + std::to_string(j) + ", gap " + std::to_string(gap);
  }
}

// The pass/fail lines of the report, each against its tolerance in `opt`.
void add_checks(const VerifyTally& tally, const VerifyOptions& opt, VerifyReport* rep) {
  rep->mean_kl = tally.positions ? tally.kl_sum / double(tally.positions) : 0;
  rep->checks.push_back({"int8 quantizer", rep->quantizer_mismatch == 0 && rep->quantizer_rows > 0,
                         std::to_string(rep->quantizer_rows) + " projection inputs quantized by both, " +
                             std::to_string(rep->quantizer_mismatch) + " differ in any code or scale bit"});
  const double compared = double(rep->activations_compared);
  const double flip_rate = rep->activations_compared ? double(rep->activation_flips) / compared : 1.0;
  const double far_rate = rep->activations_compared ? double(tally.activations_far) / compared : 1.0;
  rep->checks.push_back(
      {"int8 activations",
       flip_rate <= opt.max_flip_rate && far_rate <= opt.max_far_rate && rep->max_scale_rel <= opt.max_scale_rel,
       std::to_string(rep->activations_compared) + " codes, " + std::to_string(rep->activation_flips) + " off by 1 (" +
           fmt(flip_rate) + ", tolerance " + fmt(opt.max_flip_rate) + "), " + std::to_string(tally.activations_far) +
           " off by more (" + fmt(far_rate) + ", tolerance " + fmt(opt.max_far_rate) + "); scales max rel diff " +
           fmt(rep->max_scale_rel) + " (tolerance " + fmt(opt.max_scale_rel) + ")"});
  rep->checks.push_back({"logits max-abs", rep->logits_max_abs <= opt.max_abs_tol,
                         fmt(rep->logits_max_abs) + " (tolerance " + fmt(opt.max_abs_tol) + ")"});
  rep->checks.push_back({"logits max-rel", rep->logits_max_rel <= opt.max_rel_tol,
                         fmt(rep->logits_max_rel) + " (tolerance " + fmt(opt.max_rel_tol) + ")"});
  rep->checks.push_back(
      {"KL(torch||kernels)", rep->max_kl <= opt.max_kl_tol,
       "max " + fmt(rep->max_kl) + ", mean " + fmt(rep->mean_kl) + " nats (tolerance " + fmt(opt.max_kl_tol) + ")"});
  rep->checks.push_back(
      {"greedy continuation", tally.greedy_bad == 0 && tally.min_greedy >= std::min<int64_t>(32, opt.greedy_tokens),
       std::to_string(opt.prompts.size()) + " prompts x " + std::to_string(tally.min_greedy) + " tokens, " +
           std::to_string(tally.greedy_bad) + " steps differ" +
           (tally.first_greedy.empty() ? "" : " (first: " + tally.first_greedy + ")") +
           (tally.greedy_ties == 0 ? ""
                                   : ", " + std::to_string(tally.greedy_ties) + " near-tie(s) (gap " +
                                         fmt(tally.widest_tie) + " <= " + fmt(opt.greedy_tie_gap) + ")")});
}

}  // namespace

VerifyReport verify_gguf(const std::string& path, const QuantizedModel& m, const VerifyOptions& opt) {
  torch::NoGradGuard no_grad;
  VerifyReport rep;
  kernels::LoadedModel lm = kernels::load_gguf_model(path, kernels::select_kernel_path());
  const kernels::ModelSpec& spec = lm.weights.spec;
  if (spec.vocab_size != m.options.vocab_size || spec.hidden_size != m.options.hidden_size ||
      spec.num_layers != m.options.num_layers || spec.tie_embeddings != m.options.tie_embeddings) {
    throw ExportError(path + " does not hold the checkpoint's model shape");
  }
  check_codes(lm, m, &rep);

  // The reference: the checkpoint's model with the embedding as the file stores it (F16 / Q8_0).
  BitNetLM ref = build_torch_model(m);
  ref->model->embed_tokens->weight.copy_(
      table_tensor(lm.weights.token_table, lm.weights.embedding, spec.vocab_size, spec.hidden_size));
  if (!spec.tie_embeddings)
    ref->lm_head->weight.copy_(
        table_tensor(lm.weights.output_table, lm.weights.lm_head, spec.vocab_size, spec.hidden_size));
  std::map<std::pair<int64_t, int>, torch::Tensor> captured;
  observe_projection_inputs(ref, spec.num_layers, &captured);

  kernels::ThreadPool pool(opt.threads);
  VerifyTally tally;
  for (const std::string& prompt : opt.prompts) {
    std::vector<int32_t> tokens = {m.tokenizer->eos_id()};
    for (int32_t id : m.tokenizer->encode(prompt)) tokens.push_back(id);
    const int64_t P = static_cast<int64_t>(tokens.size());
    const int64_t N = std::min<int64_t>(opt.greedy_tokens, spec.max_seq_len - P);
    tally.min_greedy = std::min(tally.min_greedy, N);
    const KernelRun run = run_kernels(lm, &pool, tokens, N);
    std::vector<int64_t> all(tokens.begin(), tokens.end());
    for (int32_t c : run.continuation) all.push_back(c);
    captured.clear();
    const torch::Tensor torch_logits = ref(torch::tensor(all, torch::kLong).view({1, -1}))[0];  // (T, V)
    compare_activations(captured, run, P + N - 1, &rep, &tally);  // P + N - 1: the positions the kernels ran
    compare_logits(torch_logits, run, P, prompt, opt, &rep, &tally);
  }
  add_checks(tally, opt, &rep);
  return rep;
}

VerifyReport verify_hf_packed(const std::string& dir, const QuantizedModel& m) {
  VerifyReport rep;
  formats::SafetensorsReader r = formats::SafetensorsReader::open(dir + "/model.safetensors");
  int64_t bad = 0;
  std::string first;
  for (const QuantizedProjection& q : m.projections) {
    const formats::TensorInfo* w = r.find(q.hf_name);
    const formats::TensorInfo* s = r.find(q.hf_name + "_scale");
    bool ok = w && s && w->dtype == formats::DType::U8 && s->dtype == formats::DType::F32 && s->nbytes == 4;
    if (ok) {
      std::vector<int8_t> codes(q.codes.size());
      formats::unpack_hf_bitnet(r.data(*w), w->nbytes, q.rows, q.cols, codes.data());
      float scale;
      std::memcpy(&scale, r.data(*s), 4);
      ok = codes == q.codes && same_bits(scale, q.scale);
    }
    if (!ok) {
      ++bad;
      if (first.empty()) first = q.hf_name;
    }
  }
  rep.checks.push_back({"ternary codes + scales", bad == 0,
                        std::to_string(m.projections.size()) + " projections, " + std::to_string(bad) + " differ" +
                            (first.empty() ? "" : " (first: " + first + ")")});
  return rep;
}

std::string format_report(const VerifyReport& rep) {
  std::ostringstream os;
  size_t w = 5;
  for (const auto& c : rep.checks) w = std::max(w, c.name.size());
  os << "  " << std::string("check").append(w - 5, ' ') << "  result  detail\n";
  for (const auto& c : rep.checks) {
    os << "  " << c.name << std::string(w - c.name.size(), ' ') << "  " << (c.pass ? "ok    " : "FAIL  ") << "  "
       << c.detail << "\n";
  }
  os << (rep.ok() ? "verification passed\n" : "verification FAILED\n");
  return os.str();
}

}  // namespace bitnet::exporting
