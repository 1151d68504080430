// Building the data side of a run (see run_data.h).
#include "trainer/run_data.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/byte_tokenizer.h"
#include "data/error.h"
#include "data/packing.h"
#include "data/sft_batches.h"
#include "data/sft_packing.h"
#include "data/split.h"
#include "trainer/run_mixture.h"

namespace bitnet {
namespace {

std::vector<data::MaskedTokens> pick(std::vector<data::MaskedTokens>& items, const std::vector<int64_t>& ids) {
  std::vector<data::MaskedTokens> out;
  out.reserve(ids.size());
  for (int64_t i : ids) out.push_back(std::move(items[static_cast<size_t>(i)]));
  return out;
}

data::PackedTokens pack(const std::vector<data::MaskedTokens>& docs, int32_t eos_id) {
  std::vector<std::vector<int32_t>> tokens;
  tokens.reserve(docs.size());
  for (const data::MaskedTokens& d : docs) tokens.push_back(d.tokens);
  return data::PackedTokens(tokens, eos_id);
}

std::string read_whole(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw data::DataError(p.string() + ": cannot read the tokenizer file");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> tokenizer_files(const TokenizerConfig& config) {
  if (config.type != data::TokenizerType::kBpe) return {};
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path json =
      fs::is_directory(config.path, ec) ? fs::path(config.path) / "tokenizer.json" : fs::path(config.path);
  std::vector<std::pair<std::string, std::string>> files = {{"tokenizer.json", read_whole(json)}};
  const fs::path cfg = json.parent_path() / "tokenizer_config.json";
  if (fs::exists(cfg, ec)) files.emplace_back("tokenizer_config.json", read_whole(cfg));
  return files;
}

double bytes_per_target(const std::vector<data::MaskedTokens>& items, const data::Tokenizer& tok, bool masked) {
  size_t bytes = 0, targets = 0;
  for (const data::MaskedTokens& m : items) {
    std::vector<int32_t> trained;
    for (size_t i = 0; i < m.tokens.size(); ++i) {
      if (!masked || m.trained[i]) trained.push_back(m.tokens[i]);
    }
    bytes += tok.decode(trained).size();
    targets += trained.size() + (masked ? 0 : 1);  // text documents also predict their EOS
  }
  return targets > 0 && bytes > 0 ? double(bytes) / double(targets) : 1.0;
}

std::unique_ptr<data::EvalStream> eval_stream(std::vector<data::MaskedTokens> items, bool masked,
                                              const data::Tokenizer& tokenizer, int64_t seq_len) {
  if (masked) return std::make_unique<data::SftEvalBatches>(std::move(items), seq_len, tokenizer.pad_id());
  return std::make_unique<data::EvalBatches>(pack(items, tokenizer.eos_id()), seq_len);
}

data::DatasetOptions dataset_options(const RunConfig& config) {
  const DataConfig& dc = config.data;
  data::DatasetOptions o;
  o.format = dc.format;
  o.paths = dc.paths;
  o.separator_line = dc.separator_line;
  o.chat_template = dc.chat_template;
  o.bad_lines = dc.bad_lines;
  o.max_line_bytes = dc.max_line_bytes;
  o.hdf5_dataset = dc.hdf5_dataset;
  o.hdf5_offsets = dc.hdf5_offsets;
  return o;
}

RunData prepare_run_data(const RunConfig& config, int64_t rank, int64_t world_size) {
  const DataConfig& dc = config.data;
  const auto seed = static_cast<uint64_t>(config.train.seed);
  RunData d;
  d.tokenizer = data::make_tokenizer(config.tokenizer.type, config.tokenizer.path);
  d.tokenizer_files = tokenizer_files(config.tokenizer);
  if (!dc.sources.empty()) {  // a weighted mixture of datasets (run_mixture.h)
    prepare_mixture_data(d, config, rank, world_size);
    return d;
  }
  if (dc.format == data::DataFormat::kShards && prepare_streamed_shards(config, rank, world_size, d)) return d;
  data::TokenDataset dataset = data::load_token_dataset(dataset_options(config), *d.tokenizer);
  d.jsonl = dataset.jsonl;
  d.fine_tuning = dataset.masked;
  const data::DocumentSplit split =
      data::split_documents(static_cast<int64_t>(dataset.items.size()), dc.val_fraction, seed);
  d.train_documents = static_cast<int64_t>(split.train.size());
  d.val_documents = static_cast<int64_t>(split.val.size());
  set_streams(d, pick(dataset.items, split.train), pick(dataset.items, split.val), config, rank, world_size);
  return d;
}

void set_streams(RunData& d, std::vector<data::MaskedTokens> train, std::vector<data::MaskedTokens> val,
                 const RunConfig& config, int64_t rank, int64_t world_size) {
  const DataConfig& dc = config.data;
  const auto seed = static_cast<uint64_t>(config.train.seed);
  for (const auto& m : train) d.train_tokens += data::item_tokens(m, d.fine_tuning);
  for (const auto& m : val) d.val_tokens += data::item_tokens(m, d.fine_tuning);
  if (!val.empty()) d.val_bytes_per_token = bytes_per_target(val, *d.tokenizer, d.fine_tuning);

  const int32_t eos = d.tokenizer->eos_id(), pad = d.tokenizer->pad_id();
  if (d.fine_tuning) {
    if (dc.sft_layout == SftLayout::kPad) {
      d.train = std::make_unique<data::SftBatches>(std::move(train), dc.seq_len, pad, seed, rank, world_size);
    } else {
      d.train = std::make_unique<data::PackedSftBatches>(std::move(train), dc.seq_len, pad, seed, rank, world_size);
    }
    if (!val.empty()) d.val = eval_stream(std::move(val), true, *d.tokenizer, dc.seq_len);
  } else {
    d.train = std::make_unique<data::TrainBatches>(pack(train, eos), dc.seq_len, seed, rank, world_size);
    if (!val.empty()) d.val = eval_stream(std::move(val), false, *d.tokenizer, dc.seq_len);
  }
}

}  // namespace bitnet
