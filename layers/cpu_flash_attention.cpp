// CPU bf16 flash attention (see cpu_flash_attention.h): the blocking, the online softmax and the
// autograd function. The tile arithmetic is in attention_tiles.cpp.
#include "layers/cpu_flash_attention.h"

#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "layers/attention_tiles.h"
#include "layers/element_math.h"

namespace bitnet {

namespace {

namespace tiles = attention_tiles;

// Queries and keys are taken 64 at a time: the scores of one block pair (64 x 64 fp32, 16 KiB) and
// the packed keys they read stay in L1/L2.
constexpr int64_t kBlock = 64;
constexpr float kMasked = -std::numeric_limits<float>::infinity();

// A (B, heads, T, D) bf16 tensor with unit stride along D, as 16-bit patterns.
template <typename Element>
struct HeadRows {
  Element* data;
  int64_t stride_b, stride_h, stride_t;
  Element* row(int64_t b, int64_t h, int64_t t) const { return data + b * stride_b + h * stride_h + t * stride_t; }
};

template <typename Element>
HeadRows<Element> head_rows(const torch::Tensor& x) {
  TORCH_CHECK(x.scalar_type() == torch::kBFloat16 && x.dim() == 4 && x.stride(3) == 1,
              "cpu_flash_attention: expected a bf16 (B, heads, T, D) tensor with unit stride along D");
  return {reinterpret_cast<Element*>(x.data_ptr()), x.stride(0), x.stride(1), x.stride(2)};
}

struct Shape {
  int64_t batch, heads, kv_heads, seq_len, head_dim;
  int64_t blocks;          // ceil(seq_len / kBlock)
  int64_t padded;          // blocks * kBlock
  float scale;             // 1 / sqrt(head_dim)
  const int64_t* doc_ids;  // (B, T) or null

