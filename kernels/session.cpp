// Session: the batched BitNet forward with a per-layer KV cache. prefill() runs T tokens as one
// GEMM per projection, decode() is the T = 1 case (GEMV); both go through forward(), and every
// fp32 step is done per token in the same order, so prefill and token-by-token decode agree bit
// for bit.
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>

#include "kernels/errors.h"
#include "kernels/model.h"
#include "kernels/model_ops.h"
#include "kernels/quantize.h"

namespace bitnet::kernels {
namespace {

// Per-token int8 activations for a batch: q (T, n) and scales (T).
struct Quantized {
  std::vector<int8_t> q;
  std::vector<float> s;
  int64_t n = 0;
};

void quantize_batch(const std::vector<float>& x, int64_t n_tok, int64_t n, Quantized* out) {
  out->n = n;
  out->q.resize(static_cast<size_t>(n_tok * n));
  out->s.resize(static_cast<size_t>(n_tok));
  quantize_rows(x.data(), n_tok, n, out->q.data(), out->s.data());
}

// One projection of a shared-input group: its matrix, int32 scratch and fp32 output (T, rows).
struct Projection {
  const TernaryMatrix* m;
  std::vector<int32_t>* acc;
  std::vector<float>* y;
};

// y (T, rows) = ((float)(W . q_t) / s_t) * w_scale for every projection of the group, whose
// products run as one pool job (TernaryMatrix::gemm_group).
void project(std::initializer_list<Projection> group, const Quantized& in, int64_t n_tok, ThreadPool* pool) {
  std::vector<TernaryMatrix::GroupItem> items;
  items.reserve(group.size());
  for (const Projection& p : group) {
    p.acc->resize(static_cast<size_t>(n_tok * p.m->rows()));
    p.y->resize(static_cast<size_t>(n_tok * p.m->rows()));
    items.push_back({p.m, p.acc->data()});
  }
  TernaryMatrix::gemm_group(items.data(), static_cast<int>(items.size()), in.q.data(), static_cast<int>(n_tok), pool);
  for (const Projection& p : group) {
    const int64_t rows = p.m->rows();
    for (int64_t t = 0; t < n_tok; ++t)
      rescale_output(p.acc->data() + t * rows, rows, in.s[t], p.m->w_scale(), p.y->data() + t * rows);
  }
}

void norm_rows(const std::vector<float>& x, const std::vector<float>& w, int64_t n_tok, int64_t n, float eps,
               std::vector<float>* out) {
  out->resize(static_cast<size_t>(n_tok * n));
  for (int64_t t = 0; t < n_tok; ++t) ops::rms_norm(x.data() + t * n, w.data(), n, eps, out->data() + t * n);
}

}  // namespace

Session::Session(const ModelWeights& weights, ThreadPool* pool) : w_(weights), pool_(pool) {
  validate_weights(w_);
  const ModelSpec& s = w_.spec;
  inv_freq_.resize(static_cast<size_t>(s.head_dim() / 2));
  ops::rope_inv_freq(s.head_dim(), s.rope_theta, inv_freq_.data());
  k_cache_.resize(static_cast<size_t>(s.num_layers));
  v_cache_.resize(static_cast<size_t>(s.num_layers));
}

void Session::reset() {
  pos_ = 0;
  for (auto& c : k_cache_) c.clear();
  for (auto& c : v_cache_) c.clear();
}

std::vector<float> Session::prefill(const std::vector<int32_t>& tokens) {
  if (tokens.empty()) throw KernelError("Session::prefill: empty token list");
  return forward(tokens.data(), static_cast<int64_t>(tokens.size()), false);
}

std::vector<float> Session::prefill_all(const std::vector<int32_t>& tokens) {
  if (tokens.empty()) throw KernelError("Session::prefill_all: empty token list");
  return forward(tokens.data(), static_cast<int64_t>(tokens.size()), true);
}

std::vector<float> Session::decode(int32_t token) {
  return forward(&token, 1, false);
}

void Session::set_profile(OpProfile* profile) {
  profile_ = profile;
  if (pool_ != nullptr) pool_->set_sync_timing(profile != nullptr);
  if (profile != nullptr) profile->start(pool_);
}

void Session::output_logits(const float* x_row, float* logits, const ProfileLaps& lap) const {
  const ModelSpec& s = w_.spec;
  const int64_t H = s.hidden_size;
  std::vector<float> normed(static_cast<size_t>(H));
  ops::rms_norm(x_row, w_.final_norm.data(), H, s.rms_norm_eps, normed.data());
  lap(Op::rms_norm);
  const TokenTable& compact = s.tie_embeddings ? w_.token_table : w_.output_table;
  if (!compact.empty()) {
    // The projections' path also picks the table's (scalar stays the reference everywhere).
    const KernelPath path = w_.layers.empty() ? KernelPath::scalar : w_.layers[0].q.path();
    compact.gemv(normed.data(), logits, pool_, path);
  } else {
    const float* table = s.tie_embeddings ? w_.embedding.data() : w_.lm_head.data();
    ops::lm_head(table, normed.data(), s.vocab_size, H, logits, pool_);
  }
  lap(Op::lm_head);
}

std::vector<float> Session::forward(const int32_t* tokens, int64_t T, bool all_positions) {
  const ProfileLaps lap(profile_);
  lap(Op::caller);
  const ModelSpec& s = w_.spec;
  const int64_t H = s.hidden_size, I = s.intermediate_size, KV = s.kv_dim(), D = s.head_dim();
  const int64_t group = s.num_heads / s.num_kv_heads;
  if (pos_ + T > s.max_seq_len) {
    throw KernelError("Session: sequence of " + std::to_string(pos_ + T) + " tokens exceeds max_seq_len " +
                      std::to_string(s.max_seq_len) + "; call reset() or use a shorter prompt");
  }
  for (int64_t t = 0; t < T; ++t) {
    if (tokens[t] < 0 || tokens[t] >= s.vocab_size) {
      throw KernelError("Session: token id " + std::to_string(tokens[t]) + " at index " + std::to_string(t) +
                        " is outside the vocabulary [0, " + std::to_string(s.vocab_size) + ")");
    }
  }
  const int64_t p0 = pos_;
  auto observe = [&](int64_t layer, ProjectionInput which, const Quantized& in) {
    if (!observer_.callback) return;
    for (int64_t t = 0; t < T && p0 + t < observer_.max_positions; ++t) {
      observer_.callback(ActivationRecord{layer, which, p0 + t, in.q.data() + t * in.n, in.n, in.s[t]});
    }
  };

  std::vector<float> x(static_cast<size_t>(T * H));  // residual stream (T, H)
  for (int64_t t = 0; t < T; ++t) {
    if (w_.token_table.empty()) {
      std::copy_n(w_.embedding.data() + tokens[t] * H, H, x.data() + t * H);
    } else {
      w_.token_table.row(tokens[t], x.data() + t * H);
    }
  }
  if (profile_ != nullptr) profile_->add_tokens(T);
  lap(Op::embedding);

  std::vector<float> normed, qv, kv, vv, attn(static_cast<size_t>(T * H)), proj, gate, up;
  std::vector<int32_t> acc[3];
  Quantized qin;
  for (int64_t l = 0; l < s.num_layers; ++l) {
    const ModelWeights::Layer& L = w_.layers[static_cast<size_t>(l)];
    // Attention block.
    norm_rows(x, L.input_norm, T, H, s.rms_norm_eps, &normed);
    lap(Op::rms_norm);
    quantize_batch(normed, T, H, &qin);
    observe(l, ProjectionInput::attn_qkv, qin);
    lap(Op::quantize);
    project({{&L.q, &acc[0], &qv}, {&L.k, &acc[1], &kv}, {&L.v, &acc[2], &vv}}, qin, T, pool_);  // (T, H|KV|KV)
    lap(Op::proj_attn_qkv);
    for (int64_t t = 0; t < T; ++t) {
      ops::rope(qv.data() + t * H, s.num_heads, D, p0 + t, inv_freq_.data());
      ops::rope(kv.data() + t * KV, s.num_kv_heads, D, p0 + t, inv_freq_.data());
    }
    lap(Op::rope);
    std::vector<float>& kc = k_cache_[static_cast<size_t>(l)];
    std::vector<float>& vc = v_cache_[static_cast<size_t>(l)];
    kc.resize(static_cast<size_t>((p0 + T) * KV));  // cache (pos, KV)
    vc.resize(static_cast<size_t>((p0 + T) * KV));
    std::copy(kv.begin(), kv.end(), kc.begin() + p0 * KV);
    std::copy(vv.begin(), vv.end(), vc.begin() + p0 * KV);
    auto heads = [&](int64_t begin, int64_t end) {
      std::vector<float> scores(static_cast<size_t>(p0 + T));
      for (int64_t item = begin; item < end; ++item) {
        const int64_t t = item / s.num_heads, h = item % s.num_heads, g = h / group;
        ops::attend(qv.data() + t * H + h * D, kc.data() + g * D, vc.data() + g * D, KV, p0 + t + 1, D, scores.data(),
                    attn.data() + t * H + h * D);
      }
    };
    if (pool_ != nullptr && pool_->size() > 1) {
      pool_->parallel_for(T * s.num_heads, 1, heads);
    } else {
      heads(0, T * s.num_heads);
    }
    lap(Op::attention);
    norm_rows(attn, L.attn_sub_norm, T, H, s.rms_norm_eps, &normed);
    lap(Op::rms_norm);
    quantize_batch(normed, T, H, &qin);
    observe(l, ProjectionInput::attn_out, qin);
    lap(Op::quantize);
    project({{&L.o, &acc[0], &proj}}, qin, T, pool_);
    lap(Op::proj_attn_out);
    for (int64_t i = 0; i < T * H; ++i) x[i] += proj[i];
    lap(Op::residual);
    // Feed-forward block.
    norm_rows(x, L.post_attn_norm, T, H, s.rms_norm_eps, &normed);
    lap(Op::rms_norm);
    quantize_batch(normed, T, H, &qin);
    observe(l, ProjectionInput::ffn_gate_up, qin);
    lap(Op::quantize);
    project({{&L.gate, &acc[0], &gate}, {&L.up, &acc[1], &up}}, qin, T, pool_);  // (T, I) each
    lap(Op::proj_ffn_gate_up);
    ops::glu(gate.data(), up.data(), T * I, s.act);
    lap(Op::glu);
    norm_rows(gate, L.ffn_sub_norm, T, I, s.rms_norm_eps, &normed);
    lap(Op::rms_norm);
    quantize_batch(normed, T, I, &qin);
    observe(l, ProjectionInput::ffn_down, qin);
    lap(Op::quantize);
    project({{&L.down, &acc[0], &proj}}, qin, T, pool_);
    lap(Op::proj_ffn_down);
    for (int64_t i = 0; i < T * H; ++i) x[i] += proj[i];
    lap(Op::residual);
  }
  pos_ = p0 + T;
  const int64_t first = all_positions ? 0 : T - 1;
  std::vector<float> logits(static_cast<size_t>((T - first) * s.vocab_size));
  for (int64_t t = first; t < T; ++t) {
    output_logits(x.data() + t * H, logits.data() + (t - first) * s.vocab_size, lap);
  }
  return logits;
}

}  // namespace bitnet::kernels
