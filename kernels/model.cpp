// Model weights validation and the fp32 building blocks of the forward pass (model_ops.h).
#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/errors.h"
#include "kernels/model.h"
#include "kernels/model_ops.h"

namespace bitnet::kernels {
namespace {

void expect_size(const std::vector<float>& v, int64_t n, const std::string& what) {
  if (static_cast<int64_t>(v.size()) != n) {
    throw KernelError("model weights: " + what + " has " + std::to_string(v.size()) + " floats, expected " +
                      std::to_string(n));
  }
}

void expect_shape(const TernaryMatrix& m, int64_t rows, int64_t cols, const std::string& what) {
  if (m.rows() != rows || m.cols() != cols) {
    throw KernelError("model weights: " + what + " is [" + std::to_string(m.rows()) + ", " + std::to_string(m.cols()) +
                      "], expected [" + std::to_string(rows) + ", " + std::to_string(cols) + "]");
  }
}

}  // namespace

void validate_weights(const ModelWeights& w) {
  const ModelSpec& s = w.spec;
  auto positive = [](int64_t v, const char* name) {
    if (v <= 0) throw KernelError(std::string("model spec: ") + name + " = " + std::to_string(v) + " must be > 0");
  };
  positive(s.vocab_size, "vocab_size");
  positive(s.hidden_size, "hidden_size");
  positive(s.num_layers, "num_layers");
  positive(s.num_heads, "num_heads");
  positive(s.num_kv_heads, "num_kv_heads");
  positive(s.intermediate_size, "intermediate_size");
  positive(s.max_seq_len, "max_seq_len");
  if (s.hidden_size % s.num_heads != 0 || s.head_dim() % 2 != 0) {
    throw KernelError("model spec: hidden_size " + std::to_string(s.hidden_size) + " must be num_heads (" +
                      std::to_string(s.num_heads) + ") times an even head_dim");
  }
  if (s.num_heads % s.num_kv_heads != 0) {
    throw KernelError("model spec: num_heads " + std::to_string(s.num_heads) + " must be a multiple of num_kv_heads " +
                      std::to_string(s.num_kv_heads));
  }
  if (!(s.rope_theta > 0.0f) || !(s.rms_norm_eps >= 0.0f)) {
    throw KernelError("model spec: rope_theta must be > 0 and rms_norm_eps >= 0");
  }
  const int64_t H = s.hidden_size, I = s.intermediate_size, KV = s.kv_dim();
  auto expect_table = [&](const TokenTable& t, const std::string& what) {
    if (t.rows() != s.vocab_size || t.cols() != H) {
      throw KernelError("model weights: " + what + " is [" + std::to_string(t.rows()) + ", " +
                        std::to_string(t.cols()) + "], expected [" + std::to_string(s.vocab_size) + ", " +
                        std::to_string(H) + "]");
    }
  };
  if (w.token_table.empty()) {
    expect_size(w.embedding, s.vocab_size * H, "embedding [vocab, hidden]");
  } else {
    if (!w.embedding.empty()) throw KernelError("model weights: embedding must be empty when token_table is set");
    expect_table(w.token_table, "token_table");
  }
  if (s.tie_embeddings) {
    if (!w.lm_head.empty() || !w.output_table.empty())
      throw KernelError("model weights: lm_head must be empty when tie_embeddings is set");
  } else if (w.output_table.empty()) {
    expect_size(w.lm_head, s.vocab_size * H, "lm_head [vocab, hidden]");
  } else {
    if (!w.lm_head.empty()) throw KernelError("model weights: lm_head must be empty when output_table is set");
    expect_table(w.output_table, "output_table");
  }
  expect_size(w.final_norm, H, "final_norm");
  if (static_cast<int64_t>(w.layers.size()) != s.num_layers) {
    throw KernelError("model weights: " + std::to_string(w.layers.size()) + " layers, spec says " +
                      std::to_string(s.num_layers));
  }
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const auto& L = w.layers[l];
    const std::string p = "layer " + std::to_string(l) + " ";
    expect_size(L.input_norm, H, p + "input_norm");
    expect_size(L.attn_sub_norm, H, p + "attn_sub_norm");
    expect_size(L.post_attn_norm, H, p + "post_attn_norm");
    expect_size(L.ffn_sub_norm, I, p + "ffn_sub_norm");
    expect_shape(L.q, H, H, p + "q");
    expect_shape(L.k, KV, H, p + "k");
    expect_shape(L.v, KV, H, p + "v");
    expect_shape(L.o, H, H, p + "o");
    expect_shape(L.gate, I, H, p + "gate");
    expect_shape(L.up, I, H, p + "up");
    expect_shape(L.down, H, I, p + "down");
  }
}

