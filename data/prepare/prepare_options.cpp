// Prepare options: format names and range checks (see prepare_options.h).
#include "data/prepare/prepare_options.h"

#include "data/error.h"

namespace bitnet::data {
namespace {

struct FormatName {
  PrepareFormat format;
  const char* name;
};
constexpr FormatName kFormatNames[] = {
    {PrepareFormat::kText, "text"},
    {PrepareFormat::kJsonl, "jsonl"},
    {PrepareFormat::kJsonlText, "jsonl-text"},
};

}  // namespace

PrepareFormat parse_prepare_format(const std::string& name) {
  for (const FormatName& f : kFormatNames) {
    if (name == f.name) return f.format;
  }
  throw DataError("--format must be text, jsonl or jsonl-text, got '" + name + "'");
}

std::string prepare_format_name(PrepareFormat format) {
  for (const FormatName& f : kFormatNames) {
    if (format == f.format) return f.name;
  }
  return "unknown";
}

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
