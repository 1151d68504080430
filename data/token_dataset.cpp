// Loading every dataset format into token documents or masked examples (see token_dataset.h).
#include "data/token_dataset.h"

#include <xxhash.h>

#include <algorithm>
#include <filesystem>

#include "data/error.h"
#include "data/hdf5_tokens.h"
#include "data/text_documents.h"
#include "formats/error.h"
#include "formats/token_shard.h"

namespace bitnet::data {
namespace {

MaskedTokens document(std::vector<int32_t> tokens) {
  MaskedTokens m;
  m.trained.assign(tokens.size(), 1);
  m.tokens = std::move(tokens);
  return m;
}

void load_shards(const DatasetOptions& o, const Tokenizer& tokenizer, TokenDataset& out) {
  const uint64_t fingerprint = tokenizer_fingerprint(tokenizer);
  bool first = true;
  for (const std::string& path : shard_files(o.paths)) {
    formats::TokenShard s;
    try {
      s = formats::read_token_shard(path);
    } catch (const formats::FormatError& e) {
      throw DataError(e.what());
    }
    check_shard_tokenizer(path, s.vocab_size, s.tokenizer_fingerprint, tokenizer, fingerprint);
    const bool masked = s.masked;
    if (!first && masked != out.masked) {
      throw DataError(path + ": mixes fine-tuning shards (with a loss mask) and text shards");
    }
    out.masked = masked;
    first = false;
    for (uint64_t d = 0; d < s.num_documents(); ++d) {
      MaskedTokens m;
      m.tokens.assign(s.tokens.begin() + s.offsets[d], s.tokens.begin() + s.offsets[d + 1]);
      if (masked) {
        m.trained.assign(s.mask.begin() + s.offsets[d], s.mask.begin() + s.offsets[d + 1]);
      } else {
        m.trained.assign(m.tokens.size(), 1);
      }
      out.items.push_back(std::move(m));
    }
  }
}

}  // namespace

int64_t TokenDataset::num_tokens() const {
  int64_t n = 0;
  for (const MaskedTokens& m : items) n += static_cast<int64_t>(m.tokens.size());
  return n;
}

uint64_t tokenizer_fingerprint(const Tokenizer& tokenizer) {
  XXH64_state_t* state = XXH64_createState();
  XXH64_reset(state, 0);
  auto add = [&](const std::string& s) {
    const uint64_t len = s.size();
    XXH64_update(state, &len, sizeof len);
    XXH64_update(state, s.data(), s.size());
  };
  add(enum_name(tokenizer.type()));  // "byte" | "bpe": the name, so fingerprints outlive the enum
  const int64_t ids[4] = {tokenizer.vocab_size(), tokenizer.bos_id(), tokenizer.eos_id(), tokenizer.pad_id()};
  XXH64_update(state, ids, sizeof ids);
  for (int64_t i = 0; i < tokenizer.vocab_size(); ++i) {
    std::string text;
    try {
      text = tokenizer.token_text(static_cast<int32_t>(i));
    } catch (const DataError&) {
      text = "\x01<none>";  // an id without a token
    }
    add(text);
  }
  const uint64_t h = XXH64_digest(state);
  XXH64_freeState(state);
  return h;
}

void check_shard_tokenizer(const std::string& path, uint64_t vocab_size, uint64_t fingerprint,
                           const Tokenizer& tokenizer, uint64_t expected) {
  if (fingerprint != expected || vocab_size != static_cast<uint64_t>(tokenizer.vocab_size())) {
    throw DataError(path + ": written with another tokenizer (vocab " + std::to_string(vocab_size) + ", fingerprint " +
                    std::to_string(fingerprint) + ") than the configured " + enum_name(tokenizer.type()) +
                    " tokenizer (vocab " + std::to_string(tokenizer.vocab_size()) + ", fingerprint " +
                    std::to_string(expected) + "): set tokenizer.* as for `bitnet data prepare`");
  }
}

std::vector<std::string> shard_files(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::string> in_dir;
      for (const auto& e : std::filesystem::directory_iterator(p, ec)) {
        if (e.path().extension() == ".bts") in_dir.push_back(e.path().string());
      }
      if (in_dir.empty()) throw DataError(p + ": directory holds no token shards (*.bts)");
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else {
      for (const std::string& f : expand_paths({p})) files.push_back(f);
    }
  }
  return files;
}

TokenDataset load_token_dataset(const DatasetOptions& o, const Tokenizer& tokenizer) {
  TokenDataset out;
  switch (o.format) {
    case DataFormat::kText:
      for (const std::string& doc : read_text_documents(o.paths, o.separator_line)) {
        out.items.push_back(document(tokenizer.encode(doc)));
      }
      break;
    case DataFormat::kJsonl: {
      JsonlOptions jo;
      jo.chat_template = o.chat_template;
      jo.bad_lines = o.bad_lines;
      jo.max_line_bytes = o.max_line_bytes;
      out.items = read_jsonl_examples(o.paths, tokenizer, jo, &out.jsonl);
      out.masked = true;
      break;
    }
    case DataFormat::kShards:
      load_shards(o, tokenizer, out);
      break;
    case DataFormat::kHdf5:
      for (const std::string& path : expand_paths(o.paths)) {
        for (auto& doc :
             read_hdf5_documents(path, o.hdf5_dataset, o.hdf5_offsets, tokenizer.vocab_size(), tokenizer.eos_id())) {
          out.items.push_back(document(std::move(doc)));
        }
      }
      break;
  }
  if (out.items.empty()) throw DataError("the dataset holds no document or example");
  return out;
}

}  // namespace bitnet::data
