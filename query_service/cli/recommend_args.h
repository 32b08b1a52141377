#pragma once

// The recommendation knobs of `cratedig recommend` and of `predict`'s request file:
// strategy, negatives, seeds, filters, targets and diversity, turned into a
// RecommendOptions message. Knob names follow Spotify's /recommendations: min_X, max_X
// and target_X for every feature X; the query daemon checks the names and the ranges.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "cratedig/v1/query_service.pb.h"

namespace cratedig::cli {

/// The recommendation flags of `cratedig recommend`, as given.
struct RecommendFlags {
  std::string strategy;
  std::vector<std::string> negatives;
  std::vector<std::string> genres;
  std::vector<std::string> exclude_artists;
  std::vector<std::string> seed_tracks;
  std::vector<std::string> seed_artists;
  std::vector<std::string> seed_genres;
  std::optional<int> year_min;
  std::optional<int> year_max;
  std::optional<bool> explicit_;
  std::optional<int> max_per_artist;
  std::optional<double> mmr_lambda;
  std::optional<bool> exact;  // unset: the server's default
  /// --min_X / --max_X / --target_X in command-line order: ("target_energy", 0.8).
  std::vector<std::pair<std::string, double>> knobs;
};

/// Whether `name` has the shape of a knob: min_X, max_X or target_X (max_per_artist is
/// not one).
bool IsKnobName(absl::string_view name);

/// Add the knob `name` (IsKnobName) with `value` to `options`: target_X becomes a target,
/// min_X and max_X bounds of X in the filter. The feature name X is left for the query
/// daemon to check.
void AddKnob(absl::string_view name, double value, v1::RecommendOptions* options);

/// The hard filter the flags ask for: --genre, --exclude_artist, --year_min, --year_max,
/// --explicit and the --min_X / --max_X knobs. Recommend and Search both send it.
v1::TrackFilter TrackFilterFromFlags(const RecommendFlags& flags);

/// The options the flags ask for (track ids reduced to ids; the filter of
/// TrackFilterFromFlags, absent when empty).
v1::RecommendOptions RecommendOptionsFromFlags(const RecommendFlags& flags);

}  // namespace cratedig::cli
