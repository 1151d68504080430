// BitLinear: a bias-free linear layer whose forward uses ternary weights and int8 per-token
// activations (docs/architecture.md) with straight-through gradients to the fp32 latent weight.
// With quantization off it is a plain linear layer: the full-precision twin of the same model.
// Subclasses swapped in for a projection (replace_bit_linear) extend it: a LoRA adapter
// (layers/lora_linear.h), the export verifier's input recorder.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>

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
  ~BitLinearImpl() override = default;
  torch::Tensor forward(const torch::Tensor& x);  // (..., in) -> (..., out) in compute dtype

  // The two halves of forward(), so layers whose projections share an input (q/k/v, gate/up)
  // quantize it once: the input as the matmul sees it (int8 fake-quantized through the STE, in
  // the compute dtype), then y = prepared · W_qᵀ.
  // `input` is the x prepare_input() was given; the base ignores it, an adapter reads it.
  virtual torch::Tensor prepare_input(const torch::Tensor& x) const;
  virtual torch::Tensor forward_prepared(const torch::Tensor& prepared, const torch::Tensor& input = {});

  // The fp32 weight this layer computes with before quantization (no autograd, a copy): the
  // latent weight here, with an adapter folded in where a subclass adds one.
  virtual torch::Tensor merged_weight() const;

  // λ in [0, 1]: how much of the quantization error the forward pass sees (1 = full BitNet).
  void set_quant_lambda(double lambda) { lambda_ = lambda; }
  double quant_lambda() const { return lambda_; }
  const BitLinearOptions& options() const { return options_; }

  torch::Tensor weight;  // (out, in), fp32 latent

 protected:
  // What a subclass swapped in for `base` starts from: base's options, λ and training mode, and
  // base's weight tensor itself, registered as our "weight" with its requires_grad, so the
  // parameter keeps its name, its storage and whether it is frozen.
  struct Replacing {
    const BitLinearImpl& base;
  };
  explicit BitLinearImpl(Replacing replacing);

 private:
  bool quantizing() const;

  BitLinearOptions options_;
  double lambda_ = 1.0;
};
TORCH_MODULE(BitLinear);

// Puts `replacement` in place of `owner`'s child projection `name`: in the owner's registry (what
// named_parameters, state dicts, train() and to() walk; the child keeps its position) and in the
// typed holder among `members` that holds it now, the one the owner's forward calls. Throws
// std::invalid_argument when `name` is none of those projections or the shapes differ.
void replace_bit_linear(torch::nn::Module& owner, const std::string& name, std::initializer_list<BitLinear*> members,
                        std::shared_ptr<BitLinearImpl> replacement);

}  // namespace bitnet
