#include "query_service/cli/human_output.h"

#include <algorithm>
#include <array>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace cratedig::cli {
namespace {

constexpr size_t kNameWidth = 40;
constexpr size_t kArtistsWidth = 30;
constexpr size_t kGenresWidth = 50;

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// One table row as printed: rank, distance, name, artists, genres.
using Row = std::array<std::string, 5>;

Row MakeRow(int rank, const v1::ScoredTrack& result) {
  const v1::Track& track = result.track();
  std::vector<std::string> artists;
  for (const v1::ArtistRef& artist : track.artists()) artists.push_back(artist.name());
  return Row{absl::StrCat(rank), absl::StrFormat("%.4f", result.distance()),
             Truncate(track.name(), kNameWidth),
             Truncate(absl::StrJoin(artists, ", "), kArtistsWidth),
             Truncate(absl::StrJoin(track.genres(), ", "), kGenresWidth)};
}

std::string Pad(const std::string& text, size_t width, bool right_align) {
  size_t shown = DisplayWidth(text);
  std::string padding(width > shown ? width - shown : 0, ' ');
  return right_align ? padding + text : text + padding;
}

void PrintRow(const Row& row, const std::array<size_t, 5>& widths, std::ostream& out) {
  std::string line = absl::StrCat(
      Pad(row[0], widths[0], true), "  ", Pad(row[1], widths[1], true), "  ",
      Pad(row[2], widths[2], false), "  ", Pad(row[3], widths[3], false), "  ", row[4]);
  line.erase(line.find_last_not_of(' ') + 1);
  out << line << '\n';
}

}  // namespace

size_t DisplayWidth(absl::string_view text) {
  return static_cast<size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return !IsContinuationByte(c); }));
}

std::string Truncate(absl::string_view text, size_t width) {
  if (DisplayWidth(text) <= width || width == 0) return std::string(text);
  size_t kept = 0;
  size_t end = 0;
  // Keep width - 1 code points and a complete last code point, then the ellipsis.
  while (end < text.size()) {
    if (!IsContinuationByte(text[end]) && kept++ == width - 1) break;
    ++end;
  }
  return absl::StrCat(text.substr(0, end), "…");
}

void PrintResultsTable(const google::protobuf::RepeatedPtrField<v1::ScoredTrack>& results,
                       std::ostream& out) {
  if (results.empty()) {
    out << "no results\n";
    return;
  }
  std::vector<Row> rows = {Row{"rank", "distance", "track", "artists", "genres"}};
  for (int i = 0; i < results.size(); ++i) rows.push_back(MakeRow(i + 1, results[i]));
  std::array<size_t, 5> widths{};
  for (const Row& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(row[c]));
    }
  }
  for (const Row& row : rows) PrintRow(row, widths, out);
}

std::string FormatTrainResponse(const v1::TrainResponse& response) {
  return absl::StrCat("published snapshot ", response.snapshot_version(), ": ",
                      response.tracks(), " tracks in ", response.build_ms(), " ms");
}

std::string BuildStateName(v1::BuildState state) {
  switch (state) {
    case v1::BUILD_STATE_IDLE:
      return "idle";
    case v1::BUILD_STATE_WAITING:
      return "waiting";
    case v1::BUILD_STATE_BUILDING:
      return "building";
    case v1::BUILD_STATE_PAUSED:
      return "paused";
    default:
      return "unknown";
  }
}

std::string FormatCatalogStatus(const v1::GetCatalogStatusResponse& status,
                                absl::Time now) {
  auto ago = [&](int64_t ms) {
    return absl::FormatDuration(
        absl::Trunc(now - absl::FromUnixMillis(ms), absl::Seconds(1)));
  };
  std::string out = absl::StrCat(
      "catalog: ", status.tracks(), " tracks, ", status.artists(), " artists\nsnapshot: ",
      status.snapshot_version().empty() ? "none" : status.snapshot_version(), " (kept: ",
      status.kept_versions().empty() ? "none"
                                     : absl::StrJoin(status.kept_versions(), ", "),
      ")\nbuilder: ");
  switch (status.build_state()) {
    case v1::BUILD_STATE_WAITING:
      absl::StrAppend(
          &out, "waiting: new data, automatic build in ",
          absl::FormatDuration(absl::Trunc(
              absl::FromUnixMillis(status.build_due_at_ms()) - now, absl::Seconds(1))));
      break;
    case v1::BUILD_STATE_BUILDING:
      absl::StrAppend(&out, "building for ", ago(status.build_started_at_ms()),
                      status.build_automatic() ? " (automatic)" : " (train)");
      break;
    case v1::BUILD_STATE_PAUSED:
      absl::StrAppend(&out, "paused after a rollback until the next train");
      break;
    default:
      absl::StrAppend(&out, "idle");
  }
  absl::StrAppend(&out, status.train_debounce_ms() > 0
                            ? absl::StrCat("; builds by itself ",
                                           absl::FormatDuration(absl::Milliseconds(
                                               status.train_debounce_ms())),
                                           " after new data")
                            : "; builds on train only");
  if (status.last_build_finished_at_ms() > 0) {
    absl::StrAppend(&out, "\nlast build: ", status.last_build_ms(), " ms, finished ",
                    ago(status.last_build_finished_at_ms()), " ago",
                    status.last_build_error().empty()
                        ? ""
                        : absl::StrCat(", failed: ", status.last_build_error()));
  }
  return out;
}

std::string FormatRollbackResponse(const v1::RollbackSnapshotResponse& response) {
  if (response.snapshot_version() == response.previous_version()) {
    return absl::StrCat("snapshot ", response.snapshot_version(),
                        " is current already: ", response.tracks(), " tracks");
  }
  return absl::StrCat("snapshot ", response.snapshot_version(), " is current again (was ",
                      response.previous_version(), "): ", response.tracks(), " tracks");
}

std::string FormatQueryStatus(const v1::GetQueryStatusResponse& response) {
  if (response.snapshot_version().empty()) return "no snapshot loaded";
  return absl::StrCat("serving snapshot ", response.snapshot_version(), ": ",
                      response.tracks(), " tracks");
}

std::string FormatImportSummary(const v1::ImportSummary& summary) {
  return absl::StrCat(summary.rows_read(), " rows read, ", summary.tracks_inserted(),
                      " stored, ", summary.tracks_updated(), " merged, ",
                      summary.tracks_unchanged(), " unchanged, ", summary.rows_skipped(),
                      " skipped, ", summary.artists_upserted(), " artists",
                      summary.playlists_upserted() > 0
                          ? absl::StrCat(", ", summary.playlists_upserted(), " playlists")
                          : "");
}

}  // namespace cratedig::cli
