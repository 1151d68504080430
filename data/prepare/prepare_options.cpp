// Prepare options: range checks (see prepare_options.h).
#include "data/prepare/prepare_options.h"

#include "data/error.h"

namespace bitnet::data {

void validate(const PrepareOptions& o) {
  if (o.inputs.empty()) throw DataError("no input files given");
  if (o.out.empty()) throw DataError("--out must name the output directory");
  if (o.shard_tokens < 1) throw DataError("--shard-tokens must be at least 1");
  if (o.max_line_bytes < 1) throw DataError("--max-line-bytes must be at least 1");
  if (o.threads < 0) throw DataError("--threads must be 0 (every hardware thread) or more");
  if (o.chunk_bytes < 1) throw DataError("--chunk-bytes must be at least 1");
  if (o.stop_after_shards < 0) throw DataError("--stop-after-shards must be 0 or more");
}

}  // namespace bitnet::data
