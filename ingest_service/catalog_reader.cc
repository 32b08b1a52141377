#include "ingest_service/catalog_reader.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "ingest_service/catalog_formats_internal.h"
#include "ingest_service/csv.h"
#include "ingest_service/decompress.h"
#include "ingest_service/row_parser_internal.h"

namespace cratedig::ingest {

struct CatalogReader::State {
  ColumnMap columns;
  size_t width = 0;
  CsvRecord record;
};

CatalogReader::CatalogReader(std::string path, std::unique_ptr<CsvReader> csv,
                             const CatalogFormat* format, std::vector<std::string> header)
    : path_(std::move(path)),
      csv_(std::move(csv)),
      format_(format),
      state_(std::make_unique<State>()) {
  state_->width = header.size();
  for (size_t i = 0; i < header.size(); ++i) {
    state_->columns.emplace(std::move(header[i]), static_cast<int>(i));
  }
}

CatalogReader::~CatalogReader() = default;

absl::StatusOr<std::unique_ptr<CatalogReader>> CatalogReader::Open(
    const std::string& path) {
  absl::StatusOr<std::unique_ptr<ByteSource>> source = OpenByteSource(path);
  if (!source.ok()) return source.status();
  auto csv = std::make_unique<CsvReader>(*std::move(source));
  CsvRecord header;
  absl::StatusOr<bool> more = csv->Next(&header);
  if (!more.ok()) return more.status();
  if (!*more) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is empty: a catalog file starts with a header line"));
  }
  if (!header.error.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read the header of '", path, "': ", header.error));
  }
  std::vector<std::string> columns = NormalizeHeader(header.fields);
  absl::StatusOr<const CatalogFormat*> format = RecognizeFormat(path, columns);
  if (!format.ok()) return format.status();
  return std::unique_ptr<CatalogReader>(
      new CatalogReader(path, std::move(csv), *format, std::move(columns)));
}

const std::string& CatalogReader::format_name() const { return format_->name; }

const std::string& CatalogReader::format_description() const {
  return format_->description;
}

TableKind CatalogReader::kind() const { return format_->kind; }

const std::string& CatalogReader::skip_reason() const { return format_->skip_reason; }

absl::StatusOr<bool> CatalogReader::Next(CatalogRow* row) {
  if (format_->map == nullptr) return false;
  absl::StatusOr<bool> more = csv_->Next(&state_->record);
  if (!more.ok()) return more.status();
  if (!*more) return false;
  ++stats_.rows;
  MapRecord(row);
  switch (row->kind) {
    case CatalogRow::Kind::kTrack:
      ++stats_.tracks;
      break;
    case CatalogRow::Kind::kArtist:
      ++stats_.artists;
      break;
    case CatalogRow::Kind::kError:
      ++stats_.errors;
      break;
  }
  return true;
}

void CatalogReader::MapRecord(CatalogRow* row) {
  const CsvRecord& record = state_->record;
  auto fail = [&](int column, const std::string& message) {
    row->kind = CatalogRow::Kind::kError;
    row->error.Clear();
    row->error.set_file(path_);
    row->error.set_line(record.line);
    row->error.set_column(column);
    row->error.set_message(message);
  };
  if (!record.error.empty()) {
    fail(record.error_column, record.error);
    return;
  }
  if (record.fields.size() != state_->width) {
    fail(0, absl::StrCat("expected ", state_->width, " fields as in the header, found ",
                         record.fields.size()));
    return;
  }
  RowParser parser(state_->columns, record.fields);
  format_->map(parser, row);
  if (!parser.ok()) fail(parser.error_column(), parser.error_message());
}

}  // namespace cratedig::ingest