void set_kernel_path(ModelWeights& w, KernelPath path) {
  for (auto& L : w.layers)
    for (TernaryMatrix* m : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down}) m->set_path(path);
}

namespace ops {

// The fp32 ops below are also compiled for AVX2 and picked at load time (GCC function clones):
// their loops vectorize twice as wide there. "avx2" alone does not enable FMA, so the compiler
// cannot contract a * b + c, and both clones compute the same operations in the same order:
// results are bit-identical on every x86-64 CPU.
#define BITNET_AVX2_CLONE __attribute__((target_clones("avx2", "default")))

BITNET_AVX2_CLONE float dot8(const float* a, const float* b, int64_t n) {
  float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) part[k] += a[i + k] * b[i + k];
  float sum = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

BITNET_AVX2_CLONE void rms_norm(const float* x, const float* w, int64_t n, float eps, float* out) {
  double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // eight chains: one would be bound by the add latency
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) part[k] += static_cast<double>(x[i + k]) * x[i + k];
  double ss = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
  for (; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float r = 1.0f / std::sqrt(static_cast<float>(ss / static_cast<double>(n)) + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = (x[i] * r) * w[i];
}

void rope_inv_freq(int64_t head_dim, float theta, float* inv_freq) {
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    inv_freq[i] = 1.0f / std::pow(theta, static_cast<float>(2 * i) / static_cast<float>(head_dim));
  }
}

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t pos, const float* inv_freq) {
  const int64_t half = head_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float angle = static_cast<float>(pos) * inv_freq[i];
    const float c = std::cos(angle), s = std::sin(angle);
    for (int64_t h = 0; h < n_heads; ++h) {
      float* head = x + h * head_dim;
      const float a = head[i], b = head[i + half];
      head[i] = a * c - b * s;
      head[i + half] = b * c + a * s;
    }
  }
}

BITNET_AVX2_CLONE void attend(const float* q, const float* k, const float* v, int64_t kv_stride, int64_t n_ctx,
                              int64_t head_dim, float* scores, float* out) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  float max_score = -INFINITY;
  for (int64_t j = 0; j < n_ctx; ++j) {
    scores[j] = dot8(q, k + j * kv_stride, head_dim) * scale;
    max_score = std::max(max_score, scores[j]);
  }
  float sum = 0.0f;
  for (int64_t j = 0; j < n_ctx; ++j) {
    scores[j] = std::exp(scores[j] - max_score);
    sum += scores[j];
  }
  std::fill(out, out + head_dim, 0.0f);
  for (int64_t j = 0; j < n_ctx; ++j) {
    const float p = scores[j] / sum;
    const float* vj = v + j * kv_stride;
    for (int64_t d = 0; d < head_dim; ++d) out[d] += p * vj[d];
  }
}

BITNET_AVX2_CLONE void glu(float* gate, const float* up, int64_t n, formats::HiddenAct act) {
  if (act == formats::HiddenAct::relu2) {
    for (int64_t i = 0; i < n; ++i) {
      const float r = std::max(gate[i], 0.0f);
      gate[i] = (r * r) * up[i];
    }
  } else {
    for (int64_t i = 0; i < n; ++i) gate[i] = (gate[i] / (1.0f + std::exp(-gate[i]))) * up[i];
  }
}

void lm_head(const float* table, const float* x, int64_t vocab, int64_t hidden, float* logits, ThreadPool* pool) {
  auto rows = [&](int64_t begin, int64_t end) {
    for (int64_t v = begin; v < end; ++v) logits[v] = dot8(table + v * hidden, x, hidden);
  };
  if (pool == nullptr || pool->size() == 1) {
    rows(0, vocab);
  } else {
    pool->parallel_for(vocab, 16, rows);
  }
}

}  // namespace ops
}  // namespace bitnet::kernels
