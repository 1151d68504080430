// BitLinear: a bias-free linear layer whose forward uses ternary weights and int8 per-token
// activations (docs/architecture.md) with straight-through gradients to the fp32 latent weight.
// With quantization off it is a plain linear layer: the full-precision twin of the same model.
// An optional LoRA adapter (add_lora) adds scale · B·A·dropout(x), in fp32, to the output.
#pragma once

#include <functional>

#include <torch/torch.h>

namespace bitnet {

struct BitLinearOptions {
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool quantize = true;                        // false: full-precision twin
  torch::Dtype compute_dtype = torch::kFloat;  // matmul dtype (kFloat or kBFloat16)
};

class BitLinearImpl : public torch::nn::Module {
 public:
  explicit BitLinearImpl(const BitLinearOptions& options);
  torch::Tensor forward(const torch::Tensor& x);  // (..., in) -> (..., out) in compute dtype

  // The two halves of forward(), so layers whose projections share an input (q/k/v, gate/up)
  // quantize it once: the input as the matmul sees it (int8 fake-quantized through the STE, in
  // the compute dtype), then y = prepared · W_qᵀ.
  // `input` is the x prepare_input() was given; only a LoRA adapter reads it.
  torch::Tensor prepare_input(const torch::Tensor& x) const;
  torch::Tensor forward_prepared(const torch::Tensor& prepared, const torch::Tensor& input = {});

  // LoRA: registers lora_A (rank, in), kaiming-uniform from `generator` (bound 1/sqrt(in)), and
  // lora_B (out, rank) = 0, so the layer's output is unchanged until B trains.
  void add_lora(int64_t rank, double scale, double dropout, at::Generator generator);
  bool has_lora() const { return static_cast<bool>(lora_A); }
  double lora_scale() const { return lora_scale_; }
  // scale · B·A·dropout(x) in fp32, (..., in) -> (..., out). Dropout only in training mode.
  torch::Tensor lora_delta(const torch::Tensor& x);
  // W + scale · B·A (fp32, no autograd): the latent weight with the adapter folded in.
  torch::Tensor merged_weight() const;

  // λ in [0, 1]: how much of the quantization error the forward pass sees (1 = full BitNet).
  void set_quant_lambda(double lambda) { lambda_ = lambda; }
  double quant_lambda() const { return lambda_; }
  const BitLinearOptions& options() const { return options_; }

  torch::Tensor weight;                                // (out, in), fp32 latent
  torch::nn::Linear lora_A{nullptr}, lora_B{nullptr};  // (rank, in), (out, rank); null without LoRA

  // Optional debug hook (export verification): called with the input x (..., in) at the start of
  // every forward, before quantization.
  std::function<void(const torch::Tensor&)> input_observer;

 private:
  bool quantizing() const;

  BitLinearOptions options_;
  double lambda_ = 1.0;
  double lora_scale_ = 0.0, lora_dropout_ = 0.0;
};
TORCH_MODULE(BitLinear);

}  // namespace bitnet
