// Cutting the inputs into chunks of whole documents (see input_chunks.h).
#include "data/prepare/input_chunks.h"

#include <filesystem>

#include "data/error.h"
#include "data/text_documents.h"

namespace bitnet::data {
namespace {

constexpr size_t kReadBlock = size_t{1} << 18;

}  // namespace

ChunkReader::ChunkReader(std::vector<std::string> files, const PrepareOptions& options, const ResumePoint& start)
    : files_(std::move(files)), options_(options) {
  for (const std::string& f : files_) {
    std::error_code ec;
    const uintmax_t size = std::filesystem::file_size(f, ec);
    if (ec) throw DataError("cannot read '" + f + "': " + ec.message());
    bytes_before_.push_back(total_bytes_);
    total_bytes_ += size;
  }
  if (start.file < 0 || start.file > static_cast<int64_t>(files_.size())) {
    throw DataError("cannot resume at input " + std::to_string(start.file + 1) + ": there are " +
                    std::to_string(files_.size()) + " inputs");
  }
  open(start.file, start.offset, start.line);
}

bool ChunkReader::open(int64_t file, uint64_t offset, int64_t line) {
  file_ = file;
  lines_.reset();
  in_.reset();
  pending_.clear();
  scanned_ = 0;
  if (file_ >= static_cast<int64_t>(files_.size())) return false;
  in_ = std::make_unique<InputFile>(files_[static_cast<size_t>(file_)]);
  in_->skip(offset);
  pending_start_ = offset;
  line_number_ = line;
  if (options_.format != PrepareFormat::kText) {
    lines_ = std::make_unique<BoundedLineReader>(*in_, static_cast<size_t>(options_.max_line_bytes));
  }
  return true;
}

uint64_t ChunkReader::bytes_done() const {
  if (file_ >= static_cast<int64_t>(files_.size())) return total_bytes_;
  return bytes_before_[static_cast<size_t>(file_)] + in_->file_offset();
}

bool ChunkReader::next(Chunk& chunk) {
  chunk = Chunk();
  while (file_ < static_cast<int64_t>(files_.size())) {
    const bool got = options_.format == PrepareFormat::kText ? next_text(chunk) : next_lines(chunk);
    if (got) {
      chunk.file = file_;
      chunk.bytes_done = bytes_done();
      return true;
    }
    open(file_ + 1, 0, 0);
  }
  return false;
}

bool ChunkReader::next_text(Chunk& chunk) {
  const uint64_t want = static_cast<uint64_t>(options_.chunk_bytes);
  size_t cut = 0;
  while (cut == 0) {
    for (size_t nl; (nl = pending_.find('\n', scanned_)) != std::string::npos;) {
      const std::string_view line(pending_.data() + scanned_, nl - scanned_);
      scanned_ = nl + 1;
      if (scanned_ >= want && is_document_boundary(line, options_.separator)) {
        cut = scanned_;
        break;
      }
    }
    if (cut != 0) break;
    const size_t had = pending_.size();
    pending_.resize(had + kReadBlock);
    const size_t got = in_->read(pending_.data() + had, kReadBlock);
    pending_.resize(had + got);
    if (got == 0) {  // the end of the file ends the last chunk
      if (pending_.empty()) return false;
      cut = pending_.size();
    }
  }
  chunk.start = pending_start_;
  chunk.text.assign(pending_, 0, cut);
  pending_.erase(0, cut);
  pending_start_ += cut;
  scanned_ = 0;
  return true;
}

bool ChunkReader::next_lines(Chunk& chunk) {
  chunk.start = lines_->offset();
  uint64_t bytes = 0;
  JsonlLine line;
  while (bytes < static_cast<uint64_t>(options_.chunk_bytes) && lines_->next(line.text, line.length)) {
    line.number = ++line_number_;
    // A line over the limit is a bad line whatever it holds: keep only its length.
    if (line.length > static_cast<uint64_t>(options_.max_line_bytes)) line.text.clear();
    bytes += line.text.size() + 1;
    chunk.lines.push_back(line);
    chunk.line_ends.push_back(lines_->offset());
  }
  return !chunk.lines.empty();
}

}  // namespace bitnet::data
