// Everything the training loop reads: the tokenizer, the documents split into train and
// validation by document, packed into windows, and the batch streams for this rank.
#pragma once

#include <memory>
#include <string>

#include "data/batches.h"
#include "data/tokenizer.h"
#include "trainer/config.h"

namespace bitnet {

struct RunData {
  std::unique_ptr<data::Tokenizer> tokenizer;
  std::unique_ptr<data::TrainBatches> train;
  std::unique_ptr<data::EvalBatches> val;  // null when data.val_fraction is 0
  int64_t train_documents = 0, val_documents = 0;
  int64_t train_tokens = 0, val_tokens = 0;
  double val_bytes_per_token = 1.0;  // UTF-8 bytes per validation token, for bits per byte
};

// Throws data::DataError (missing files, empty corpus, too little data for one window).
RunData prepare_run_data(const RunConfig& config, int64_t rank, int64_t world_size);

}  // namespace bitnet
