// The BitNet forward (Session) on a tiny random model against an independent naive implementation
// written here: weights dequantized to float (t * w_scale), activations fake-quantized (q / s),
// plain loops with double accumulation, no KV cache, the whole sequence recomputed for every
// step. Also: prefill == token-by-token decode (bit for bit), every kernel path gives the same
// logits, the activation observer, the per-op profile, and input errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "kernels/errors.h"
#include "kernels/model.h"

namespace bitnet::kernels {
namespace {

// Tolerance on logits (|logits| are O(1..10) here): naive and Session differ only by fp32
// rounding order (~1e-6 relative); 1e-3 leaves room for that to compound over layers.
constexpr float kLogitTol = 1e-3f;

struct Dense {  // dequantized ternary matrix, [rows, cols]
  int64_t rows = 0, cols = 0;
  std::vector<float> w;
};

struct TinyModel {
  ModelWeights weights;
  std::vector<std::vector<Dense>> dense;  // per layer: q k v o gate up down
};

TinyModel make_model(formats::HiddenAct act, bool tied, uint64_t seed) {
  std::mt19937 rng(static_cast<unsigned>(seed));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> trit(-1, 1);
  std::uniform_real_distribution<float> uni(0.8f, 1.2f);
  TinyModel m;
  ModelSpec& s = m.weights.spec;
  s.vocab_size = 37;
  s.hidden_size = 32;
  s.num_layers = 2;
  s.num_heads = 4;
  s.num_kv_heads = 2;
  s.intermediate_size = 45;
  s.max_seq_len = 24;
  s.rope_theta = 10000.0f;
  s.rms_norm_eps = 1e-5f;
  s.tie_embeddings = tied;
  s.act = act;
  auto fill = [&](int64_t n, float scale) {
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = normal(rng) * scale;
    return v;
  };
  auto norm = [&](int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = uni(rng);
    return v;
  };
  const int64_t H = s.hidden_size, I = s.intermediate_size, KV = s.kv_dim();
  m.weights.embedding = fill(s.vocab_size * H, 1.0f);
  if (!tied) m.weights.lm_head = fill(s.vocab_size * H, 0.5f);
  m.weights.final_norm = norm(H);
  auto ternary = [&](int64_t rows, int64_t cols, float scale, Dense* d) {
    std::vector<int8_t> t(static_cast<size_t>(rows * cols));
    for (auto& x : t) x = static_cast<int8_t>(trit(rng));
    d->rows = rows;
    d->cols = cols;
    d->w.resize(t.size());
    for (size_t i = 0; i < t.size(); ++i) d->w[i] = static_cast<float>(t[i]) * scale;
    return TernaryMatrix(t.data(), rows, cols, scale, KernelPath::scalar);
  };
  for (int64_t l = 0; l < s.num_layers; ++l) {
    ModelWeights::Layer L;
    std::vector<Dense> d(7);
    L.input_norm = norm(H);
    L.attn_sub_norm = norm(H);
    L.post_attn_norm = norm(H);
    L.ffn_sub_norm = norm(I);
    const float sh = 1.0f / std::sqrt(static_cast<float>(H)), si = 1.0f / std::sqrt(static_cast<float>(I));
    L.q = ternary(H, H, 1.3f * sh, &d[0]);
    L.k = ternary(KV, H, 1.1f * sh, &d[1]);
    L.v = ternary(KV, H, 0.9f * sh, &d[2]);
    L.o = ternary(H, H, 0.7f * sh, &d[3]);
    L.gate = ternary(I, H, 1.2f * sh, &d[4]);
    L.up = ternary(I, H, 0.8f * sh, &d[5]);
    L.down = ternary(H, I, 0.6f * si, &d[6]);
    m.weights.layers.push_back(std::move(L));
    m.dense.push_back(std::move(d));
  }
  return m;
}

// ---- the naive reference ------------------------------------------------------------------

std::vector<float> naive_rms_norm(const std::vector<float>& x, const std::vector<float>& w, float eps) {
  double ss = 0;
  for (float v : x) ss += double(v) * v;
  const double r = 1.0 / std::sqrt(ss / double(x.size()) + eps);
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = float(x[i] * r * w[i]);
  return out;
}

std::vector<float> fake_quant(const std::vector<float>& x) {
  float absmax = 0;
  for (float v : x) absmax = std::max(absmax, std::fabs(v));
  const float s = 127.0f / std::max(absmax, 1e-5f);
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = std::min(127.0f, std::max(-128.0f, std::nearbyint(x[i] * s))) / s;
  return out;
}

std::vector<float> bit_linear(const Dense& d, const std::vector<float>& x) {
  const std::vector<float> xq = fake_quant(x);
  std::vector<float> y(static_cast<size_t>(d.rows));
  for (int64_t o = 0; o < d.rows; ++o) {
    double acc = 0;
    for (int64_t i = 0; i < d.cols; ++i) acc += double(d.w[o * d.cols + i]) * xq[i];
    y[o] = float(acc);
  }
  return y;
}

void naive_rope(std::vector<float>& x, int64_t n_heads, int64_t d, int64_t pos, double theta) {
  for (int64_t h = 0; h < n_heads; ++h)
    for (int64_t i = 0; i < d / 2; ++i) {
      const double ang = double(pos) * std::pow(theta, -2.0 * double(i) / double(d));
      const double a = x[h * d + i], b = x[h * d + i + d / 2];
      x[h * d + i] = float(a * std::cos(ang) - b * std::sin(ang));
      x[h * d + i + d / 2] = float(b * std::cos(ang) + a * std::sin(ang));
    }
}

// Logits of every position of `tokens`, recomputed from scratch.
std::vector<std::vector<float>> naive_forward(const TinyModel& m, const std::vector<int32_t>& tokens) {
  const ModelSpec& s = m.weights.spec;
  const int64_t T = static_cast<int64_t>(tokens.size()), H = s.hidden_size, D = s.head_dim();
  std::vector<std::vector<float>> x(T);
  for (int64_t t = 0; t < T; ++t)
    x[t].assign(m.weights.embedding.begin() + tokens[t] * H, m.weights.embedding.begin() + (tokens[t] + 1) * H);
  for (int64_t l = 0; l < s.num_layers; ++l) {
    const auto& L = m.weights.layers[l];
    const auto& d = m.dense[l];
    std::vector<std::vector<float>> q(T), k(T), v(T);
    for (int64_t t = 0; t < T; ++t) {
      const auto n1 = naive_rms_norm(x[t], L.input_norm, s.rms_norm_eps);
      q[t] = bit_linear(d[0], n1);
      k[t] = bit_linear(d[1], n1);
      v[t] = bit_linear(d[2], n1);
      naive_rope(q[t], s.num_heads, D, t, s.rope_theta);
      naive_rope(k[t], s.num_kv_heads, D, t, s.rope_theta);
    }
    for (int64_t t = 0; t < T; ++t) {
      std::vector<float> attn(H);
      for (int64_t h = 0; h < s.num_heads; ++h) {
        const int64_t g = h * s.num_kv_heads / s.num_heads;
        std::vector<double> sc(t + 1);
        double mx = -1e300;
        for (int64_t j = 0; j <= t; ++j) {
          double dot = 0;
          for (int64_t e = 0; e < D; ++e) dot += double(q[t][h * D + e]) * k[j][g * D + e];
          sc[j] = dot / std::sqrt(double(D));
          mx = std::max(mx, sc[j]);
        }
        double z = 0;
        for (auto& e : sc) z += (e = std::exp(e - mx));
        for (int64_t e = 0; e < D; ++e) {
          double o = 0;
          for (int64_t j = 0; j <= t; ++j) o += sc[j] / z * v[j][g * D + e];
          attn[h * D + e] = float(o);
        }
      }
      const auto o = bit_linear(d[3], naive_rms_norm(attn, L.attn_sub_norm, s.rms_norm_eps));
      for (int64_t i = 0; i < H; ++i) x[t][i] += o[i];
      const auto n2 = naive_rms_norm(x[t], L.post_attn_norm, s.rms_norm_eps);
      auto gate = bit_linear(d[4], n2);
      const auto up = bit_linear(d[5], n2);
      for (size_t i = 0; i < gate.size(); ++i) {
        const double g = gate[i];
        const double a = s.act == formats::HiddenAct::relu2 ? (g > 0 ? g * g : 0.0) : g / (1.0 + std::exp(-g));
        gate[i] = float(a * up[i]);
      }
      const auto down = bit_linear(d[6], naive_rms_norm(gate, L.ffn_sub_norm, s.rms_norm_eps));
      for (int64_t i = 0; i < H; ++i) x[t][i] += down[i];
    }
  }
  const std::vector<float>& head = s.tie_embeddings ? m.weights.embedding : m.weights.lm_head;
  std::vector<std::vector<float>> logits(T);
  for (int64_t t = 0; t < T; ++t) {
    const auto xn = naive_rms_norm(x[t], m.weights.final_norm, s.rms_norm_eps);
    logits[t].resize(s.vocab_size);
    for (int64_t vv = 0; vv < s.vocab_size; ++vv) {
      double acc = 0;
      for (int64_t i = 0; i < H; ++i) acc += double(head[vv * H + i]) * xn[i];
      logits[t][vv] = float(acc);
    }
  }
  return logits;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

const std::vector<int32_t> kTokens = {3, 17, 0, 36, 5, 5, 22, 9, 14, 30, 1};

// ---- tests ----------------------------------------------------------------------------------

class ModelTest : public ::testing::TestWithParam<std::tuple<formats::HiddenAct, bool>> {};

TEST_P(ModelTest, DecodeStepByStepMatchesNaiveFullRecompute) {
  const auto [act, tied] = GetParam();
  TinyModel m = make_model(act, tied, 11);
  const auto expected = naive_forward(m, kTokens);
  Session session(m.weights);
  float worst = 0;
  for (size_t t = 0; t < kTokens.size(); ++t) {
    const auto logits = session.decode(kTokens[t]);
    ASSERT_EQ(logits.size(), expected[t].size());
    const float err = max_abs_diff(logits, expected[t]);
    worst = std::max(worst, err);
    EXPECT_LT(err, kLogitTol) << "position " << t;
  }
  std::cout << "max |logit error| vs naive: " << worst << "\n";
}

TEST_P(ModelTest, PrefillEqualsTokenByTokenDecodeExactly) {
  const auto [act, tied] = GetParam();
  TinyModel m = make_model(act, tied, 12);
  Session a(m.weights), b(m.weights);
  std::vector<float> last;
  for (int32_t tok : kTokens) last = a.decode(tok);
  EXPECT_EQ(b.prefill(kTokens), last);
  // Prefill in two chunks, then decode more: same as decoding everything.
  b.reset();
  b.prefill({kTokens.begin(), kTokens.begin() + 4});
  EXPECT_EQ(b.prefill({kTokens.begin() + 4, kTokens.end()}), last);
  EXPECT_EQ(b.decode(7), a.decode(7));
  EXPECT_EQ(b.position(), static_cast<int64_t>(kTokens.size()) + 1);
}

// prefill_all returns every position's logits: row t equals decoding tokens[0..t] one by one.
TEST_P(ModelTest, PrefillAllGivesEveryPositionsDecodeLogits) {
  const auto [act, tied] = GetParam();
  TinyModel m = make_model(act, tied, 12);
  Session a(m.weights), b(m.weights);
  const std::vector<float> all = b.prefill_all(kTokens);
  const auto vocab = static_cast<size_t>(m.weights.spec.vocab_size);
  ASSERT_EQ(all.size(), kTokens.size() * vocab);
  for (size_t t = 0; t < kTokens.size(); ++t) {
    const std::vector<float> row(all.begin() + long(t * vocab), all.begin() + long((t + 1) * vocab));
    EXPECT_EQ(row, a.decode(kTokens[t])) << "position " << t;
  }
}

INSTANTIATE_TEST_SUITE_P(Acts, ModelTest,
                         ::testing::Combine(::testing::Values(formats::HiddenAct::relu2, formats::HiddenAct::silu),
                                            ::testing::Bool()));

TEST(Model, EveryKernelPathAndThreadCountGivesIdenticalLogits) {
  TinyModel m = make_model(formats::HiddenAct::relu2, true, 13);
  Session ref(m.weights);
  const auto expected = ref.prefill(kTokens);
  for (KernelPath path : {KernelPath::scalar, KernelPath::avx2, KernelPath::avx512}) {
    if (!kernel_path_available(path)) continue;
    set_kernel_path(m.weights, path);
    for (int threads : {1, 3}) {
      ThreadPool pool(threads);
      Session s(m.weights, &pool);
      EXPECT_EQ(s.prefill(kTokens), expected) << kernel_path_name(path) << " threads " << threads;
    }
  }
}

TEST(Model, ObserverSeesQuantizedProjectionInputs) {
  TinyModel m = make_model(formats::HiddenAct::relu2, true, 14);
  Session s(m.weights);
  std::vector<ActivationRecord> seen;
  std::vector<std::vector<int8_t>> qs;
  s.set_activation_observer({3, [&](const ActivationRecord& r) {
                               seen.push_back(r);
                               qs.emplace_back(r.q, r.q + r.n);
                             }});
  s.prefill({kTokens.begin(), kTokens.begin() + 2});
  s.decode(kTokens[2]);
  s.decode(kTokens[3]);  // position 3: beyond max_positions, not recorded
  const ModelSpec& spec = m.weights.spec;
  ASSERT_EQ(seen.size(), static_cast<size_t>(3 * spec.num_layers * 4));
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_LT(seen[i].position, 3);
    EXPECT_EQ(seen[i].n, seen[i].input == ProjectionInput::ffn_down ? spec.intermediate_size : spec.hidden_size);
    const int peak =
        *std::max_element(qs[i].begin(), qs[i].end(), [](int8_t a, int8_t b) { return std::abs(a) < std::abs(b); });
    EXPECT_EQ(std::abs(peak), 127);  // the absmax element always maps to +-127
  }
  // Layer 0's first input is rms_norm(embedding[token]); check q / s against it.
  const ActivationRecord& r0 = seen[0];
  ASSERT_EQ(r0.layer, 0);
  ASSERT_EQ(r0.input, ProjectionInput::attn_qkv);
  ASSERT_EQ(r0.position, 0);
  const int64_t H = spec.hidden_size;
  const std::vector<float> emb(m.weights.embedding.begin() + kTokens[0] * H,
                               m.weights.embedding.begin() + (kTokens[0] + 1) * H);
  const auto n1 = naive_rms_norm(emb, m.weights.layers[0].input_norm, spec.rms_norm_eps);
  for (int64_t i = 0; i < H; ++i) EXPECT_NEAR(qs[0][i] / r0.scale, n1[i], 0.5f / r0.scale + 1e-5f);
}

// The profile is bookkeeping, not a timing claim: every op has its own name, no op's time is
// negative, the ops add up to the total, each projection kind is lapped once per layer and token,
// the pool's sync time appears only with workers, and profiling leaves the logits unchanged.
TEST(Model, ProfileNamesEveryOpAndItsOpsSumToItsTotal) {
  TinyModel m = make_model(formats::HiddenAct::silu, true, 16);
  std::set<std::string> names;
  for (int i = 0; i < kOpCount; ++i) {
    const std::string name = op_name(static_cast<Op>(i));
    EXPECT_FALSE(name.empty());
    EXPECT_NE(name, "unknown");
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kOpCount));

