// A plain C++ BitNet b1.58 forward pass (docs/architecture.md) over TernaryMatrix projections, with a KV
// cache for generation. Numerics per decoder layer (pre-norm, no biases), x: (T, hidden):
//   n1 = rms_norm(x, input_norm)                       one int8 quantization shared by q/k/v
//   h  = x + o(rms_norm(Attention(q(n1), k(n1), v(n1)), attn_sub_norm))
//   n2 = rms_norm(h, post_attn_norm)                   one int8 quantization shared by gate/up
//   y  = h + down(rms_norm(act(gate(n2)) * up(n2), ffn_sub_norm)),  act = relu(x)^2 | silu
// Each projection: q = quantize_row(input) (quantize.h), acc = trits . q (exact int32),
// out = ((float)acc / s) * w_scale. RMSNorm: r = 1 / sqrtf((float)(sum x^2 in double) / n + eps),
// out = (x * r) * w. RoPE: rotate-half pairs (i, i + head_dim/2), inv_freq_i = 1 / theta^(2i/d)
// and angle = (float)pos * inv_freq_i in fp32. Attention: grouped KV heads (head h reads KV head
// h / (num_heads / num_kv_heads)), scores scaled by 1/sqrt(head_dim), causal softmax in fp32.
// Final norm, then the LM head (the embedding when tied): fp32, or an F16 / Q8_0 TokenTable.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "formats/model_names.h"
#include "kernels/cpu_features.h"
#include "kernels/op_profile.h"
#include "kernels/ternary_matrix.h"
#include "kernels/thread_pool.h"
#include "kernels/token_table.h"

namespace bitnet::kernels {

struct ModelSpec {
  int64_t vocab_size = 0, hidden_size = 0, num_layers = 0, num_heads = 0, num_kv_heads = 0, intermediate_size = 0,
          max_seq_len = 0;
  float rope_theta = 10000.0f, rms_norm_eps = 1e-5f;
  bool tie_embeddings = true;
  formats::HiddenAct act = formats::HiddenAct::relu2;

  int64_t head_dim() const { return num_heads > 0 ? hidden_size / num_heads : 0; }
  int64_t kv_dim() const { return num_kv_heads * head_dim(); }
};

// Everything the forward needs; plain data so a loader (GGUF, safetensors) can fill it directly.
struct ModelWeights {
  ModelSpec spec;
  std::vector<float> embedding;   // [vocab, hidden]
  std::vector<float> lm_head;     // [vocab, hidden]; empty when spec.tie_embeddings
  std::vector<float> final_norm;  // [hidden]
  // Compact (F16 / Q8_0) alternatives, as a GGUF export stores them. When token_table is set,
  // `embedding` must be empty and the table serves lookups and, when tied, the LM head; when
  // output_table is set (untied only), `lm_head` must be empty.
  TokenTable token_table;   // [vocab, hidden]
  TokenTable output_table;  // [vocab, hidden]
  struct Layer {
    std::vector<float> input_norm, attn_sub_norm, post_attn_norm;  // [hidden] each
    std::vector<float> ffn_sub_norm;                               // [intermediate]
    TernaryMatrix q, k, v, o;  // [hidden, hidden], [kv_dim, hidden] x2, [hidden, hidden]
    TernaryMatrix gate, up;    // [intermediate, hidden]
    TernaryMatrix down;        // [hidden, intermediate]
    // The projections in formats::projection_names() order and the norms in
    // formats::layer_norm_names() order, so loaders and checks can walk the name tables.
    std::array<TernaryMatrix*, 7> projections() { return {&q, &k, &v, &o, &gate, &up, &down}; }
    std::array<const TernaryMatrix*, 7> projections() const { return {&q, &k, &v, &o, &gate, &up, &down}; }
    std::array<std::vector<float>*, 4> norms() { return {&input_norm, &attn_sub_norm, &post_attn_norm, &ffn_sub_norm}; }
    std::array<const std::vector<float>*, 4> norms() const {
      return {&input_norm, &attn_sub_norm, &post_attn_norm, &ffn_sub_norm};
    }
  };
  std::vector<Layer> layers;
};

// Throws KernelError naming the first inconsistent size (spec values, vector lengths, matrix
// shapes). Session calls it; loaders may call it early for a better message.
void validate_weights(const ModelWeights& weights);

// Switches every projection to `path` (tests compare paths on the same model).
void set_kernel_path(ModelWeights& weights, KernelPath path);

// Which int8 activation vector is entering which projection(s) (the name table's enum).
using formats::projection_input_name;
using formats::ProjectionInput;

struct ActivationRecord {
  int64_t layer;
  ProjectionInput input;
  int64_t position;  // absolute position in the sequence
  const int8_t* q;   // n values, valid only during the callback
  int64_t n;
  float scale;  // s: dequantized value is q / s
};

// Debug hook for export verification: called for every quantized projection input at positions
// < max_positions (only from the calling thread).
struct ActivationObserver {
  int64_t max_positions = 0;
  std::function<void(const ActivationRecord&)> callback;
};

class Session {
 public:
  // `weights` (and `pool`, if given) must outlive the session. Validates the weights.
  explicit Session(const ModelWeights& weights, ThreadPool* pool = nullptr);

  // Runs tokens as one batch (GEMM) after whatever is already cached; returns the logits [vocab]
  // of the last position. Throws KernelError on an empty list, a token outside [0, vocab) or a
  // sequence longer than max_seq_len.
  std::vector<float> prefill(const std::vector<int32_t>& tokens);
  // The same, returning the logits of every position: [tokens.size(), vocab] row-major (what
  // scoring a text needs; the head then runs once per position).
  std::vector<float> prefill_all(const std::vector<int32_t>& tokens);
  // One token (GEMV); returns its logits [vocab].
  std::vector<float> decode(int32_t token);
  void reset();  // forget the cache; the next token is position 0
  int64_t position() const { return pos_; }

  void set_activation_observer(ActivationObserver observer) { observer_ = std::move(observer); }
  // Attaches `profile` (it must outlive the session or be detached with nullptr): starts it and
  // turns on the pool's sync timing; every later forward laps its ops into it (op_profile.h).
  void set_profile(OpProfile* profile);

 private:
  std::vector<float> forward(const int32_t* tokens, int64_t n_tok, bool all_positions);
  // Final norm, then the LM head.
  void output_logits(const float* x_row, float* logits, const ProfileLaps& lap) const;

  const ModelWeights& w_;
  ThreadPool* pool_;
  ActivationObserver observer_;
  OpProfile* profile_ = nullptr;
  int64_t pos_ = 0;
  std::vector<float> inv_freq_;                        // [head_dim / 2]
  std::vector<std::vector<float>> k_cache_, v_cache_;  // per layer [pos, kv_dim]
};

}  // namespace bitnet::kernels
