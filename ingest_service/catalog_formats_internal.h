#pragma once

// The table of known catalog formats: how each is recognised from its header and how its
// rows map onto tracks and artists. Private to ingest_lib.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ingest_service/catalog_reader.h"
#include "ingest_service/row_parser_internal.h"

namespace cratedig::ingest {

/// One known format. A header matches when it has every `required` column and none of the
/// `forbidden` ones (column order and extra columns do not matter); among matches, the
/// format with the most required columns wins.
struct CatalogFormat {
  std::string name;
  std::string description;
  TableKind kind;
  std::vector<std::string> required;
  std::vector<std::string> forbidden;
  /// For aggregates: why nothing is imported.
  std::string skip_reason;
  /// Fills `out` (kind, track or artist) from a row; records failures in `row`. Null for
  /// aggregates.
  void (*map)(RowParser& row, CatalogRow* out);
};

/// Returns every known format.
const std::vector<CatalogFormat>& CatalogFormats();

/// Returns the header's column names trimmed and lower-cased (a BOM is already gone).
std::vector<std::string> NormalizeHeader(const std::vector<std::string>& header);

/// Returns the format of a normalised header; InvalidArgumentError naming `path`, the
/// columns seen and the closest format's missing columns when none matches.
absl::StatusOr<const CatalogFormat*> RecognizeFormat(
    const std::string& path, const std::vector<std::string>& header);

}  // namespace cratedig::ingest
