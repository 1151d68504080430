// Tokenizing one chunk (see chunk_tokens.h).
#include "data/prepare/chunk_tokens.h"

#include "data/text_documents.h"

namespace bitnet::data {
namespace {

void add_item(TokenizedChunk& out, MaskedTokens item, const ResumePoint& after) {
  out.items.push_back(std::move(item));
  out.after.push_back(after);
  out.skipped_before.push_back(out.report.skipped);
}

void tokenize_text(const Chunk& chunk, const PrepareOptions& options, const Tokenizer& tokenizer, TokenizedChunk& out) {
  std::vector<size_t> ends;
  const std::vector<std::string> docs = split_text_documents(chunk.text, options.separator, &ends);
  for (size_t i = 0; i < docs.size(); ++i) {
    MaskedTokens doc;
    doc.append(tokenizer.encode(docs[i]), true);
    if (doc.tokens.empty()) continue;
    add_item(out, std::move(doc), {chunk.file, chunk.start + ends[i], 0});
  }
}

void tokenize_lines(const Chunk& chunk, const std::string& origin, const PrepareOptions& options,
                    const Tokenizer& tokenizer, TokenizedChunk& out) {
  JsonlOptions jo;
  jo.chat_template = options.chat_template;
  jo.bad_lines = options.bad_lines;
  jo.max_line_bytes = options.max_line_bytes;
  jo.rows = options.format == PrepareFormat::kJsonlText ? JsonlRows::kTextDocuments : JsonlRows::kExamples;
  for (size_t i = 0; i < chunk.lines.size(); ++i) {
    MaskedTokens item;
    if (!take_jsonl_line(chunk.lines[i], origin, tokenizer, jo, out.report, &item)) continue;
    if (item.tokens.empty()) continue;  // a jsonl-text line with empty text
    add_item(out, std::move(item), {chunk.file, chunk.line_ends[i], chunk.lines[i].number});
  }
}

}  // namespace

TokenizedChunk tokenize_chunk(const Chunk& chunk, const std::string& origin, const PrepareOptions& options,
                              const Tokenizer& tokenizer) {
  TokenizedChunk out;
  out.bytes_done = chunk.bytes_done;
  if (options.format == PrepareFormat::kText) {
    tokenize_text(chunk, options, tokenizer, out);
  } else {
    tokenize_lines(chunk, origin, options, tokenizer, out);
  }
  return out;
}

}  // namespace bitnet::data
