// Tokenize, split by document, pack (see pretrain_data.h).
#include "data/pretrain_data.h"

#include "data/chat_template.h"

namespace bitnet::data {

PretrainData prepare_pretraining(const std::vector<std::string>& documents, const Tokenizer& tokenizer,
                                 double val_fraction, uint64_t seed) {
  PretrainData out;
  out.split = split_documents(static_cast<int64_t>(documents.size()), val_fraction, seed);
  auto pack = [&](const std::vector<int64_t>& indices) {
    std::vector<std::vector<int32_t>> tokens;
    tokens.reserve(indices.size());
    for (int64_t i : indices) tokens.push_back(encode_plain(tokenizer, documents[i]));
    return PackedTokens(tokens, tokenizer.eos_id());
  };
  out.train = pack(out.split.train);
  out.val = pack(out.split.val);
  return out;
}

}  // namespace bitnet::data
