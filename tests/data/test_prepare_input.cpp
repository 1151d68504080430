// Reading corpora for `data prepare`: gzip inputs (streaming, concatenated members, truncated and
// corrupt files), resuming at a content offset, document ends of the text splitter, and the chunk
// reader: documents and JSONL items of any chunking equal those of the whole file.
#include <zlib.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "data/byte_tokenizer.h"
#include "data/error.h"
#include "data/input_file.h"
#include "data/jsonl.h"
#include "data/prepare/chunk_tokens.h"
#include "data/prepare/input_chunks.h"
#include "data/text_documents.h"
#include "tests/support/temp_dir.h"

namespace bitnet::data {
namespace {

using testing::TempDir;

std::string gzip_bytes(const std::string& text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string read_all(InputFile& in, size_t piece) {
  std::string out, buf(piece, '\0');
  while (const size_t n = in.read(buf.data(), piece)) out.append(buf.data(), n);
  return out;
}

// A text of many short documents separated by "%" lines, with CRLF and blank lines mixed in.
std::string sample_text(int docs) {
  std::string t;
  for (int i = 0; i < docs; ++i) {
    t += "doc " + std::to_string(i) + " line one\n";
    if (i % 3 == 0) t += "\n  second paragraph " + std::to_string(i * 7) + "\r\n";
    if (i % 5 == 0) t += "\n";
    t += i % 4 == 0 ? "%\r\n" : "%\n";
  }
  return t + "last document without a final newline";
}

TEST(InputFile, ReadsPlainAndGzipAlike) {
  TempDir dir;
  const std::string text = sample_text(300);
  const std::string plain = dir.write("a.txt", text);
  const std::string gz = dir.write("a.txt.gz", gzip_bytes(text));
  for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}}) {
    InputFile p(plain), g(gz);
    EXPECT_FALSE(p.gzip());
    EXPECT_TRUE(g.gzip());
    EXPECT_EQ(read_all(p, piece), text);
    EXPECT_EQ(read_all(g, piece), text);
    EXPECT_EQ(g.content_offset(), text.size());
    EXPECT_EQ(g.file_offset(), g.file_size());  // every compressed byte consumed
  }
}

TEST(InputFile, DetectsGzipByMagicNotName) {
  TempDir dir;
  const std::string gz = dir.write("corpus.txt", gzip_bytes("hello\n"));
  InputFile in(gz);
  EXPECT_TRUE(in.gzip());
  EXPECT_EQ(read_all(in, 64), "hello\n");
}

TEST(InputFile, ConcatenatedMembersReadAsOneStream) {
  TempDir dir;
  const std::string path = dir.write("two.gz", gzip_bytes("first part\n") + gzip_bytes("second part\n"));
  InputFile in(path);
  EXPECT_EQ(read_all(in, 5), "first part\nsecond part\n");
}

TEST(InputFile, TruncatedGzipNamesFileAndOffset) {
  TempDir dir;
  const std::string full = gzip_bytes(sample_text(200));
  const std::string path = dir.write("cut.gz", full.substr(0, full.size() / 2));
  InputFile in(path);
  try {
    read_all(in, 1000);
    FAIL() << "a truncated gzip file was read";
  } catch (const DataError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("truncated"), std::string::npos) << m;
    EXPECT_NE(m.find("cut.gz"), std::string::npos) << m;
    EXPECT_NE(m.find(std::to_string(full.size() / 2)), std::string::npos) << m;
  }
}

TEST(InputFile, CorruptGzipIsADataError) {
  TempDir dir;
  std::string bytes = gzip_bytes(sample_text(200));
  for (size_t i = 20; i < 60; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
  const std::string path = dir.write("bad.gz", bytes);
  InputFile in(path);
  try {
    read_all(in, 1000);
    FAIL() << "a corrupt gzip file was read";
  } catch (const DataError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("bad.gz"), std::string::npos) << m;
    EXPECT_NE(m.find("near byte"), std::string::npos) << m;
  }
}

