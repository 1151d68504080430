// Feeds a tokenizer.json to data::BpeTokenizer::from_json and, when it loads, encodes and decodes
// a few strings. Input layout, split at 0x00 bytes: tokenizer.json text, tokenizer_config.json
// text (may be empty), then strings to encode (a few fixed ones are always tried too).
// Checks: every id is in [0, vocab_size); decode(encode(s)) == s whenever no added token was
// produced (every supported tokenizer is byte-level, and added tokens decode to their content or
// are skipped when special, so only they may legitimately break the round trip). DataError is the
// only accepted failure.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "data/bpe_tokenizer.h"
#include "data/error.h"
#include "fuzz_util.h"

using namespace bitnet::data;

namespace {

bool has_added(const BpeTokenizer& t, const std::vector<int32_t>& ids) {
  for (int32_t id : ids) {
    if (id < 0 || id >= t.vocab_size()) std::abort();
    if (t.is_added(id)) return true;
  }
  return false;
}

void round_trip(const BpeTokenizer& t, const std::string& s) {
  try {
    std::vector<int32_t> ids = t.encode(s);
    if (!has_added(t, ids) && t.decode(ids) != s) std::abort();
  } catch (const DataError&) {  // e.g. a byte with no token
  }
  try {
    std::vector<int32_t> ids = t.encode_ordinary(s);
    if (!has_added(t, ids) && t.decode(ids) != s) std::abort();
  } catch (const DataError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> parts = bitnet::fuzz::split_at_nul(data, size);
  const std::string config = parts.size() > 1 ? parts[1] : std::string();
  std::unique_ptr<BpeTokenizer> t;
  try {
    t = BpeTokenizer::from_json(parts[0], config, "fuzz.json");
  } catch (const DataError&) {
    return 0;
  }
  const std::vector<std::string> fixed = {"", "a", "hello world", "a  b\n\tc", "\xC3\xA9t\xC3\xA9 42"};
  for (const std::string& s : fixed) round_trip(*t, s);
  for (size_t i = 2; i < parts.size() && i < 6; ++i) round_trip(*t, parts[i]);
  for (int32_t id : {t->bos_id(), t->eos_id(), t->pad_id()}) {
    if (id < -1 || id >= t->vocab_size()) std::abort();
    if (id >= 0) {
      try {
        (void)t->token_text(id);
      } catch (const DataError&) {  // an id may be a hole
      }
    }
  }
  return 0;
}
