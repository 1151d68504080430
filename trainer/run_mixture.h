// The data side of a mixture run (data.sources, data/mixture.h): each source loaded with its own
// dataset options, the sources mixed by weight, and the effective proportions as the table the
// start of a run and `bitnet data check` print.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/mixture.h"
#include "data/token_dataset.h"
#include "data/tokenizer.h"
#include "trainer/config.h"
#include "trainer/run_data.h"

namespace bitnet {

// The dataset options of source `index`: data.* with the keys the source sets.
data::DatasetOptions source_dataset_options(const RunConfig& config, size_t index);

// "[1] a.txt, b/*.txt": the index and the paths, shortened; names the source in messages.
std::string source_label(const RunConfig& config, size_t index);

// Loads every source and mixes them (train.seed, data.val_fraction). data::DataError on a bad
// source (its messages name the source) or documents mixed with masked examples.
data::Mixture load_mixture(const RunConfig& config, const data::Tokenizer& tokenizer);

// Fills `d` (its tokenizer already set) from the mixture of config.data.sources.
void prepare_mixture_data(RunData& d, const RunConfig& config, int64_t rank, int64_t world_size);

// The proportions as aligned lines: a header, then per source its weight, training tokens taken,
// share of the mixture, epochs over its own training documents and validation tokens.
std::vector<std::string> mixture_table(const std::vector<data::SourceProportion>& sources);

}  // namespace bitnet
