#pragma once

// Typed access to the cells of one CSV record by column name, for the format mappers. The
// first cell that cannot be read is remembered as the row's error (column and message);
// later failures are ignored, so a mapper can read every field and check ok() once at the
// end.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "cratedig/v1/track.pb.h"

namespace cratedig::ingest {

/// Lower-case column name -> 0-based position in the header.
using ColumnMap = absl::flat_hash_map<std::string, int>;

/// A view of one record; borrows the column map and fields. Not thread-safe.
class RowParser {
 public:
  RowParser(const ColumnMap& columns, const std::vector<std::string>& fields)
      : columns_(columns), fields_(fields) {}

  /// Returns true when the header has `column`.
  bool Has(absl::string_view column) const { return columns_.contains(column); }
  /// Returns the raw cell, empty when the header lacks the column.
  absl::string_view Raw(absl::string_view column) const;

  /// Returns the cell as text; fails on invalid UTF-8.
  std::string Text(absl::string_view column);
  /// Like Text, but fails when the cell is empty.
  std::string RequiredText(absl::string_view column);
  /// Returns a Spotify id (22 base62 characters); an empty cell is allowed unless
  /// `required`.
  std::string SpotifyId(absl::string_view column, bool required);
  /// Returns the track id of a "spotify:track:ID" uri, an open.spotify.com link or a bare
  /// id.
  std::string TrackUri(absl::string_view column);
  /// Returns the strings of a Python-style list cell such as ['A', 'B'].
  std::vector<std::string> TextList(absl::string_view column);

  /// The numeric readers return nullopt for an absent column or a missing value.
  std::optional<double> Double(absl::string_view column);
  /// Fails outside [min, max].
  std::optional<int64_t> Int(absl::string_view column, int64_t min, int64_t max);
  std::optional<bool> Bool(absl::string_view column);
  std::optional<v1::ReleaseDate> Date(absl::string_view column);

  /// Record an error for `column` (the whole row when the header lacks it) unless one is
  /// already recorded.
  void Fail(absl::string_view column, absl::string_view message);

  bool ok() const { return error_message_.empty(); }
  /// 1-based column of the first error; 0 for the whole row.
  int error_column() const { return error_column_; }
  const std::string& error_message() const { return error_message_; }

 private:
  const ColumnMap& columns_;
  const std::vector<std::string>& fields_;
  int error_column_ = 0;
  std::string error_message_;
};

}  // namespace cratedig::ingest
