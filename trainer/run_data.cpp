// Building the data side of a run (see run_data.h).
#include "trainer/run_data.h"

#include "data/byte_tokenizer.h"
#include "data/error.h"
#include "data/packing.h"
#include "data/split.h"
#include "data/text_documents.h"

namespace bitnet {
namespace {

data::PackedTokens pack(const std::vector<std::string>& docs, const std::vector<int64_t>& ids,
                        const data::Tokenizer& tokenizer) {
  std::vector<std::vector<int32_t>> encoded;
  encoded.reserve(ids.size());
  for (int64_t i : ids) encoded.push_back(tokenizer.encode(docs[static_cast<size_t>(i)]));
  return data::PackedTokens(encoded, tokenizer.eos_id());
}

}  // namespace

RunData prepare_run_data(const RunConfig& config, int64_t rank, int64_t world_size) {
  const DataConfig& dc = config.data;
  if (dc.format != "text") {
    throw data::DataError("data.format '" + dc.format + "' is not supported by this build (supported: text)");
  }
  RunData d;
  d.tokenizer = data::make_tokenizer(config.tokenizer.type, config.tokenizer.path);
  const std::vector<std::string> docs = data::read_text_documents(dc.paths, dc.separator_line);
  const data::DocumentSplit split =
      data::split_documents(static_cast<int64_t>(docs.size()), dc.val_fraction, static_cast<uint64_t>(config.train.seed));
  d.train_documents = static_cast<int64_t>(split.train.size());
  d.val_documents = static_cast<int64_t>(split.val.size());

  data::PackedTokens train_tokens = pack(docs, split.train, *d.tokenizer);
  d.train_tokens = train_tokens.size();
  d.train = std::make_unique<data::TrainBatches>(std::move(train_tokens), dc.seq_len,
                                                 static_cast<uint64_t>(config.train.seed), rank, world_size);
  if (!split.val.empty()) {
    data::PackedTokens val_tokens = pack(docs, split.val, *d.tokenizer);
    d.val_tokens = val_tokens.size();
    size_t bytes = 0;
    for (int64_t i : split.val) bytes += docs[static_cast<size_t>(i)].size();
    d.val_bytes_per_token = d.val_tokens > 0 ? double(bytes) / double(d.val_tokens) : 1.0;
    d.val = std::make_unique<data::EvalBatches>(std::move(val_tokens), dc.seq_len);
  }
  return d;
}

}  // namespace bitnet
