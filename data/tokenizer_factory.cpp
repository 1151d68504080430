// make_tokenizer: the one place that maps a tokenizer type name to an implementation.
#include <filesystem>

#include "data/bpe_tokenizer.h"
#include "data/byte_tokenizer.h"
#include "data/error.h"

namespace bitnet::data {

std::unique_ptr<Tokenizer> make_tokenizer(const std::string& type, const std::string& path) {
  if (type == "byte") return std::make_unique<ByteTokenizer>();
  if (type == "bpe") {
    if (path.empty()) throw DataError("tokenizer type 'bpe' needs a path to a tokenizer.json");
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {  // a Hugging Face model directory
      return BpeTokenizer::from_file((std::filesystem::path(path) / "tokenizer.json").string());
    }
    return BpeTokenizer::from_file(path);
  }
  throw DataError("unknown tokenizer type '" + type + "' (allowed: byte, bpe)");
}

}  // namespace bitnet::data