  int64_t group() const { return heads / kv_heads; }
};

Shape shape_of(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& doc_ids) {
  Shape s{};
  s.batch = q.size(0);
  s.heads = q.size(1);
  s.kv_heads = k.size(1);
  s.seq_len = q.size(2);
  s.head_dim = q.size(3);
  s.blocks = (s.seq_len + kBlock - 1) / kBlock;
  s.padded = s.blocks * kBlock;
  s.scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
  s.doc_ids = doc_ids.defined() ? doc_ids.data_ptr<int64_t>() : nullptr;
  return s;
}

// Sets to -inf the scores in one row of a block (keys key0 .. key0+63) that the query may not see:
// keys after it, padding past T, and keys of another document.
void mask_row(float* scores, int64_t query, int64_t key0, int64_t batch, const Shape& s) {
  const int64_t visible = std::clamp<int64_t>(std::min(query + 1, s.seq_len) - key0, 0, kBlock);
  std::fill(scores + visible, scores + kBlock, kMasked);
  if (s.doc_ids == nullptr) return;
  const int64_t* docs = s.doc_ids + batch * s.seq_len;
  for (int64_t j = 0; j < visible; ++j)
    if (docs[key0 + j] != docs[query]) scores[j] = kMasked;
}

// The tiles keep bf16 values as 16-bit patterns; these convert with element_math.h's branch-free
// conversions (c10's bits, round to nearest even).
uint16_t to_bf16_bits(float v) {
  return from_float<c10::BFloat16>(v).x;
}

float from_bf16_bits(uint16_t bits) {
  return to_float(c10::BFloat16(bits, c10::BFloat16::from_bits()));
}

struct ForwardResult {
  torch::Tensor out;  // (B, T, H, D) bf16
  torch::Tensor lse;  // (B, H, T) fp32: log-sum-exp of each row's scaled scores
};

ForwardResult flash_forward(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const Shape& s) {
  const auto queries = head_rows<const uint16_t>(q), keys = head_rows<const uint16_t>(k),
             values = head_rows<const uint16_t>(v);
  torch::Tensor out = torch::empty({s.batch, s.seq_len, s.heads, s.head_dim}, q.options());
  torch::Tensor lse = torch::empty({s.batch, s.heads, s.seq_len}, q.options().dtype(torch::kFloat));
  auto* out_bits = reinterpret_cast<uint16_t*>(out.data_ptr());
  float* lse_data = lse.data_ptr<float>();

  // K^T and V of every (batch, KV head), packed once for all query heads and blocks that read them.
  const int64_t per_head = s.padded * s.head_dim;
  std::vector<uint16_t> keys_t(s.batch * s.kv_heads * per_head), values_p(s.batch * s.kv_heads * per_head);
  at::parallel_for(0, s.batch * s.kv_heads, 1, [&](int64_t begin, int64_t end) {
    for (int64_t bg = begin; bg < end; ++bg) {
      const int64_t b = bg / s.kv_heads, g = bg % s.kv_heads;
      tiles::pack_transposed(keys.row(b, g, 0), keys.stride_t, s.seq_len, s.head_dim, keys_t.data() + bg * per_head,
                             s.padded);
      tiles::pack_row_pairs(values.row(b, g, 0), values.stride_t, s.seq_len, s.padded, s.head_dim,
                            values_p.data() + bg * per_head, s.head_dim);
    }
  });

  at::parallel_for(0, s.batch * s.heads * s.blocks, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scores(kBlock * kBlock), acc(kBlock * s.head_dim), row_max(kBlock), row_sum(kBlock);
    std::vector<uint16_t> probs(kBlock * kBlock);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / (s.heads * s.blocks), h = task / s.blocks % s.heads, qb = task % s.blocks;
      const int64_t bg = b * s.kv_heads + h / s.group();
      const int64_t q0 = qb * kBlock, rows = std::min(kBlock, s.seq_len - q0);
      std::fill(acc.begin(), acc.end(), 0.0f);
      std::fill(row_max.begin(), row_max.end(), kMasked);
      std::fill(row_sum.begin(), row_sum.end(), 0.0f);
      for (int64_t kb = 0; kb <= qb; ++kb) {  // causal: no key block after the query block
        const int64_t k0 = kb * kBlock;
        std::fill(scores.begin(), scores.end(), 0.0f);
        tiles::tile_product(queries.row(b, h, q0), queries.stride_t, keys_t.data() + bg * per_head + 2 * k0, s.padded,
                            scores.data(), kBlock, rows, kBlock, s.head_dim);
        for (int64_t r = 0; r < rows; ++r) {
          float* row = scores.data() + r * kBlock;
          uint16_t* p = probs.data() + r * kBlock;
          mask_row(row, q0 + r, k0, b, s);
          const float top = tiles::row_max(row, kBlock);
          if (top == kMasked) {  // nothing visible in this block (another document)
            std::fill(p, p + kBlock, uint16_t{0});
            continue;
          }
          // Online softmax: rescale what was summed under the old maximum (exp(-inf) = 0 at first).
          const float new_max = std::max(row_max[r], top * s.scale);
          const float correction = std::exp(row_max[r] - new_max);
          row_sum[r] = row_sum[r] * correction + tiles::exp_row(row, kBlock, s.scale, new_max, p);
          if (correction != 1.0f)
            for (int64_t d = 0; d < s.head_dim; ++d) acc[r * s.head_dim + d] *= correction;
          row_max[r] = new_max;
        }
        tiles::tile_product(probs.data(), kBlock, values_p.data() + bg * per_head + k0 * s.head_dim, s.head_dim,
                            acc.data(), s.head_dim, rows, s.head_dim, kBlock);
      }
      for (int64_t r = 0; r < rows; ++r) {
        const float inverse = 1.0f / row_sum[r];
        uint16_t* o = out_bits + ((b * s.seq_len + q0 + r) * s.heads + h) * s.head_dim;
        for (int64_t d = 0; d < s.head_dim; ++d) o[d] = to_bf16_bits(acc[r * s.head_dim + d] * inverse);
        lse_data[(b * s.heads + h) * s.seq_len + q0 + r] = row_max[r] + std::log(row_sum[r]);
      }
    }
  });
  return {out, lse};
}

struct Gradients {
  torch::Tensor dq, dk, dv;  // (B, T, heads, D) bf16
};

