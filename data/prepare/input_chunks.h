// Reading the inputs of a prepare in pieces ("chunks") of whole documents, so a worker can
// tokenize a chunk on its own and the output does not depend on how the input was cut:
//  - text: a chunk ends just past a document boundary line (text_documents.h) once it holds at
//    least chunk_bytes, or at the end of its file; splitting the chunks gives the documents of
//    splitting the whole file;
//  - jsonl: a chunk is whole lines, read with BoundedLineReader (a line longer than
//    max_line_bytes is never held whole: only its length is kept), about chunk_bytes of them.
// A chunk never spans two files. Reading can start at a recorded ResumePoint.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/input_file.h"
#include "data/jsonl.h"
#include "data/line_reader.h"
#include "data/prepare/prepare_options.h"
#include "data/prepare/prepare_state.h"

namespace bitnet::data {

struct Chunk {
  int64_t file = 0;                 // index of its file in the list of inputs
  uint64_t start = 0;               // content offset of its first byte in that file
  uint64_t bytes_done = 0;          // bytes of all the input files consumed once it was read
  std::string text;                 // text: whole documents
  std::vector<JsonlLine> lines;     // jsonl: whole lines (a too-long line keeps only its length)
  std::vector<uint64_t> line_ends;  // jsonl: content offset just past each line
};

class ChunkReader {
 public:
  // `files`: the expanded inputs (their total size is the denominator of the progress).
  ChunkReader(std::vector<std::string> files, const PrepareOptions& options, const ResumePoint& start);

  // The next chunk; false once every file is read.
  bool next(Chunk& chunk);

  uint64_t total_bytes() const { return total_bytes_; }
  uint64_t bytes_done() const;  // bytes of the input files consumed so far

 private:
  bool open(int64_t file, uint64_t offset, int64_t line);
  bool next_text(Chunk& chunk);
  bool next_lines(Chunk& chunk);

  std::vector<std::string> files_;
  std::vector<uint64_t> bytes_before_;  // sizes of the files before each one
  uint64_t total_bytes_ = 0;
  const PrepareOptions& options_;
  int64_t file_ = -1;
  std::unique_ptr<InputFile> in_;
  // text: bytes read and not yet in a chunk, the content offset of their first byte, and how far
  // they were scanned for boundary lines.
  std::string pending_;
  uint64_t pending_start_ = 0;
  size_t scanned_ = 0;
  // jsonl
  std::unique_ptr<BoundedLineReader> lines_;
  int64_t line_number_ = 0;
};

}  // namespace bitnet::data
