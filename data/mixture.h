// A mixture of datasets (`data.sources`): each source is split into train/validation by document
// first, then the training parts are mixed by weight, where a weight is the source's share of the
// mixture's training tokens (as in Megatron, Nanotron or torchtune blends):
//   total     = the sum of the sources' training tokens (the mixture is as large as its parts)
//   target_s  = round(total * weight_s / sum of weights)
//   source s contributes floor(target_s / tokens_s) whole passes over its training documents,
//   then a prefix of a seeded permutation of them (no document twice) for the remainder: a small
//   source is repeated (upsampled), a large one subsampled. The prefix stops where the next
//   document would overshoot the remainder by more than half of itself, so each source lands
//   within half a document of its target.
// The mixed documents are shuffled with the portable PRNG of rng.h, so the mixture is a pure
// function of the sources, the weights, val_fraction and the seed: the same on every machine and
// rank, which exact resume depends on. Validation is the union of the sources' held-out documents,
// unweighted. A document's tokens count its EOS when documents are packed (pre-training).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/token_dataset.h"

namespace bitnet::data {

struct MixtureSource {
  std::string label;     // names the source in messages and reports
  double weight = 0;     // > 0, finite; normalized over all sources
  TokenDataset dataset;  // documents or masked examples, as loaded
};

// What one source gives the mixture.
struct SourceProportion {
  std::string label;
  double weight = 0;                              // normalized: the share of training tokens asked for
  int64_t documents = 0, tokens = 0;              // the source's own training documents and tokens (after the split)
  int64_t mixed_documents = 0, mixed_tokens = 0;  // what the mixture takes from it, repeats counted
  int64_t val_documents = 0, val_tokens = 0;      // held out for validation
  // mixed_tokens / the mixture's training tokens, and mixed_tokens / tokens (2.4 = every document
  // 2.4 times on average; 0.35 = a 35% sample).
  double share(int64_t mixture_tokens) const;
  double epochs() const;
};

struct Mixture {
  bool masked = false;              // masked examples (fine-tuning) rather than documents
  std::vector<MaskedTokens> train;  // mixed and shuffled
  std::vector<MaskedTokens> val;    // every source's held-out items, source by source
  std::vector<SourceProportion> sources;
  JsonlReport jsonl;             // the JSONL sources' reports, summed
  int64_t train_tokens() const;  // the sum of sources[s].mixed_tokens
};

// Tokens an item occupies in training: its tokens, plus the EOS packed after a document.
int64_t item_tokens(const MaskedTokens& item, bool masked);

// DataError when there are no sources, a weight is not a positive finite number, a source is
// empty, or documents and masked examples are mixed (the message names the sources of each kind).
Mixture mix_sources(std::vector<MixtureSource> sources, double val_fraction, uint64_t seed);

}  // namespace bitnet::data
