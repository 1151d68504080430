// A tiny BitNetLM with fixed random weights against an independent plain-loop implementation
// of docs/architecture.md written here (no LibTorch ops in the reference path).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "layers/bitnet_lm.h"

namespace bitnet {
namespace {

using Vec = std::vector<float>;
using Weights = std::map<std::string, Vec>;

Weights copy_weights(BitNetLM& model) {
  Weights w;
  for (const auto& item : model->named_parameters()) {
    torch::Tensor t = item.value().detach().contiguous();
    w[item.key()] = Vec(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  }
  return w;
}

Vec rms_norm(const Vec& x, const Vec& weight, float eps) {
  double sum = 0;
  for (float v : x) sum += double(v) * v;
  const float inv = 1.0f / std::sqrt(float(sum / x.size()) + eps);
  Vec y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * inv * weight[i];
  return y;
}

// y = x_q · W_qᵀ with per-tensor ternary W and per-token int8 x, or plain x · Wᵀ.
Vec linear(const Vec& x, const Vec& W, size_t out, bool quantize) {
  const size_t in = x.size();
  Vec y(out, 0.0f);
  if (!quantize) {
    for (size_t o = 0; o < out; ++o) {
      double acc = 0;
      for (size_t i = 0; i < in; ++i) acc += double(x[i]) * W[o * in + i];
      y[o] = float(acc);
    }
    return y;
  }
  double abs_sum = 0;
  for (float v : W) abs_sum += std::fabs(v);
  const float s_w = 1.0f / std::max(float(abs_sum / W.size()), 1e-5f);
  float absmax = 0;
  for (float v : x) absmax = std::max(absmax, std::fabs(v));
  const float s_x = 127.0f / std::max(absmax, 1e-5f);
  for (size_t o = 0; o < out; ++o) {
    long acc = 0;
    for (size_t i = 0; i < in; ++i) {
      long t = std::clamp(long(std::nearbyint(W[o * in + i] * s_w)), -1L, 1L);
      long q = std::clamp(long(std::nearbyint(x[i] * s_x)), -128L, 127L);
      acc += t * q;
    }
    y[o] = float(acc) / (s_x * s_w);
  }
  return y;
}

// Rotate-half RoPE of one head vector at position pos.
void rope(float* v, size_t D, size_t pos, double theta) {
  const size_t half = D / 2;
  for (size_t i = 0; i < half; ++i) {
    const double angle = pos / std::pow(theta, 2.0 * i / D);
    const double a = v[i], b = v[i + half];
    v[i] = float(a * std::cos(angle) - b * std::sin(angle));
    v[i + half] = float(b * std::cos(angle) + a * std::sin(angle));
  }
}

std::vector<Vec> reference_logits(const BitNetOptions& o, Weights& w, const std::vector<int64_t>& tokens) {
  const size_t C = o.hidden_size, H = o.num_heads, KV = o.num_kv_heads, D = C / H, F = o.intermediate_size;
  const size_t T = tokens.size(), V = o.vocab_size;
  const float eps = float(o.rms_norm_eps);
  std::vector<Vec> x(T);
  const Vec& emb = w["model.embed_tokens.weight"];
  for (size_t t = 0; t < T; ++t) x[t] = Vec(emb.begin() + tokens[t] * C, emb.begin() + (tokens[t] + 1) * C);
  for (int64_t l = 0; l < o.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    std::vector<Vec> q(T), k(T), v(T);
    for (size_t t = 0; t < T; ++t) {
      Vec n1 = rms_norm(x[t], w[p + "input_layernorm.weight"], eps);
      q[t] = linear(n1, w[p + "self_attn.q_proj.weight"], H * D, o.quantize);
      k[t] = linear(n1, w[p + "self_attn.k_proj.weight"], KV * D, o.quantize);
      v[t] = linear(n1, w[p + "self_attn.v_proj.weight"], KV * D, o.quantize);
      for (size_t h = 0; h < H; ++h) rope(&q[t][h * D], D, t, o.rope_theta);
      for (size_t h = 0; h < KV; ++h) rope(&k[t][h * D], D, t, o.rope_theta);
    }
    for (size_t t = 0; t < T; ++t) {
      Vec attn(H * D, 0.0f);
      for (size_t h = 0; h < H; ++h) {
        const size_t kvh = h / (H / KV);
        std::vector<double> scores(t + 1);
        double max_score = -1e30;
        for (size_t s = 0; s <= t; ++s) {
          double dot = 0;
          for (size_t d = 0; d < D; ++d) dot += double(q[t][h * D + d]) * k[s][kvh * D + d];
          scores[s] = dot / std::sqrt(double(D));
          max_score = std::max(max_score, scores[s]);
        }
        double denom = 0;
        for (double& sc : scores) denom += (sc = std::exp(sc - max_score));
        for (size_t s = 0; s <= t; ++s)
          for (size_t d = 0; d < D; ++d) attn[h * D + d] += float(scores[s] / denom * v[s][kvh * D + d]);
      }
      Vec o_in = rms_norm(attn, w[p + "self_attn.attn_sub_norm.weight"], eps);
      Vec out = linear(o_in, w[p + "self_attn.o_proj.weight"], C, o.quantize);
      for (size_t c = 0; c < C; ++c) x[t][c] += out[c];
      Vec n2 = rms_norm(x[t], w[p + "post_attention_layernorm.weight"], eps);
      Vec gate = linear(n2, w[p + "mlp.gate_proj.weight"], F, o.quantize);
      Vec up = linear(n2, w[p + "mlp.up_proj.weight"], F, o.quantize);
      Vec hidden(F);
      for (size_t f = 0; f < F; ++f) {
        const float g = gate[f];
        const float act = o.activation == formats::HiddenAct::relu2 ? std::max(g, 0.0f) * std::max(g, 0.0f)
                                                                    : g / (1.0f + std::exp(-g));
        hidden[f] = act * up[f];
      }
      Vec down =
          linear(rms_norm(hidden, w[p + "mlp.ffn_sub_norm.weight"], eps), w[p + "mlp.down_proj.weight"], C, o.quantize);
      for (size_t c = 0; c < C; ++c) x[t][c] += down[c];
    }
  }
  const Vec& head = o.tie_embeddings ? emb : w["lm_head.weight"];
  std::vector<Vec> logits(T);
  for (size_t t = 0; t < T; ++t) logits[t] = linear(rms_norm(x[t], w["model.norm.weight"], eps), head, V, false);
  return logits;
}

BitNetOptions tiny_options() {
  BitNetOptions o;
  o.vocab_size = 11;
  o.hidden_size = 8;
  o.num_layers = 2;
  o.num_heads = 2;
  o.num_kv_heads = 1;
  o.intermediate_size = 12;
  o.rope_theta = 10000.0;
  o.init_std = 0.5;
  return o;
}

void expect_matches_reference(const BitNetOptions& o) {
  BitNetLM model(o);
  model->reset_parameters(7);
  {
    // Norm weights away from 1 so a mix-up between them would show.
    torch::NoGradGuard no_grad;
    for (auto& item : model->named_parameters())
      if (item.value().dim() == 1) item.value().uniform_(0.5, 1.5);
  }
  Weights w = copy_weights(model);
  const std::vector<int64_t> tokens = {3, 1, 4, 1, 5, 9, 2};
  torch::Tensor logits = model(torch::tensor(tokens).view({1, -1}));  // (1, T, V)
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{1, int64_t(tokens.size()), o.vocab_size}));
  std::vector<Vec> expected = reference_logits(o, w, tokens);
  for (size_t t = 0; t < tokens.size(); ++t)
    for (int64_t v = 0; v < o.vocab_size; ++v)
      EXPECT_NEAR(logits[0][t][v].item<float>(), expected[t][v], 2e-4 * (1 + std::fabs(expected[t][v])))
          << "position " << t << " token " << v;
}

TEST(BitNetLM, TernaryRelu2TiedMatchesPlainLoops) {
  expect_matches_reference(tiny_options());
}

TEST(BitNetLM, TernarySiluUntiedMatchesPlainLoops) {
  BitNetOptions o = tiny_options();
  o.activation = formats::HiddenAct::silu;
  o.tie_embeddings = false;
  o.num_kv_heads = 2;
  expect_matches_reference(o);
}

TEST(BitNetLM, FullPrecisionTwinMatchesPlainLoops) {
  BitNetOptions o = tiny_options();
  o.quantize = false;
  expect_matches_reference(o);
}

TEST(BitNetLM, HuggingFaceTensorNames) {
  BitNetOptions o = tiny_options();
  o.tie_embeddings = false;
  BitNetLM model(o);
  std::set<std::string> names;
  for (const auto& item : model->named_parameters()) names.insert(item.key());
  for (const char* name :
       {"model.embed_tokens.weight", "model.layers.1.input_layernorm.weight", "model.layers.1.self_attn.q_proj.weight",
        "model.layers.1.self_attn.k_proj.weight", "model.layers.1.self_attn.v_proj.weight",
        "model.layers.1.self_attn.o_proj.weight", "model.layers.1.self_attn.attn_sub_norm.weight",
        "model.layers.1.post_attention_layernorm.weight", "model.layers.1.mlp.gate_proj.weight",
        "model.layers.1.mlp.up_proj.weight", "model.layers.1.mlp.down_proj.weight",
        "model.layers.1.mlp.ffn_sub_norm.weight", "model.norm.weight", "lm_head.weight"})
    EXPECT_TRUE(names.count(name)) << name;
  EXPECT_EQ(names.size(), 2u + 2 * 11 + 1);
  EXPECT_EQ(model->bit_linears().size(), 2u * 7);
}

TEST(BitNetLM, Bf16ComputeStaysCloseToFp32) {
  BitNetOptions o = tiny_options();
  BitNetLM fp32(o);
  fp32->reset_parameters(3);
  o.compute_dtype = torch::kBFloat16;
  BitNetLM bf16(o);
  bf16->reset_parameters(3);
  torch::Tensor tokens = torch::tensor({1, 2, 3, 4, 5}).view({1, -1});
  torch::Tensor a = fp32(tokens), b = bf16(tokens);
  EXPECT_EQ(b.scalar_type(), torch::kFloat);
  EXPECT_LT((a - b).abs().max().item<float>(), 0.1f * a.abs().max().item<float>());
}

}  // namespace
}  // namespace bitnet