TEST(InputFile, DamagedChecksumIsADataError) {
  TempDir dir;
  std::string bytes = gzip_bytes("some text that is long enough\n");
  bytes[bytes.size() - 6] = static_cast<char>(bytes[bytes.size() - 6] ^ 1);  // CRC-32 of the trailer
  const std::string path = dir.write("crc.gz", bytes);
  InputFile in(path);
  EXPECT_THROW(read_all(in, 1000), DataError);
}

TEST(InputFile, SkipResumesAtAContentOffset) {
  TempDir dir;
  const std::string text = sample_text(100);
  for (const std::string& path : {dir.write("s.txt", text), dir.write("s.gz", gzip_bytes(text))}) {
    InputFile in(path);
    in.skip(123);
    EXPECT_EQ(in.content_offset(), 123u);
    EXPECT_EQ(read_all(in, 50), text.substr(123));
    InputFile past(path);
    EXPECT_THROW(past.skip(text.size() + 1), DataError) << path;
  }
}

TEST(TextDocuments, SplittingAtDocumentEndsGivesTheSameDocuments) {
  for (const std::string& sep : {std::string("%"), std::string()}) {
    const std::string text = sample_text(40);
    std::vector<size_t> ends;
    const auto whole = split_text_documents(text, sep, &ends);
    ASSERT_EQ(ends.size(), whole.size());
    for (size_t i = 0; i < ends.size(); ++i) {
      auto head = split_text_documents(text.substr(0, ends[i]), sep);
      const auto tail = split_text_documents(text.substr(ends[i]), sep);
      head.insert(head.end(), tail.begin(), tail.end());
      EXPECT_EQ(head, whole) << "cut after document " << i << " separator '" << sep << "'";
      EXPECT_EQ(head.size(), whole.size());
    }
    EXPECT_EQ(ends.back(), text.size());
  }
}

TEST(TextDocuments, BoundaryLines) {
  EXPECT_TRUE(is_document_boundary("%", "%"));
  EXPECT_TRUE(is_document_boundary("%\r", "%"));
  EXPECT_FALSE(is_document_boundary("% ", "%"));
  EXPECT_TRUE(is_document_boundary(" \t\r", ""));
  EXPECT_FALSE(is_document_boundary("x", ""));
}

// Every item of every chunk, in order, with the resume points.
std::vector<TokenizedChunk> read_chunks(const std::vector<std::string>& files, const PrepareOptions& o,
                                        const ResumePoint& start = {}) {
  const ByteTokenizer tok;
  ChunkReader reader(files, o, start);
  std::vector<TokenizedChunk> out;
  Chunk c;
  while (reader.next(c)) out.push_back(tokenize_chunk(c, files[static_cast<size_t>(c.file)], o, tok));
  EXPECT_EQ(reader.bytes_done(), reader.total_bytes());
  return out;
}

std::vector<std::vector<int32_t>> tokens_of(const std::vector<TokenizedChunk>& chunks) {
  std::vector<std::vector<int32_t>> out;
  for (const TokenizedChunk& c : chunks) {
    for (const MaskedTokens& m : c.items) out.push_back(m.tokens);
  }
  return out;
}

