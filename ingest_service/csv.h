#pragma once

// A streaming RFC 4180 CSV reader: comma-separated, fields optionally enclosed in double
// quotes with "" for a quote, commas and line breaks allowed inside quotes, records ended
// by LF, CRLF or CR, a leading UTF-8 byte order mark skipped, blank lines skipped. Like
// Python's csv module (which most catalogs were written with), a quote opens a quoted
// field only at the start of a field, and text after a closing quote is kept.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ingest_service/decompress.h"

namespace cratedig::ingest {

/// One record of a CSV file.
struct CsvRecord {
  /// The fields, unquoted.
  std::vector<std::string> fields;
  /// 1-based line where the record starts.
  int64_t line = 0;
  /// Non-empty when the record is malformed (a quoted field never closed): what went
  /// wrong.
  std::string error;
  /// 1-based column of the malformed field, set with `error`.
  int error_column = 0;
};

/// Reads records one at a time from a ByteSource it owns. Not thread-safe.
class CsvReader {
 public:
  explicit CsvReader(std::unique_ptr<ByteSource> source);

  /// Read the next record into `record`; returns false at end of input. Errors are those
  /// of the ByteSource (I/O, decompression); a malformed record comes back with `error`
  /// set.
  absl::StatusOr<bool> Next(CsvRecord* record);

 private:
  static constexpr int kEnd = -1;

  // Returns the next byte without consuming it, or kEnd at end of input (or on a read
  // error, kept in status_).
  int Peek() {
    if (pos_ < end_) return static_cast<unsigned char>(buffer_[pos_]);
    return Refill() ? static_cast<unsigned char>(buffer_[pos_]) : kEnd;
  }
  // Returns and consumes the next byte, or kEnd.
  int Get() {
    int c = Peek();
    if (c != kEnd) ++pos_;
    return c;
  }
  bool Refill();
  void SkipBom();
  // Skips blank lines; returns false at end of input.
  bool SkipBlankLines();
  // Consumes a line break whose first byte `c` was just read.
  void EndLine(int c);
  // Reads the rest of a quoted field (after the opening quote); false when it never
  // closes.
  bool ReadQuoted(std::string* field);
  // Reads unquoted bytes up to the next comma or line break (not consumed).
  void ReadUnquoted(std::string* field);

  std::unique_ptr<ByteSource> source_;
  std::vector<char> buffer_;
  size_t pos_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  bool started_ = false;
  int64_t line_ = 1;
  absl::Status status_;
};

}  // namespace cratedig::ingest
