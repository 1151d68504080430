// make_tokenizer: the one place that maps a tokenizer type name to an implementation.
#include "data/byte_tokenizer.h"
#include "data/error.h"

namespace bitnet::data {

std::unique_ptr<Tokenizer> make_tokenizer(const std::string& type, const std::string& path) {
  (void)path;
  if (type == "byte") return std::make_unique<ByteTokenizer>();
  throw DataError("unknown tokenizer type '" + type + "' (allowed: byte)");
}

}  // namespace bitnet::data
