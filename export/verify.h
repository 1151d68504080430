// Verification of an export against the training model (docs/formats.md), run by `bitnet export` and
// `bitnet verify`. The reference is the checkpoint's LibTorch model in fp32 with its token table
// replaced by the export's (F16/Q8_0 rounding of the embedding is a storage choice, not a
// kernel error), so every difference left is the kernels' own:
//   codes     every projection's unpacked ternary codes and fp32 scale equal the quantizer's
//             (bit for bit), and every norm equals the checkpoint's;
//   quantizer the kernels' int8 quantizer, fed LibTorch's fp32 input of every projection at every
//             position, returns LibTorch's int8_activation_codes and scale bit for bit;
//   int8      end to end, the codes entering every projection in the kernels' own forward equal
//             LibTorch's except for rare +-1 flips: the two forwards sum in different orders
//             (attention, RMSNorm), so inputs differ by ~1e-7 relative, and a value that sits
//             within that of a rounding midpoint flips; one flip moves later values by a quantum,
//             so a few more follow downstream. Tolerance: flip rate and scale relative difference;
//             any difference larger than 1 fails;
//   logits    teacher-forced over prompt + continuation: max-abs, max-relative (max-abs / max
//             |logit|) and the max KL(torch || kernels) per position, within VerifyOptions;
//   greedy    the kernels' greedy continuation of every prompt (>= 32 tokens) equals LibTorch's
//             argmax at every step, except near-ties: a step where LibTorch's own logits put the
//             kernels' pick within greedy_tie_gap of its maximum is counted and reported, not
//             failed (rounding in either forward decides such a tie).
#pragma once

#include <string>
#include <vector>

#include "export/quantized_model.h"

namespace bitnet::exporting {

struct VerifyOptions {
  std::vector<std::string> prompts = {"The ", "A programmer ", "Once upon a time, ", "%\n"};
  int64_t greedy_tokens = 32;
  // Tolerances (docs/formats.md). Exactness is checked where it is well defined: codes, scales,
  // norms and the int8 quantizer on LibTorch's own inputs must match bit for bit. End to end the
  // two forwards sum in different orders; a value on a rounding midpoint then lands on the other
  // int8 code, and every such flip changes the next layers' inputs by up to 1/127 of a token's
  // range, which flips more codes downstream: the flip rate grows with depth (measured 0.03% at
  // 2 layers, 4-6% at 8 layers on an untrained 256/512-wide model) while the logits stay within
  // 1e-5 nats. The end-to-end bounds below catch real errors (a wrong scale convention or
  // layout moves most codes and the logits) without failing on that cascade.
  double max_flip_rate = 0.25;  // int8 codes off by one, over all compared
  double max_far_rate = 0.05;   // int8 codes off by more than one
  double max_scale_rel = 0.1;   // activation scales, relative
  double max_abs_tol = 0.1;     // logits
  double max_rel_tol = 0.05;    // logits max-abs / max |logit|
  double max_kl_tol = 1e-3;     // nats, per position
  // A greedy step may differ where LibTorch's logit of the kernels' pick is within this of its
  // maximum: half of max_abs_tol, so two sides whose logits agree within that tolerance can
  // order such a pair either way (measured: a 0.026 gap flipped in a LoRA-merged 4-layer model
  // whose logits agree within 0.045).
  double greedy_tie_gap = 0.05;
  int threads = 1;
};

struct VerifyCheck {
  std::string name;
  bool pass = false;
  std::string detail;
};

struct VerifyReport {
  std::vector<VerifyCheck> checks;
  double logits_max_abs = 0, logits_max_rel = 0, max_kl = 0, mean_kl = 0;
  int64_t activations_compared = 0, activation_flips = 0, quantizer_rows = 0, quantizer_mismatch = 0;
  double max_scale_rel = 0;
  bool ok() const {
    for (const auto& c : checks)
      if (!c.pass) return false;
    return !checks.empty();
  }
};

VerifyReport verify_gguf(const std::string& gguf_path, const QuantizedModel& model, const VerifyOptions& options);
// Safetensors exports: codes and scales only (the runtime loads GGUF).
VerifyReport verify_hf_packed(const std::string& dir, const QuantizedModel& model);

std::string format_report(const VerifyReport& report);  // a readable table, one row per check

}  // namespace bitnet::exporting
