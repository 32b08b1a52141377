#include "ingest_service/csv.h"

#include <utility>

namespace cratedig::ingest {
namespace {
constexpr size_t kBufferSize = 1 << 16;
}  // namespace

CsvReader::CsvReader(std::unique_ptr<ByteSource> source)
    : source_(std::move(source)), buffer_(kBufferSize) {}

bool CsvReader::Refill() {
  if (eof_) return false;
  absl::StatusOr<size_t> n = source_->Read(buffer_.data(), buffer_.size());
  if (!n.ok()) {
    status_ = n.status();
    eof_ = true;
    return false;
  }
  pos_ = 0;
  end_ = *n;
  if (end_ == 0) eof_ = true;
  return end_ > 0;
}

void CsvReader::SkipBom() {
  static constexpr unsigned char kBom[3] = {0xef, 0xbb, 0xbf};
  // Fill the first three bytes even when the source returns short reads.
  while (end_ < 3 && !eof_) {
    absl::StatusOr<size_t> n =
        source_->Read(buffer_.data() + end_, buffer_.size() - end_);
    if (!n.ok()) {
      status_ = n.status();
      eof_ = true;
    } else if (*n == 0) {
      eof_ = true;
    }
    if (n.ok()) end_ += *n;
  }
  if (end_ >= 3 && static_cast<unsigned char>(buffer_[0]) == kBom[0] &&
      static_cast<unsigned char>(buffer_[1]) == kBom[1] &&
      static_cast<unsigned char>(buffer_[2]) == kBom[2]) {
    pos_ = 3;
  }
}

void CsvReader::EndLine(int c) {
  if (c == '\r' && Peek() == '\n') Get();
  ++line_;
}

bool CsvReader::SkipBlankLines() {
  for (;;) {
    int c = Peek();
    if (c == kEnd) return false;
    if (c != '\n' && c != '\r') return true;
    EndLine(Get());
  }
}

bool CsvReader::ReadQuoted(std::string* field) {
  for (;;) {
    int c = Get();
    if (c == kEnd) return false;
    if (c == '"') {
      if (Peek() != '"') return true;
      Get();
    } else if (c == '\n' || (c == '\r' && Peek() != '\n')) {
      ++line_;  // a CR of a CRLF is counted with its LF
    }
    field->push_back(static_cast<char>(c));
  }
}

void CsvReader::ReadUnquoted(std::string* field) {
  for (;;) {
    int c = Peek();
    if (c == kEnd || c == ',' || c == '\n' || c == '\r') return;
    field->push_back(static_cast<char>(c));
    ++pos_;
  }
}

absl::StatusOr<bool> CsvReader::Next(CsvRecord* record) {
  record->fields.clear();
  record->error.clear();
  record->error_column = 0;
  if (!started_) {
    started_ = true;
    SkipBom();
  }
  if (!SkipBlankLines()) {
    if (!status_.ok()) return status_;
    return false;
  }
  record->line = line_;
  for (;;) {
    std::string& field = record->fields.emplace_back();
    if (Peek() == '"') {
      Get();
      if (!ReadQuoted(&field)) {
        if (!status_.ok()) return status_;
        record->error = "quoted field is not closed before the end of the file";
        record->error_column = static_cast<int>(record->fields.size());
        return true;
      }
    }
    ReadUnquoted(&field);
    int c = Get();
    if (c == ',') continue;
    if (c != kEnd) EndLine(c);
    if (!status_.ok()) return status_;
    return true;
  }
}

}  // namespace cratedig::ingest