  const int64_t layers = m.weights.spec.num_layers;
  const auto n_tok = static_cast<int64_t>(kTokens.size());
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    Session plain(m.weights, &pool), profiled(m.weights, &pool);
    OpProfile profile;
    profiled.set_profile(&profile);
    for (int32_t tok : kTokens) {
      EXPECT_EQ(profiled.decode(tok), plain.decode(tok)) << "threads " << threads;
      profile.lap(Op::sampling);
    }
    profiled.set_profile(nullptr);
    const double total = profile.total_seconds();
    profiled.decode(1);  // detached: the profile no longer changes
    EXPECT_EQ(profile.total_seconds(), total);

    double sum = 0.0;
    for (int i = 0; i < kOpCount; ++i) {
      const double secs = profile.seconds(static_cast<Op>(i));
      EXPECT_GE(secs, 0.0) << op_name(static_cast<Op>(i));
      sum += secs;
    }
    EXPECT_GT(total, 0.0);
    EXPECT_NEAR(sum, total, 1e-9 * total + 1e-12) << "threads " << threads;
    EXPECT_EQ(profile.tokens(), n_tok);
    for (Op op : {Op::proj_attn_qkv, Op::proj_attn_out, Op::proj_ffn_gate_up, Op::proj_ffn_down, Op::attention})
      EXPECT_EQ(profile.laps(op), layers * n_tok) << op_name(op);
    for (Op op : {Op::caller, Op::embedding, Op::lm_head, Op::sampling})
      EXPECT_EQ(profile.laps(op), n_tok) << op_name(op);
    EXPECT_EQ(profile.laps(Op::pool_sync), 0);  // filled from the pool, never lapped
    if (threads == 1) {
      EXPECT_EQ(profile.seconds(Op::pool_sync), 0.0);
    } else {
      EXPECT_GT(profile.pool_jobs(), static_cast<uint64_t>(n_tok));
    }
  }
}

TEST(Model, InputErrorsAreClear) {
  TinyModel m = make_model(formats::HiddenAct::silu, false, 15);
  Session s(m.weights);
  EXPECT_THROW(s.decode(37), KernelError);
  EXPECT_THROW(s.decode(-1), KernelError);
  EXPECT_THROW(s.prefill({}), KernelError);
  EXPECT_THROW(s.prefill(std::vector<int32_t>(25, 1)), KernelError);  // > max_seq_len
  EXPECT_EQ(s.position(), 0);
  ModelWeights broken = std::move(m.weights);
  broken.layers[1].ffn_sub_norm.pop_back();
  try {
    Session bad(broken);
    FAIL() << "expected KernelError";
  } catch (const KernelError& e) {
    EXPECT_NE(std::string(e.what()).find("layer 1 ffn_sub_norm"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bitnet::kernels
