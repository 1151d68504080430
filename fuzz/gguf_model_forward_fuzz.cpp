// Feeds the input bytes to the CPU runtime's GGUF loader (kernels::load_gguf_model) and, when a
// model loads, runs a two-token prefill and one decode step on it. Inputs above 4 MiB are skipped
// so a forged model cannot make a run slow or large. FormatError and KernelError are the only
// accepted failures; any other exception or a sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "formats/gguf.h"
#include "kernels/errors.h"
#include "kernels/gguf_model.h"
#include "kernels/model.h"

using namespace bitnet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (size_t{4} << 20)) return -1;  // -1: keep out of the corpus
  try {
    formats::GgufReader r = formats::GgufReader::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.gguf");
    // Scalar everywhere: the result must not depend on the fuzzing machine's CPU.
    kernels::LoadedModel m = kernels::load_gguf_model(r, kernels::KernelPath::scalar);
    const int64_t vocab = m.weights.spec.vocab_size;
    kernels::Session session(m.weights);
    std::vector<float> logits = session.prefill({0, static_cast<int32_t>(vocab - 1)});
    if (static_cast<int64_t>(logits.size()) != vocab) std::abort();
    logits = session.decode(static_cast<int32_t>(vocab / 2));
    if (static_cast<int64_t>(logits.size()) != vocab) std::abort();
  } catch (const formats::FormatError&) {
  } catch (const kernels::KernelError&) {
  }
  return 0;
}
