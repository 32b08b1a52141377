#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/track_ids.h"
#include "ingest_service/catalog_formats_internal.h"
#include "ingest_service/field_parsers.h"

namespace cratedig::ingest {
namespace {

constexpr int64_t kMaxInt64 = 9223372036854775807;

v1::Track& StartTrack(CatalogRow* out) {
  out->kind = CatalogRow::Kind::kTrack;
  out->track.Clear();
  out->playlist_id.clear();
  out->playlist_name.clear();
  out->playlist_source.clear();
  return out->track;
}

v1::Artist& StartArtist(CatalogRow* out) {
  out->kind = CatalogRow::Kind::kArtist;
  out->playlist_id.clear();
  out->artist.Clear();
  return out->artist;
}

void AddGenre(absl::string_view genre,
              google::protobuf::RepeatedPtrField<std::string>* genres) {
  std::string g = absl::AsciiStrToLower(absl::StripAsciiWhitespace(genre));
  if (g.empty() || std::find(genres->begin(), genres->end(), g) != genres->end()) return;
  genres->Add(std::move(g));
}

void AddArtist(absl::string_view id, absl::string_view name, v1::Track* track) {
  if (id.empty() && name.empty()) return;
  v1::ArtistRef* ref = track->add_artists();
  ref->set_id(std::string(id));
  ref->set_name(std::string(name));
}

// Reads the audio feature columns the header has; leaves audio_features absent when none
// has a value.
void ReadAudioFeatures(RowParser& row, v1::Track* track) {
  v1::AudioFeatures f;
  using DoubleSetter = void (v1::AudioFeatures::*)(double);
  using IntSetter = void (v1::AudioFeatures::*)(int32_t);
  auto dbl = [&](const char* column, DoubleSetter set) {
    if (std::optional<double> v = row.Double(column)) (f.*set)(*v);
  };
  auto i32 = [&](const char* column, int64_t min, int64_t max, IntSetter set) {
    if (std::optional<int64_t> v = row.Int(column, min, max)) {
      (f.*set)(static_cast<int32_t>(*v));
    }
  };
  dbl("acousticness", &v1::AudioFeatures::set_acousticness);
  dbl("danceability", &v1::AudioFeatures::set_danceability);
  dbl("energy", &v1::AudioFeatures::set_energy);
  dbl("instrumentalness", &v1::AudioFeatures::set_instrumentalness);
  i32("key", -1, 11, &v1::AudioFeatures::set_key);
  dbl("liveness", &v1::AudioFeatures::set_liveness);
  dbl("loudness", &v1::AudioFeatures::set_loudness);
  i32("mode", 0, 1, &v1::AudioFeatures::set_mode);
  dbl("speechiness", &v1::AudioFeatures::set_speechiness);
  dbl("tempo", &v1::AudioFeatures::set_tempo);
  i32("time_signature", 0, 99, &v1::AudioFeatures::set_time_signature);
  dbl("valence", &v1::AudioFeatures::set_valence);
  if (f.ByteSizeLong() > 0) *track->mutable_audio_features() = std::move(f);
}

// Id, name, popularity (when `popularity` names a column), duration, explicit and audio.
void ReadTrackBasics(RowParser& row, const char* id, const char* name,
                     const char* popularity, v1::Track* track) {
  track->set_id(row.SpotifyId(id, /*required=*/true));
  track->set_name(row.RequiredText(name));
  if (popularity != nullptr) {
    if (std::optional<int64_t> v = row.Int(popularity, 0, 100)) track->set_popularity(*v);
  }
  if (std::optional<int64_t> v = row.Int("duration_ms", 0, kMaxInt64)) {
    track->set_duration_ms(*v);
  }
  if (std::optional<bool> v = row.Bool("explicit")) track->set_explicit_(*v);
  ReadAudioFeatures(row, track);
}

// Artists from a Python list of names and, when `ids_column` is given, the parallel list
// of their ids.
void ReadArtistLists(RowParser& row, const char* names_column, const char* ids_column,
                     v1::Track* track) {
  std::vector<std::string> names = row.TextList(names_column);
  std::vector<std::string> ids;
  if (ids_column != nullptr) ids = row.TextList(ids_column);
  if (ids_column != nullptr && ids.size() != names.size()) {
    row.Fail(ids_column, absl::StrCat("has ", ids.size(), " ids for ", names.size(),
                                      " names in '", names_column, "'"));
    return;
  }
  for (size_t i = 0; i < names.size(); ++i) {
    std::string id = ids_column != nullptr ? ids[i] : "";
    if (!id.empty() && !IsSpotifyId(id)) {
      row.Fail(ids_column, absl::StrCat("'", id, "' is not a Spotify id"));
      return;
    }
    AddArtist(id, names[i], track);
  }
}

// The release date, else the year column at year precision.
std::optional<v1::ReleaseDate> DateOrYear(RowParser& row, const char* date_column,
                                          const char* year_column) {
  std::optional<v1::ReleaseDate> date = row.Date(date_column);
  if (date.has_value()) return date;
  std::optional<int64_t> year = row.Int(year_column, 0, 9999);
  if (!year.has_value() || *year == 0) return std::nullopt;
  v1::ReleaseDate by_year;
  by_year.set_year(static_cast<int32_t>(*year));
  by_year.set_precision(v1::RELEASE_DATE_PRECISION_YEAR);
  return by_year;
}

void SetAlbum(const std::string& id, const std::string& name,
              const std::optional<v1::ReleaseDate>& date, v1::Track* track) {
  if (id.empty() && name.empty() && !date.has_value()) return;
  v1::AlbumRef* album = track->mutable_album();
  album->set_id(id);
  album->set_name(name);
  if (date.has_value()) *album->mutable_release_date() = *date;
}

void MapMaharshipandya(RowParser& row, CatalogRow* out) {
  v1::Track& t = StartTrack(out);
  ReadTrackBasics(row, "track_id", "track_name", "popularity", &t);
  std::string artists = row.Text("artists");
  for (absl::string_view name : absl::StrSplit(artists, ';')) {
    AddArtist("", absl::StripAsciiWhitespace(name), &t);
  }
  SetAlbum("", row.Text("album_name"), std::nullopt, &t);
  AddGenre(row.Text("track_genre"), t.mutable_genres());
}

void MapYamaerenayTracks(RowParser& row, CatalogRow* out) {
  v1::Track& t = StartTrack(out);
  ReadTrackBasics(row, "id", "name", "popularity", &t);
  ReadArtistLists(row, "artists", "id_artists", &t);
  SetAlbum("", "", row.Date("release_date"), &t);
}

void MapYamaerenayArtists(RowParser& row, CatalogRow* out) {
  v1::Artist& a = StartArtist(out);
  a.set_id(row.SpotifyId("id", /*required=*/true));
  a.set_name(row.Text("name"));
  for (const std::string& genre : row.TextList("genres"))
    AddGenre(genre, a.mutable_genres());
  if (std::optional<int64_t> v = row.Int("popularity", 0, 100)) a.set_popularity(*v);
  if (std::optional<int64_t> v = row.Int("followers", 0, kMaxInt64)) a.set_followers(*v);
}

void MapYamaerenayData(RowParser& row, CatalogRow* out) {
  v1::Track& t = StartTrack(out);
  ReadTrackBasics(row, "id", "name", "popularity", &t);
  ReadArtistLists(row, "artists", nullptr, &t);
  SetAlbum("", "", DateOrYear(row, "release_date", "year"), &t);
}

void MapArtistGenres(RowParser& row, CatalogRow* out) {
  v1::Artist& a = StartArtist(out);
  a.set_name(row.RequiredText("artists"));
  for (const std::string& genre : row.TextList("genres"))
    AddGenre(genre, a.mutable_genres());
}

void MapTracksFeatures(RowParser& row, CatalogRow* out) {
  v1::Track& t = StartTrack(out);
  ReadTrackBasics(row, "id", "name", nullptr, &t);
  ReadArtistLists(row, "artists", "artist_ids", &t);
  SetAlbum(row.SpotifyId("album_id", /*required=*/false), row.Text("album"),
           DateOrYear(row, "release_date", "year"), &t);
}

void MapHitPredictor(RowParser& row, CatalogRow* out) {
  v1::Track& t = StartTrack(out);
  t.set_id(row.TrackUri("uri"));
  t.set_name(row.RequiredText("track"));
  AddArtist("", row.Text("artist"), &t);
  if (std::optional<int64_t> v = row.Int("duration_ms", 0, kMaxInt64))
    t.set_duration_ms(*v);
  ReadAudioFeatures(row, &t);
}

void MapTidyTuesday(RowParser& row, CatalogRow* out) {
  v1::Track& t = StartTrack(out);
  ReadTrackBasics(row, "track_id", "track_name", "track_popularity", &t);
  AddArtist("", row.Text("track_artist"), &t);
  SetAlbum(row.SpotifyId("track_album_id", /*required=*/false),
           row.Text("track_album_name"), row.Date("track_album_release_date"), &t);
  AddGenre(row.Text("playlist_genre"), t.mutable_genres());
  AddGenre(row.Text("playlist_subgenre"), t.mutable_genres());
  // The file is one row per track and playlist: it is a playlist file as well.
  if (row.Has("playlist_id")) {
    out->playlist_id = row.SpotifyId("playlist_id", /*required=*/false);
    out->playlist_name = row.Text("playlist_name");
    out->playlist_source = "tidytuesday";
  }
}

// T is deduced from `b` only, so `a` may be a braced list.
template <typename T>
std::vector<T> Concat(std::vector<T> a, const std::vector<T>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const std::vector<std::string>& AudioColumns() {
  static const auto* const kColumns = new std::vector<std::string>{
      "acousticness", "danceability", "energy",   "instrumentalness",
      "key",          "liveness",     "loudness", "mode",
      "speechiness",  "tempo",        "valence"};
  return *kColumns;
}

// The columns of data_by_genres / data_by_year / data_by_artist besides their key.
const std::vector<std::string>& AggregateColumns() {
  static const auto* const kColumns = new std::vector<std::string>{
      "acousticness", "danceability", "duration_ms", "energy", "instrumentalness",
      "liveness",     "loudness",     "speechiness", "tempo",  "valence",
      "popularity"};
  return *kColumns;
}

CatalogFormat Tracks(std::string name, std::string description,
                     std::vector<std::string> required,
                     void (*map)(RowParser&, CatalogRow*)) {
  return {std::move(name),
          std::move(description),
          TableKind::kTracks,
          std::move(required),
          {},
          "",
          map};
}

CatalogFormat Artists(std::string name, std::string description,
                      std::vector<std::string> required,
                      std::vector<std::string> forbidden,
                      void (*map)(RowParser&, CatalogRow*)) {
  return {std::move(name),
          std::move(description),
          TableKind::kArtists,
          std::move(required),
          std::move(forbidden),
          "",
          map};
}

CatalogFormat Aggregate(std::string name, std::string description,
                        std::vector<std::string> keys, std::vector<std::string> forbidden,
                        const char* what) {
  return {std::move(name),
          std::move(description),
          TableKind::kAggregate,
          Concat(std::move(keys), AggregateColumns()),
          std::move(forbidden),
          absl::StrCat("not a track or artist table (", what, ")"),
          nullptr};
}

std::vector<CatalogFormat> TrackFormats() {
  const std::vector<std::string> audio = AudioColumns();
  const std::vector<std::string> audio_ts = Concat(audio, {"time_signature"});
  return {
      Tracks("maharshipandya-tracks",
             "Spotify Tracks Dataset (maharshipandya, 114 genres)",
             Concat({"track_id", "artists", "album_name", "track_name", "popularity",
                     "duration_ms", "explicit", "track_genre"},
                    audio_ts),
             &MapMaharshipandya),
      Tracks("yamaerenay-600k-tracks",
             "Spotify Dataset 1921-2020, 600k+ tracks (tracks.csv)",
             Concat({"id", "name", "popularity", "duration_ms", "explicit", "artists",
                     "id_artists", "release_date"},
                    audio_ts),
             &MapYamaerenayTracks),
      Tracks("yamaerenay-160k-data", "Spotify Dataset 1921-2020, 160k+ tracks (data.csv)",
             Concat({"id", "name", "artists", "year", "release_date", "popularity",
                     "duration_ms", "explicit"},
                    audio),
             &MapYamaerenayData),
      Tracks("rodolfofigueroa-tracks-features",
             "Spotify 1.2M+ Songs (tracks_features.csv)",
             Concat({"id", "name", "album", "album_id", "artists", "artist_ids",
                     "explicit", "duration_ms", "year", "release_date"},
                    audio_ts),
             &MapTracksFeatures),
      Tracks("hit-predictor", "Spotify Hit Predictor (dataset-of-XXs.csv)",
             Concat({"track", "artist", "uri", "duration_ms"}, audio_ts),
             &MapHitPredictor),
      Tracks("tidytuesday-spotify-songs", "tidytuesday 2020-01-21 spotify_songs.csv",
             Concat({"track_id", "track_name", "track_artist", "track_popularity",
                     "track_album_id", "track_album_name", "track_album_release_date",
                     "playlist_genre", "playlist_subgenre", "duration_ms"},
                    audio),
             &MapTidyTuesday),
  };
}

std::vector<CatalogFormat> ArtistAndAggregateFormats() {
  const std::string k160k = "Spotify Dataset 1921-2020, 160k+ tracks ";
  return {
      Artists("yamaerenay-600k-artists",
              "Spotify Dataset 1921-2020, 600k+ tracks (artists.csv)",
              {"id", "followers", "genres", "name", "popularity"}, {},
              &MapYamaerenayArtists),
      // data_w_genres.csv in its 2020 and 2021 column orders, and copies cut to two
      // columns.
      Artists("yamaerenay-160k-artist-genres", k160k + "(data_w_genres.csv)",
              {"artists", "genres"}, {"id", "name", "year"}, &MapArtistGenres),
      Aggregate("yamaerenay-160k-data-by-genres", k160k + "(data_by_genres.csv)",
                {"genres"}, {"artists", "id", "name", "track_id"},
                "per-genre aggregates"),
      Aggregate("yamaerenay-160k-data-by-year", k160k + "(data_by_year.csv)", {"year"},
                {"artists", "genres", "id", "name"}, "per-year aggregates"),
      Aggregate("yamaerenay-160k-data-by-artist", k160k + "(data_by_artist.csv)",
                {"artists", "count"}, {"genres", "id", "name", "track_id"},
                "per-artist aggregates"),
  };
}

std::vector<CatalogFormat> BuildFormats() {
  return Concat(TrackFormats(), ArtistAndAggregateFormats());
}

int CountPresent(const std::vector<std::string>& columns,
                 const std::vector<std::string>& header) {
  int n = 0;
  for (const std::string& c : columns) {
    if (std::find(header.begin(), header.end(), c) != header.end()) ++n;
  }
  return n;
}

std::vector<std::string> Missing(const std::vector<std::string>& columns,
                                 const std::vector<std::string>& header) {
  std::vector<std::string> missing;
  for (const std::string& c : columns) {
    if (std::find(header.begin(), header.end(), c) == header.end()) missing.push_back(c);
  }
  return missing;
}

// The header's columns for a message: at most 40, each at most 60 bytes, and no bytes
// that are not UTF-8 (a binary file's first "line" can be anything).
std::string DescribeColumns(const std::vector<std::string>& header) {
  constexpr size_t kMaxColumns = 40;
  constexpr size_t kMaxLength = 60;
  std::vector<std::string> shown;
  for (size_t i = 0; i < header.size() && i < kMaxColumns; ++i) {
    std::string column = header[i].substr(0, kMaxLength);
    if (!IsValidUtf8(column)) column = absl::CHexEscape(column);
    shown.push_back(std::move(column));
  }
  if (header.size() > kMaxColumns) {
    shown.push_back(absl::StrCat("... ", header.size() - kMaxColumns, " more"));
  }
  return absl::StrJoin(shown, ", ");
}

absl::Status UnknownFormatError(const std::string& path,
                                const std::vector<std::string>& header) {
  const CatalogFormat* closest = nullptr;
  double best = 0;
  for (const CatalogFormat& f : CatalogFormats()) {
    double share =
        static_cast<double>(CountPresent(f.required, header)) / f.required.size();
    if (share > best) best = share, closest = &f;
  }
  std::string message =
      absl::StrCat("cannot recognise the catalog format of '", path,
                   "': its header has columns [", DescribeColumns(header), "]");
  if (closest != nullptr) {
    absl::StrAppend(&message, "; the closest known format, ", closest->name, " (",
                    closest->description, "), also needs [",
                    absl::StrJoin(Missing(closest->required, header), ", "), "]");
  }
  absl::StrAppend(&message,
                  "; known formats: ", absl::StrJoin(KnownCatalogFormats(), ", "));
  return absl::InvalidArgumentError(message);
}

}  // namespace

const std::vector<CatalogFormat>& CatalogFormats() {
  static const auto* const kFormats = new std::vector<CatalogFormat>(BuildFormats());
  return *kFormats;
}

std::vector<std::string> KnownCatalogFormats() {
  std::vector<std::string> names;
  for (const CatalogFormat& f : CatalogFormats()) names.push_back(f.name);
  return names;
}

std::vector<std::string> NormalizeHeader(const std::vector<std::string>& header) {
  std::vector<std::string> out;
  out.reserve(header.size());
  for (const std::string& column : header) {
    out.push_back(absl::AsciiStrToLower(absl::StripAsciiWhitespace(column)));
  }
  return out;
}

absl::StatusOr<const CatalogFormat*> RecognizeFormat(
    const std::string& path, const std::vector<std::string>& header) {
  const CatalogFormat* best = nullptr;
  for (const CatalogFormat& f : CatalogFormats()) {
    if (CountPresent(f.required, header) != static_cast<int>(f.required.size())) continue;
    if (CountPresent(f.forbidden, header) > 0) continue;
    if (best == nullptr || f.required.size() > best->required.size()) best = &f;
  }
  if (best == nullptr) return UnknownFormatError(path, header);
  return best;
}

}  // namespace cratedig::ingest