// Parallel over (batch, KV head): the query heads of a group add into the same dK and dV, which
// stay in one task's fp32 accumulators, so no two threads write the same rows.
Gradients flash_backward(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                         const torch::Tensor& out, const torch::Tensor& lse, const torch::Tensor& grad_out,
                         const Shape& s) {
  const auto queries = head_rows<const uint16_t>(q), keys = head_rows<const uint16_t>(k),
             values = head_rows<const uint16_t>(v), grads = head_rows<const uint16_t>(grad_out);
  const auto* out_bits = reinterpret_cast<const uint16_t*>(out.data_ptr());
  const float* lse_data = lse.data_ptr<float>();
  Gradients result{torch::empty({s.batch, s.seq_len, s.heads, s.head_dim}, q.options()),
                   torch::empty({s.batch, s.seq_len, s.kv_heads, s.head_dim}, q.options()),
                   torch::empty({s.batch, s.seq_len, s.kv_heads, s.head_dim}, q.options())};
  auto* dq_bits = reinterpret_cast<uint16_t*>(result.dq.data_ptr());
  auto* dk_bits = reinterpret_cast<uint16_t*>(result.dk.data_ptr());
  auto* dv_bits = reinterpret_cast<uint16_t*>(result.dv.data_ptr());
  const int64_t D = s.head_dim, per_head = s.padded * D;

  at::parallel_for(0, s.batch * s.kv_heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<uint16_t> keys_t(per_head), keys_p(per_head), values_t(per_head), queries_p(per_head),
        grads_p(per_head);
    std::vector<uint16_t> probs(kBlock * kBlock), probs_t(kBlock * kBlock), dscores(kBlock * kBlock),
        dscores_t(kBlock * kBlock);
    std::vector<float> dk_acc(per_head), dv_acc(per_head), dq_acc(kBlock * D), delta(s.padded), scores(kBlock * kBlock),
        dprobs(kBlock * kBlock);
    for (int64_t bg = begin; bg < end; ++bg) {
      const int64_t b = bg / s.kv_heads, g = bg % s.kv_heads;
      tiles::pack_transposed(keys.row(b, g, 0), keys.stride_t, s.seq_len, D, keys_t.data(), s.padded);
      tiles::pack_row_pairs(keys.row(b, g, 0), keys.stride_t, s.seq_len, s.padded, D, keys_p.data(), D);
      tiles::pack_transposed(values.row(b, g, 0), values.stride_t, s.seq_len, D, values_t.data(), s.padded);
      std::fill(dk_acc.begin(), dk_acc.end(), 0.0f);
      std::fill(dv_acc.begin(), dv_acc.end(), 0.0f);
      for (int64_t h = g * s.group(); h < (g + 1) * s.group(); ++h) {
        tiles::pack_row_pairs(queries.row(b, h, 0), queries.stride_t, s.seq_len, s.padded, D, queries_p.data(), D);
        tiles::pack_row_pairs(grads.row(b, h, 0), grads.stride_t, s.seq_len, s.padded, D, grads_p.data(), D);
        // delta_i = sum_d dO[i, d] * O[i, d], the row term of the softmax backward.
        for (int64_t i = 0; i < s.seq_len; ++i) {
          const uint16_t* o = out_bits + ((b * s.seq_len + i) * s.heads + h) * D;
          const uint16_t* go = grads.row(b, h, i);
          float sum = 0.0f;
          for (int64_t d = 0; d < D; ++d) sum += from_bf16_bits(o[d]) * from_bf16_bits(go[d]);
          delta[i] = sum;
        }
        for (int64_t qb = 0; qb < s.blocks; ++qb) {
          const int64_t q0 = qb * kBlock, rows = std::min(kBlock, s.seq_len - q0);
          std::fill(dq_acc.begin(), dq_acc.end(), 0.0f);
          for (int64_t kb = 0; kb <= qb; ++kb) {
            const int64_t k0 = kb * kBlock;
            std::fill(scores.begin(), scores.end(), 0.0f);
            std::fill(dprobs.begin(), dprobs.end(), 0.0f);
            tiles::tile_product(queries.row(b, h, q0), queries.stride_t, keys_t.data() + 2 * k0, s.padded,
                                scores.data(), kBlock, rows, kBlock, D);
            tiles::tile_product(grads.row(b, h, q0), grads.stride_t, values_t.data() + 2 * k0, s.padded, dprobs.data(),
                                kBlock, rows, kBlock, D);
            for (int64_t r = 0; r < rows; ++r) {
              float* row = scores.data() + r * kBlock;
              mask_row(row, q0 + r, k0, b, s);
              tiles::softmax_grad_row(row, dprobs.data() + r * kBlock, kBlock, s.scale,
                                      lse_data[(b * s.heads + h) * s.seq_len + q0 + r], delta[q0 + r],
                                      probs.data() + r * kBlock, dscores.data() + r * kBlock);
            }
            // Key-major copies (queries past T are zero), the left operands of dV and dK.
            tiles::transpose(probs.data(), kBlock, rows, kBlock, kBlock, probs_t.data(), kBlock);
            tiles::transpose(dscores.data(), kBlock, rows, kBlock, kBlock, dscores_t.data(), kBlock);
            tiles::tile_product(probs_t.data(), kBlock, grads_p.data() + q0 * D, D, dv_acc.data() + k0 * D, D, kBlock,
                                D, kBlock);
            tiles::tile_product(dscores_t.data(), kBlock, queries_p.data() + q0 * D, D, dk_acc.data() + k0 * D, D,
                                kBlock, D, kBlock);
            tiles::tile_product(dscores.data(), kBlock, keys_p.data() + k0 * D, D, dq_acc.data(), D, rows, D, kBlock);
          }
          for (int64_t r = 0; r < rows; ++r) {
            uint16_t* dst = dq_bits + ((b * s.seq_len + q0 + r) * s.heads + h) * D;
            for (int64_t d = 0; d < D; ++d) dst[d] = to_bf16_bits(dq_acc[r * D + d]);
          }
        }
      }
      for (int64_t j = 0; j < s.seq_len; ++j) {
        uint16_t* dk_row = dk_bits + ((b * s.seq_len + j) * s.kv_heads + g) * D;
        uint16_t* dv_row = dv_bits + ((b * s.seq_len + j) * s.kv_heads + g) * D;
        for (int64_t d = 0; d < D; ++d) {
          dk_row[d] = to_bf16_bits(dk_acc[j * D + d]);
          dv_row[d] = to_bf16_bits(dv_acc[j * D + d]);
        }
      }
    }
  });
  return result;
}

