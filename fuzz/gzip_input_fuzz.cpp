// Writes the input to a temporary file and reads it with data::InputFile (gunzipped when it starts
// with the gzip magic) in pieces of a few sizes. Checks: every reading gives the same content,
// content_offset() counts it, file_offset() stays within the file, and skipping to the middle then
// reading gives the rest. When the content reads, it is also cut into text chunks
// (data/prepare/input_chunks.h) with a small chunk size: the chunks' documents must equal
// split_text_documents of the whole content, for the "%" and blank-line separators. DataError is
// the only accepted failure. Seeds (fuzz/corpus/gzip_input/) are small files made with gzip(1).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "data/byte_tokenizer.h"
#include "data/error.h"
#include "data/input_file.h"
#include "data/prepare/chunk_tokens.h"
#include "data/prepare/input_chunks.h"
#include "data/text_documents.h"
#include "fuzz_util.h"

using namespace bitnet::data;

namespace {

constexpr uint64_t kMaxContent = uint64_t{8} << 20;  // a gzip bomb is not the code under test

// The content, or false on a DataError (or when it is larger than kMaxContent).
bool read_content(const std::string& path, size_t piece, std::string& out) {
  try {
    InputFile in(path);
    std::vector<char> buf(piece);
    while (const size_t n = in.read(buf.data(), buf.size())) {
      out.append(buf.data(), n);
      if (in.content_offset() != out.size() || in.file_offset() > in.file_size()) std::abort();
      if (out.size() > kMaxContent) return false;
    }
    return true;
  } catch (const DataError&) {
    return false;
  }
}

void check_chunks(const std::string& path, const std::string& content, const std::string& separator,
                  int64_t chunk_bytes) {
  const ByteTokenizer tok;
  std::vector<std::vector<int32_t>> whole;
  for (const std::string& d : split_text_documents(content, separator)) whole.push_back(tok.encode(d));
  PrepareOptions o;
  o.separator = separator;
  o.chunk_bytes = chunk_bytes;
  std::vector<std::vector<int32_t>> chunked;
  ChunkReader reader({path}, o, ResumePoint{});
  Chunk c;
  while (reader.next(c)) {
    for (MaskedTokens& m : tokenize_chunk(c, path, o, tok).items) chunked.push_back(std::move(m.tokens));
  }
  if (chunked != whole) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = bitnet::fuzz::write_temp_file(data, size, ".gz");
  std::string a, b;
  const bool ok_a = read_content(path, 1 + size % 97, a);
  const bool ok_b = read_content(path, 1 << 16, b);
  if (ok_a != ok_b || (ok_a && a != b)) std::abort();
  if (!ok_a) return 0;
  try {
    InputFile in(path);
    in.skip(a.size() / 2);
    std::string rest(a.size() - a.size() / 2 + 1, '\0');
    size_t got = 0;
    while (const size_t n = in.read(rest.data() + got, rest.size() - got)) got += n;
    if (rest.compare(0, got, a, a.size() / 2, std::string::npos) != 0 || got != a.size() - a.size() / 2) std::abort();
  } catch (const DataError&) {
    std::abort();  // the whole content read, so skipping into it cannot fail
  }
  check_chunks(path, a, "%", 1 + static_cast<int64_t>(size % 61));
  check_chunks(path, a, "", 1 + static_cast<int64_t>(size % 13));
  return 0;
}
