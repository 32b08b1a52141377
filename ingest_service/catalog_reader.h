#pragma once

// Reading catalog files: a CSV dump of Spotify tracks or artists (plain, .gz or .xz), its
// format recognised by the header (see /work/shared/data/FORMATS.md for the known dumps),
// each row mapped onto cratedig.v1.Track or cratedig.v1.Artist, or a slice of the Million
// Playlist Dataset (mpd.slice.*.json: a JSON object with "playlists"), one row per
// playlist entry. Rows of playlist files also name the playlist their track is in. A row
// that cannot be read becomes a RowError naming the file, line and column (for JSON: the
// entry's path); it is never dropped silently.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cratedig/v1/ingest_service.pb.h"
#include "cratedig/v1/track.pb.h"

namespace cratedig::ingest {

class CsvReader;
struct CatalogFormat;

/// What a recognised file holds.
enum class TableKind {
  kTracks,     // one track per row
  kArtists,    // one artist per row (genres by artist id or name)
  kAggregate,  // per-genre or per-year means: nothing to import
};

/// One data row of a catalog file, mapped.
struct CatalogRow {
  enum class Kind { kTrack, kArtist, kError };
  Kind kind = Kind::kError;
  v1::Track track;     // when kind == kTrack
  v1::Artist artist;   // when kind == kArtist
  v1::RowError error;  // when kind == kError
  /// Rows of playlist files (tidytuesday spotify_songs.csv, MPD slices): the playlist the
  /// track is in. Empty playlist_id otherwise.
  std::string playlist_id;
  std::string playlist_name;
  std::string playlist_source;
};

/// Counts of what a reader returned so far.
struct CatalogReaderStats {
  int64_t rows = 0;  // data rows, header excluded; = tracks + artists + errors
  int64_t tracks = 0;
  int64_t artists = 0;
  int64_t errors = 0;
};

/// Streams the rows of one catalog file. Not thread-safe; owns the open file.
class CatalogReader {
 public:
  ~CatalogReader();

  /// Open `path` and recognise its format from the header. NotFoundError when the file is
  /// missing; InvalidArgumentError naming the file and the columns seen when the header
  /// is no known format; DataLossError when decompression fails.
  static absl::StatusOr<std::unique_ptr<CatalogReader>> Open(const std::string& path);

  const std::string& path() const { return path_; }
  /// Short, stable name of the format, e.g. "maharshipandya-tracks".
  const std::string& format_name() const;
  /// The dataset as people know it, e.g. "Spotify Tracks Dataset (maharshipandya, 114k)".
  const std::string& format_description() const;
  TableKind kind() const;
  /// Why the file yields nothing (aggregate tables), e.g. "not a track or artist table
  /// (per-genre aggregates)"; empty for track and artist tables.
  const std::string& skip_reason() const;

  /// Read the next data row into `row`; returns false at the end (at once for
  /// aggregates). Errors are I/O or decompression failures; unreadable rows come back as
  /// kError rows.
  absl::StatusOr<bool> Next(CatalogRow* row);

  const CatalogReaderStats& stats() const { return stats_; }

 private:
  CatalogReader(std::string path, std::unique_ptr<CsvReader> csv,
                const CatalogFormat* format, std::vector<std::string> header);
  void MapRecord(CatalogRow* row);

  std::string path_;
  std::unique_ptr<CsvReader> csv_;
  const CatalogFormat* format_;
  struct State;
  std::unique_ptr<State> state_;
  CatalogReaderStats stats_;
};

/// Returns the short names of every format the reader recognises.
std::vector<std::string> KnownCatalogFormats();

}  // namespace cratedig::ingest
