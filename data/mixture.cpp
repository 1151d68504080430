// Weighted mixing of datasets (see mixture.h): split each source, size each source's part by
// its weight, draw it, shuffle the whole.
#include "data/mixture.h"

#include <cmath>
#include <utility>

#include "data/error.h"
#include "data/rng.h"
#include "data/split.h"

namespace bitnet::data {

namespace {

// Purpose tags keep each stream apart from the others and from the single-dataset split/shuffles.
constexpr uint64_t kSourceSplitTag = 0x6d69782d73706c74ULL;   // "mix-splt": source s's split
constexpr uint64_t kSourceSampleTag = 0x6d69782d736d706cULL;  // "mix-smpl": source s's sample
constexpr uint64_t kMixShuffleTag = 0x6d69782d73686666ULL;    // "mix-shff": the mixture's order

// One training item of the mixture: document `item` of source `source`.
struct Pick {
  size_t source;
  size_t item;
};

void check_sources(const std::vector<MixtureSource>& sources) {
  if (sources.empty()) throw DataError("mixture: no sources");
  std::string documents, examples;
  for (const MixtureSource& s : sources) {
    if (!(std::isfinite(s.weight) && s.weight > 0)) {
      throw DataError("mixture: source " + s.label + ": weight must be a number > 0, got " + std::to_string(s.weight));
    }
    if (s.dataset.items.empty()) throw DataError("mixture: source " + s.label + " holds no documents");
    std::string& list = s.dataset.masked ? examples : documents;
    list += (list.empty() ? "" : ", ") + s.label;
  }
  if (!documents.empty() && !examples.empty()) {
    throw DataError("mixture: sources of documents (pre-training: " + documents +
                    ") and of masked examples (fine-tuning: " + examples +
                    ") cannot be mixed; every source must be one kind");
  }
}

int64_t sum_tokens(const std::vector<MaskedTokens>& items, const std::vector<int64_t>& ids, bool masked) {
  int64_t total = 0;
  for (int64_t i : ids) total += item_tokens(items[static_cast<size_t>(i)], masked);
  return total;
}

// Appends source `s`'s part of the training set to `picks`: whole passes over `train` (document
// indices), then a prefix of a seeded permutation of them up to the remainder of `target`.
// Records what was taken in `p`.
void draw_source(size_t s, const std::vector<MaskedTokens>& items, const std::vector<int64_t>& train, bool masked,
                 int64_t target, uint64_t seed, SourceProportion& p, std::vector<Pick>& picks) {
  const int64_t passes = target / p.tokens;
  for (int64_t pass = 0; pass < passes; ++pass) {
    for (int64_t i : train) picks.push_back({s, static_cast<size_t>(i)});
  }
  p.mixed_documents = passes * p.documents;
  p.mixed_tokens = passes * p.tokens;
  const int64_t remainder = target - p.mixed_tokens;
  SplitMix64 rng(derive_seed(seed, kSourceSampleTag, s));
  const std::vector<int64_t> order = random_permutation(static_cast<int64_t>(train.size()), rng);
  int64_t taken = 0;
  for (int64_t k : order) {
    const int64_t doc = train[static_cast<size_t>(k)];
    const int64_t size = item_tokens(items[static_cast<size_t>(doc)], masked);
    if (2 * (remainder - taken) < size) break;  // taking it would overshoot by more than half of it
    picks.push_back({s, static_cast<size_t>(doc)});
    taken += size;
    ++p.mixed_documents;
  }
  p.mixed_tokens += taken;
}

void add_report(JsonlReport& total, const JsonlReport& part) {
  total.lines += part.lines;
  total.examples += part.examples;
  total.skipped += part.skipped;
  total.messages.insert(total.messages.end(), part.messages.begin(), part.messages.end());
}

}  // namespace

double SourceProportion::share(int64_t mixture_tokens) const {
  return mixture_tokens > 0 ? double(mixed_tokens) / double(mixture_tokens) : 0.0;
}

double SourceProportion::epochs() const {
  return tokens > 0 ? double(mixed_tokens) / double(tokens) : 0.0;
}

int64_t Mixture::train_tokens() const {
  int64_t total = 0;
  for (const SourceProportion& p : sources) total += p.mixed_tokens;
  return total;
}

int64_t item_tokens(const MaskedTokens& item, bool masked) {
  return static_cast<int64_t>(item.tokens.size()) + (masked ? 0 : 1);
}

Mixture mix_sources(std::vector<MixtureSource> sources, double val_fraction, uint64_t seed) {
  check_sources(sources);
  Mixture mix;
  mix.masked = sources.front().dataset.masked;

  // Split every source first, so a document repeated by upsampling can never also be held out.
  std::vector<std::vector<int64_t>> train_ids(sources.size());
  double weight_sum = 0;
  int64_t total = 0;
  for (size_t s = 0; s < sources.size(); ++s) {
    std::vector<MaskedTokens>& items = sources[s].dataset.items;
    DocumentSplit split =
        split_documents(static_cast<int64_t>(items.size()), val_fraction, derive_seed(seed, kSourceSplitTag, s));
    SourceProportion p;
    p.label = sources[s].label;
    p.documents = static_cast<int64_t>(split.train.size());
    p.tokens = sum_tokens(items, split.train, mix.masked);
    p.val_documents = static_cast<int64_t>(split.val.size());
    p.val_tokens = sum_tokens(items, split.val, mix.masked);
    for (int64_t i : split.val) mix.val.push_back(std::move(items[static_cast<size_t>(i)]));  // never trained on
    train_ids[s] = std::move(split.train);
    weight_sum += sources[s].weight;
    total += p.tokens;
    mix.sources.push_back(std::move(p));
    add_report(mix.jsonl, sources[s].dataset.jsonl);
  }

  std::vector<Pick> picks;
  for (size_t s = 0; s < sources.size(); ++s) {
    SourceProportion& p = mix.sources[s];
    p.weight = sources[s].weight / weight_sum;
    // One division then one product (no fused multiply-add to contract), so every machine
    // computes the same target.
    const auto target = static_cast<int64_t>(std::llround(double(total) * p.weight));
    draw_source(s, sources[s].dataset.items, train_ids[s], mix.masked, target, seed, p, picks);
  }

  SplitMix64 rng(derive_seed(seed, kMixShuffleTag, 0));
  const std::vector<int64_t> order = random_permutation(static_cast<int64_t>(picks.size()), rng);
  mix.train.reserve(picks.size());
  for (int64_t k : order) {
    const Pick& pick = picks[static_cast<size_t>(k)];
    mix.train.push_back(sources[pick.source].dataset.items[pick.item]);
  }
  return mix;
}

}  // namespace bitnet::data
