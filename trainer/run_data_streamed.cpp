// The data side of a run on pre-training shards, read as batches need them (see run_data.h and
// data/shard_stream.h): the same documents, split and windows as the in-memory path, without
// loading the corpus.
#include <memory>
#include <utility>

#include "data/error.h"
#include "data/shard_stream.h"
#include "data/split.h"
#include "trainer/run_data.h"

namespace bitnet {

bool prepare_streamed_shards(const RunConfig& config, int64_t rank, int64_t world_size, RunData& d) {
  const DataConfig& dc = config.data;
  auto corpus = std::make_shared<const data::ShardCorpus>(data::shard_files(dc.paths), *d.tokenizer);
  if (corpus->masked()) return false;  // fine-tuning examples are loaded whole
  if (corpus->num_documents() == 0) throw data::DataError("the dataset holds no document or example");
  const auto seed = static_cast<uint64_t>(config.train.seed);
  data::DocumentSplit split = data::split_documents(corpus->num_documents(), dc.val_fraction, seed);
  const int32_t eos = d.tokenizer->eos_id();
  auto train = std::make_shared<const data::StreamedPackedTokens>(corpus, std::move(split.train), eos);
  auto val = std::make_shared<const data::StreamedPackedTokens>(corpus, std::move(split.val), eos);
  d.fine_tuning = false;
  d.streamed_shard_files = corpus->num_files();
  d.train_documents = train->num_documents();
  d.val_documents = val->num_documents();
  d.train_tokens = train->size();  // each document with its EOS, as the in-memory path counts
  d.val_tokens = val->size();
  d.train = std::make_unique<data::TrainBatches>(train, dc.seq_len, seed, rank, world_size);
  if (val->num_documents() > 0) {
    d.val_bytes_per_token = data::streamed_bytes_per_target(*val, *d.tokenizer);
    d.val = std::make_unique<data::EvalBatches>(val, dc.seq_len);
  }
  return true;
}

}  // namespace bitnet
