// make_tokenizer: the one place that maps a tokenizer type to an implementation.
#include <filesystem>

#include "data/bpe_tokenizer.h"
#include "data/byte_tokenizer.h"
#include "data/error.h"

namespace bitnet::data {

std::unique_ptr<Tokenizer> make_tokenizer(TokenizerType type, const std::string& path) {
  if (type == TokenizerType::kByte) return std::make_unique<ByteTokenizer>();
  if (path.empty()) throw DataError("tokenizer type 'bpe' needs a path to a tokenizer.json");
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {  // a Hugging Face model directory
    return BpeTokenizer::from_file((std::filesystem::path(path) / "tokenizer.json").string());
  }
  return BpeTokenizer::from_file(path);
}

}  // namespace bitnet::data
