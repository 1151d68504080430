// Out-of-line anchor for the Tokenizer vtable.
#include "data/tokenizer.h"

namespace bitnet::data {

Tokenizer::~Tokenizer() = default;

}  // namespace bitnet::data