TEST(ChunkReader, TextChunksGiveTheDocumentsOfTheWholeFiles) {
  TempDir dir;
  const std::string a = sample_text(120), b = "one\n%\ntwo\n";
  const std::vector<std::string> files = {dir.write("a.txt", a), dir.write("b.gz", gzip_bytes(b))};
  const ByteTokenizer tok;
  std::vector<std::vector<int32_t>> expected;
  for (const std::string& d : read_text_documents(files, "%")) expected.push_back(tok.encode(d));
  for (int64_t chunk_bytes : {int64_t{1}, int64_t{50}, int64_t{1} << 20}) {
    PrepareOptions o;
    o.chunk_bytes = chunk_bytes;
    const auto chunks = read_chunks(files, o);
    EXPECT_EQ(tokens_of(chunks), expected) << "chunk_bytes " << chunk_bytes;
    if (chunk_bytes == 1) {
      EXPECT_GT(chunks.size(), 100u);
    }
    // Resuming after any document gives the documents that follow it.
    const TokenizedChunk& mid = chunks[chunks.size() / 2];
    const auto rest = tokens_of(read_chunks(files, o, mid.after.front()));
    const auto all = tokens_of(chunks);
    size_t before = 0;
    for (size_t i = 0; i < chunks.size() / 2; ++i) before += chunks[i].items.size();
    EXPECT_EQ(rest, std::vector<std::vector<int32_t>>(all.begin() + static_cast<long>(before) + 1, all.end()));
  }
}

TEST(ChunkReader, JsonlChunksMatchTheWholeFileReader) {
  TempDir dir;
  std::string lines;
  for (int i = 0; i < 60; ++i) {
    lines += "{\"prompt\": \"q" + std::to_string(i) + "\", \"completion\": \" a\"}\n";
    if (i % 7 == 0) lines += "not json " + std::to_string(i) + "\n";
    if (i % 11 == 0) lines += "\n";
    if (i % 13 == 0) lines += "{\"text\": \"" + std::string(300, 'x') + "\"}\n";  // over the limit below
  }
  const std::string path = dir.write("c.jsonl", lines);
  const ByteTokenizer tok;
  JsonlOptions jo;
  jo.bad_lines = BadLines::kSkip;
  jo.max_line_bytes = 200;
  JsonlReport whole_report;
  const auto whole = read_jsonl_examples({path}, tok, jo, &whole_report);
  PrepareOptions o;
  o.format = PrepareFormat::kJsonl;
  o.bad_lines = BadLines::kSkip;
  o.max_line_bytes = 200;
  o.chunk_bytes = 100;
  const auto chunks = read_chunks({path}, o);
  EXPECT_GT(chunks.size(), 10u);
  std::vector<MaskedTokens> items;
  int64_t skipped = 0, lines_seen = 0;
  for (const TokenizedChunk& c : chunks) {
    for (const MaskedTokens& m : c.items) items.push_back(m);
    skipped += c.report.skipped;
    lines_seen += c.report.lines;
  }
  ASSERT_EQ(items.size(), whole.size());
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(items[i].tokens, whole[i].tokens);
    EXPECT_EQ(items[i].trained, whole[i].trained);
  }
  EXPECT_EQ(skipped, whole_report.skipped);
  EXPECT_EQ(lines_seen, whole_report.lines);
  ASSERT_FALSE(chunks.front().report.messages.empty());
  const std::string& first = chunks.front().report.messages.front();
  EXPECT_EQ(first.rfind(path + ":2: ", 0), 0u) << first;
  // Under fail, the first bad line stops the chunk that holds it, naming file:line.
  o.bad_lines = BadLines::kFail;
  try {
    read_chunks({path}, o);
    FAIL() << "a bad line passed under fail";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("c.jsonl:2:"), std::string::npos) << e.what();
  }
}

TEST(ChunkReader, JsonlTextLinesArePlainDocuments) {
  TempDir dir;
  const std::string path = dir.write(
      "hf.jsonl", "{\"text\": \"first doc\", \"meta\": {\"url\": \"x\"}}\n{\"text\": \"\"}\n{\"text\": \"second\"}\n");
  PrepareOptions o;
  o.format = PrepareFormat::kJsonlText;
  const auto items = tokens_of(read_chunks({path}, o));
  const ByteTokenizer tok;
  ASSERT_EQ(items.size(), 2u);                   // the empty text gives no document
  EXPECT_EQ(items[0], tok.encode("first doc"));  // no EOS
  EXPECT_EQ(items[1], tok.encode("second"));
}

}  // namespace
}  // namespace bitnet::data