torch::Tensor unit_stride_bf16(const torch::Tensor& x) {
  torch::Tensor y = x.to(torch::kBFloat16);
  return y.stride(3) == 1 ? y : y.contiguous();
}

class CpuFlashAttentionFunction : public torch::autograd::Function<CpuFlashAttentionFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, const std::optional<torch::Tensor>& doc_ids) {
    // doc_ids is optional, not an undefined tensor: autograd records the device of each tensor input.
    const torch::Tensor qs = unit_stride_bf16(q), ks = unit_stride_bf16(k), vs = unit_stride_bf16(v);
    const torch::Tensor docs = doc_ids.value_or(torch::Tensor());
    ForwardResult f = flash_forward(qs, ks, vs, shape_of(qs, ks, docs));
    ctx->save_for_backward({qs, ks, vs, f.out, f.lse});
    ctx->saved_data["doc_ids"] = docs;
    return f.out.transpose(1, 2);
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad_outputs) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    const torch::Tensor &q = saved[0], &k = saved[1], &v = saved[2];
    const torch::Tensor doc_ids = ctx->saved_data["doc_ids"].toTensor();
    if (!grad_outputs[0].defined()) return {torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
    Gradients g =
        flash_backward(q, k, v, saved[3], saved[4], unit_stride_bf16(grad_outputs[0]), shape_of(q, k, doc_ids));
    return {g.dq.transpose(1, 2), g.dk.transpose(1, 2), g.dv.transpose(1, 2), torch::Tensor()};
  }
};

}  // namespace

bool cpu_computes_bf16_natively() {
  return attention_tiles::cpu_has_avx512_bf16();
}

const char* cpu_bf16_products() {
  if (!cpu_computes_bf16_natively()) return "";
  return attention_tiles::cpu_has_amx_bf16() ? "AMX" : "AVX512-BF16";
}

bool cpu_flash_attention_applies(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4) return false;
  if (!q.device().is_cpu() || !k.device().is_cpu() || !v.device().is_cpu()) return false;
  if (q.scalar_type() != torch::kBFloat16 || k.scalar_type() != torch::kBFloat16 || v.scalar_type() != torch::kBFloat16)
    return false;
  const int64_t D = q.size(3);
  const bool shapes = k.sizes() == v.sizes() && q.size(0) == k.size(0) && q.size(2) == k.size(2) && q.size(2) > 0 &&
                      k.size(3) == D && D % 16 == 0 && k.size(1) > 0 && q.size(1) % k.size(1) == 0;
  return shapes && cpu_computes_bf16_natively();
}

torch::Tensor cpu_flash_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                  const torch::Tensor& doc_ids) {
  TORCH_CHECK(cpu_flash_attention_applies(q, k, v), "cpu_flash_attention: tensors or CPU it does not take");
  std::optional<torch::Tensor> docs;
  if (doc_ids.defined()) {
    TORCH_CHECK(doc_ids.dim() == 2 && doc_ids.size(0) == q.size(0) && doc_ids.size(1) == q.size(2),
                "cpu_flash_attention: doc_ids must be (B, T)");
    docs = doc_ids.to(torch::kLong).contiguous();
  }
  return CpuFlashAttentionFunction::apply(q, k, v, docs);
}

}  // namespace bitnet
