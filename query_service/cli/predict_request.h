#pragma once

// The prototype's request file for `cratedig predict`:
//   {"search": "money", "playlist": [509, "spotify:track:ID", ...],
//    "search_neighbors": 20, "recommender_neighbors": 10000}
// plus the recommendation knobs of `cratedig recommend` (docs/recommend.md):
//   "strategy", "negatives", "seed_tracks", "seed_artists", "seed_genres", "genres",
//   "exclude_artists" (arrays of strings), "year_min", "year_max", "max_per_artist"
//   (integers), "explicit" (boolean), "mmr_lambda" and every "min_X", "max_X", "target_X"
//   (numbers; the query daemon checks the feature names).

#include <istream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cratedig/v1/query_service.pb.h"

namespace cratedig::cli {

/// Parse the request JSON `text`; `source` (the file name) starts every error message.
/// Playlist integers become playlist_positions, strings playlist_track_ids (Spotify URIs
/// and URLs reduced to the id). Missing or null keys keep their defaults; unknown keys
/// are ignored, except min_X/max_X/target_X, which go to the daemon to be checked.
/// Returns INVALID_ARGUMENT naming the parser's position or the offending field.
absl::StatusOr<v1::PredictRequest> ParsePredictRequest(absl::string_view text,
                                                       absl::string_view source);

/// Read the whole file at `path`, or all of `stdin_stream` when `path` is "-".
absl::StatusOr<std::string> ReadRequestFile(const std::string& path,
                                            std::istream& stdin_stream);

}  // namespace cratedig::cli
