#include "ingest_service/catalog_reader.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/track_ids.h"
#include "ingest_service/catalog_formats_internal.h"
#include "ingest_service/csv.h"
#include "ingest_service/decompress.h"
#include "ingest_service/row_parser_internal.h"
#include "nlohmann/json.hpp"

namespace cratedig::ingest {

struct CatalogReader::State {
  ColumnMap columns;
  size_t width = 0;
  CsvRecord record;
  // JSON playlist files are read whole and served from here.
  std::vector<CatalogRow> json_rows;
  size_t json_next = 0;
};

namespace {

const CatalogFormat& MpdFormat() {
  static const auto* const kFormat =
      new CatalogFormat{"mpd-slice",
                        "Million Playlist Dataset (mpd.slice.*.json)",
                        TableKind::kTracks,
                        {},
                        {},
                        "",
                        nullptr};
  return *kFormat;
}

// Whether the decompressed file starts with '{' (after white space and a UTF-8 BOM).
absl::StatusOr<bool> LooksLikeJson(const std::string& path) {
  absl::StatusOr<std::unique_ptr<ByteSource>> source = OpenByteSource(path);
  if (!source.ok()) return source.status();
  char buffer[256];
  absl::StatusOr<size_t> n = (*source)->Read(buffer, sizeof(buffer));
  if (!n.ok()) return n.status();
  absl::string_view head(buffer, *n);
  if (absl::StartsWith(head, "\xEF\xBB\xBF")) head.remove_prefix(3);
  head = absl::StripLeadingAsciiWhitespace(head);
  return !head.empty() && head.front() == '{';
}

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  absl::StatusOr<std::unique_ptr<ByteSource>> source = OpenByteSource(path);
  if (!source.ok()) return source.status();
  std::string out;
  std::string buffer(1 << 16, '\0');
  for (;;) {
    absl::StatusOr<size_t> n = (*source)->Read(buffer.data(), buffer.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    out.append(buffer.data(), *n);
  }
  return out;
}

// The track id of "spotify:track:ID" (or a bare id); empty when it is neither.
std::string UriId(const nlohmann::json& entry, const char* key, const char* kind) {
  auto it = entry.find(key);
  if (it == entry.end() || !it->is_string()) return "";
  std::string uri = it->get<std::string>();
  const std::string prefix = absl::StrCat("spotify:", kind, ":");
  if (absl::StartsWith(uri, prefix)) uri = uri.substr(prefix.size());
  return IsSpotifyId(uri) ? uri : "";
}

std::string StringField(const nlohmann::json& entry, const char* key) {
  auto it = entry.find(key);
  return it != entry.end() && it->is_string() ? it->get<std::string>() : "";
}

// One row per playlist entry, in playlist order (by "pos" when every entry has one).
absl::Status ReadMpd(const std::string& path, std::vector<CatalogRow>* rows) {
  absl::StatusOr<std::string> text = ReadAll(path);
  if (!text.ok()) return text.status();
  nlohmann::json doc = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not valid JSON (expected an mpd.slice file)"));
  }
  auto playlists = doc.find("playlists");
  if (!doc.is_object() || playlists == doc.end() || !playlists->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", path, "' has no \"playlists\" array: not a Million Playlist Dataset slice"));
  }
  auto error = [&](const std::string& where, const std::string& message) {
    CatalogRow row;
    row.kind = CatalogRow::Kind::kError;
    row.error.set_file(path);
    row.error.set_message(absl::StrCat(where, ": ", message));
    rows->push_back(std::move(row));
  };
  for (size_t p = 0; p < playlists->size(); ++p) {
    const nlohmann::json& playlist = (*playlists)[p];
    const std::string where = absl::StrCat("playlists[", p, "]");
    auto pid = playlist.is_object() ? playlist.find("pid") : playlist.end();
    auto tracks = playlist.is_object() ? playlist.find("tracks") : playlist.end();
    if (pid == playlist.end() || !pid->is_number_integer()) {
      error(where, "pid is missing or not an integer");
      continue;
    }
    if (tracks == playlist.end() || !tracks->is_array()) {
      error(where, "tracks is missing or not an array");
      continue;
    }
    std::vector<size_t> order(tracks->size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    const bool positioned =
        std::all_of(tracks->begin(), tracks->end(), [](const auto& t) {
          return t.is_object() && t.contains("pos") && t["pos"].is_number_integer();
        });
    if (positioned) {
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return (*tracks)[a]["pos"].template get<int64_t>() <
               (*tracks)[b]["pos"].template get<int64_t>();
      });
    }
    const std::string id = absl::StrCat("mpd:", pid->get<int64_t>());
    const std::string name = StringField(playlist, "name");
    for (size_t i : order) {
      const nlohmann::json& entry = (*tracks)[i];
      const std::string entry_where = absl::StrCat(where, ".tracks[", i, "]");
      if (!entry.is_object()) {
        error(entry_where, "not an object");
        continue;
      }
      CatalogRow row;
      row.kind = CatalogRow::Kind::kTrack;
      v1::Track& t = row.track;
      t.set_id(UriId(entry, "track_uri", "track"));
      if (t.id().empty()) {
        error(entry_where + ".track_uri",
              absl::StrCat("'", StringField(entry, "track_uri").substr(0, 64),
                           "' is not a spotify:track: uri"));
        continue;
      }
      t.set_name(StringField(entry, "track_name"));
      if (t.name().empty()) {
        error(entry_where + ".track_name", "missing or empty");
        continue;
      }
      const std::string artist = StringField(entry, "artist_name");
      const std::string artist_id = UriId(entry, "artist_uri", "artist");
      if (!artist.empty() || !artist_id.empty()) {
        v1::ArtistRef* a = t.add_artists();
        a->set_id(artist_id);
        a->set_name(artist);
      }
      const std::string album = StringField(entry, "album_name");
      const std::string album_id = UriId(entry, "album_uri", "album");
      if (!album.empty() || !album_id.empty()) {
        t.mutable_album()->set_id(album_id);
        t.mutable_album()->set_name(album);
      }
      if (auto d = entry.find("duration_ms");
          d != entry.end() && d->is_number_integer() && d->get<int64_t>() > 0) {
        t.set_duration_ms(d->get<int64_t>());
      }
      row.playlist_id = id;
      row.playlist_name = name;
      row.playlist_source = "mpd";
      rows->push_back(std::move(row));
    }
  }
  return absl::OkStatus();
}

}  // namespace

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
  absl::StatusOr<bool> json = LooksLikeJson(path);
  if (!json.ok()) return json.status();
  if (*json) {
    std::unique_ptr<CatalogReader> reader(
        new CatalogReader(path, nullptr, &MpdFormat(), {}));
    if (absl::Status s = ReadMpd(path, &reader->state_->json_rows); !s.ok()) return s;
    return reader;
  }
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
  if (csv_ == nullptr) {  // A JSON playlist file, read at Open.
    if (state_->json_next >= state_->json_rows.size()) return false;
    *row = std::move(state_->json_rows[state_->json_next++]);
  } else {
    if (format_->map == nullptr) return false;
    absl::StatusOr<bool> more = csv_->Next(&state_->record);
    if (!more.ok()) return more.status();
    if (!*more) return false;
    MapRecord(row);
  }
  ++stats_.rows;
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
    row->playlist_id.clear();
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
