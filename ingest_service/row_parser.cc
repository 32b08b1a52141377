#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/track_ids.h"
#include "ingest_service/field_parsers.h"
#include "ingest_service/python_list.h"
#include "ingest_service/row_parser_internal.h"

namespace cratedig::ingest {

absl::string_view RowParser::Raw(absl::string_view column) const {
  auto it = columns_.find(column);
  if (it == columns_.end() || it->second >= static_cast<int>(fields_.size())) return {};
  return fields_[it->second];
}

void RowParser::Fail(absl::string_view column, absl::string_view message) {
  if (!ok()) return;
  auto it = columns_.find(column);
  error_column_ = it == columns_.end() ? 0 : it->second + 1;
  error_message_ = absl::StrCat("column '", column, "': ", message);
}

std::string RowParser::Text(absl::string_view column) {
  absl::string_view cell = Raw(column);
  if (!IsValidUtf8(cell)) {
    Fail(column, "invalid UTF-8");
    return {};
  }
  return std::string(cell);
}

std::string RowParser::RequiredText(absl::string_view column) {
  std::string text = Text(column);
  if (text.empty()) Fail(column, "must not be empty");
  return text;
}

std::string RowParser::SpotifyId(absl::string_view column, bool required) {
  absl::string_view cell = Raw(column);
  if (cell.empty()) {
    if (required) Fail(column, "must not be empty");
    return {};
  }
  if (!IsSpotifyId(cell)) {
    Fail(column, absl::StrCat("'", cell, "' is not a Spotify id (22 base62 characters)"));
    return {};
  }
  return std::string(cell);
}

std::string RowParser::TrackUri(absl::string_view column) {
  absl::string_view cell = Raw(column);
  std::string id = ParseSpotifyTrackId(cell);
  if (id.empty()) {
    Fail(column, absl::StrCat("'", cell, "' is not a Spotify track uri or id"));
  }
  return id;
}

std::vector<std::string> RowParser::TextList(absl::string_view column) {
  absl::string_view cell = Raw(column);
  if (cell.empty()) return {};
  absl::StatusOr<std::vector<std::string>> items = ParsePythonList(cell);
  if (!items.ok()) {
    Fail(column, items.status().message());
    return {};
  }
  for (const std::string& item : *items) {
    if (!IsValidUtf8(item)) {
      Fail(column, "invalid UTF-8");
      return {};
    }
  }
  return *std::move(items);
}

std::optional<double> RowParser::Double(absl::string_view column) {
  absl::string_view cell = Raw(column);
  if (IsMissingValue(cell)) return std::nullopt;
  absl::StatusOr<double> value = ParseDouble(cell);
  if (!value.ok()) {
    Fail(column, value.status().message());
    return std::nullopt;
  }
  return *value;
}

std::optional<int64_t> RowParser::Int(absl::string_view column, int64_t min,
                                      int64_t max) {
  absl::string_view cell = Raw(column);
  if (IsMissingValue(cell)) return std::nullopt;
  absl::StatusOr<int64_t> value = ParseInt64(cell);
  if (!value.ok()) {
    Fail(column, value.status().message());
    return std::nullopt;
  }
  if (*value < min || *value > max) {
    Fail(column, absl::StrCat(*value, " is out of range [", min, ", ", max, "]"));
    return std::nullopt;
  }
  return *value;
}

std::optional<bool> RowParser::Bool(absl::string_view column) {
  absl::string_view cell = Raw(column);
  if (IsMissingValue(cell)) return std::nullopt;
  absl::StatusOr<bool> value = ParseBool(cell);
  if (!value.ok()) {
    Fail(column, value.status().message());
    return std::nullopt;
  }
  return *value;
}

std::optional<v1::ReleaseDate> RowParser::Date(absl::string_view column) {
  absl::string_view cell = Raw(column);
  if (IsMissingValue(cell)) return std::nullopt;
  absl::StatusOr<std::optional<v1::ReleaseDate>> value = ParseReleaseDate(cell);
  if (!value.ok()) {
    Fail(column, value.status().message());
    return std::nullopt;
  }
  return *value;
}

}  // namespace cratedig::ingest
