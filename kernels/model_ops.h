// fp32 building blocks of the BitNet forward (model.h documents the exact formulas): RMSNorm,
// rotate-half RoPE, one causal attention head, the FFN activation, and the fp32 LM head.
#pragma once

#include <cstdint>

#include "kernels/model.h"
#include "kernels/thread_pool.h"

namespace bitnet::kernels::ops {

// sum_i a[i] * b[i] in fp32 over 8 partial sums (lane k takes i = k, k + 8, ...), reduced as
// ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7)), then the n % 8 tail in order. Eight
// independent chains instead of one: the compiler vectorizes it and the add latency overlaps.
float dot8(const float* a, const float* b, int64_t n);

// out[i] = (x[i] * r) * w[i], r = 1 / sqrtf((float)(sum x^2 in double) / n + eps); out may be x.
// The double sum runs over 8 partial sums like dot8's, reduced in the same tree.
void rms_norm(const float* x, const float* w, int64_t n, float eps, float* out);

// inv_freq[i] = 1 / theta^(2i / head_dim) for i < head_dim / 2 (fp32, like the training model).
void rope_inv_freq(int64_t head_dim, float theta, float* inv_freq);
// Rotates n_heads heads of one token in place: (a, b) = (x_i, x_{i+d/2}) ->
// (a cos - b sin, b cos + a sin), angle = (float)pos * inv_freq[i].
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t pos, const float* inv_freq);

// One query head over keys/values 0..n_ctx-1 (rows of stride kv_stride floats):
// out = softmax(q . k_j / sqrt(d)) . v_j, q . k_j by dot8. scores: scratch of n_ctx floats.
void attend(const float* q, const float* k, const float* v, int64_t kv_stride, int64_t n_ctx, int64_t head_dim,
            float* scores, float* out);

// gate[i] = act(gate[i]) * up[i].
void glu(float* gate, const float* up, int64_t n, formats::HiddenAct act);

// logits[v] = dot8(table row v, x) for v < vocab.
void lm_head(const float* table, const float* x, int64_t vocab, int64_t hidden, float* logits, ThreadPool* pool);

}  // namespace bitnet::kernels::ops
