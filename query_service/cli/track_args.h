#pragma once

// Command-line arguments and batch input lines of `cratedig`: track ids and queries.

#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace cratedig::cli {

/// Return the Spotify id in `arg` (bare id, spotify:track:ID or an open.spotify.com URL),
/// or `arg` unchanged when it holds none, so that the server reports it as
/// INVALID_ARGUMENT.
std::string NormalizeTrackId(absl::string_view arg);

/// Apply NormalizeTrackId() to each argument.
std::vector<std::string> NormalizeTrackIds(const std::vector<std::string>& args);

/// Split a batch line of ids at runs of spaces and tabs; empty pieces are dropped.
std::vector<std::string> SplitIdLine(absl::string_view line);

/// Return `args` joined by single spaces (a multi-word query given without quotes).
std::string JoinArgs(const std::vector<std::string>& args);

/// One non-empty line of batch input, numbered from 1 as in the input.
struct BatchLine {
  int number = 0;
  std::string text;
};

/// Read batch input line by line: trailing "\r" and surrounding blanks removed, blank
/// lines skipped. Not thread-safe; borrows the stream, which must outlive the reader.
class BatchReader {
 public:
  explicit BatchReader(std::istream& in) : in_(in) {}

  /// Return the next non-blank line, or nullopt at the end of the input.
  std::optional<BatchLine> Next();

 private:
  std::istream& in_;
  int line_number_ = 0;
};

}  // namespace cratedig::cli
