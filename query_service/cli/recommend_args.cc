#include "query_service/cli/recommend_args.h"

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "query_service/cli/track_args.h"

namespace cratedig::cli {
namespace {

v1::FeatureRange* RangeOf(absl::string_view feature, v1::TrackFilter* filter) {
  for (v1::FeatureRange& range : *filter->mutable_features()) {
    if (range.feature() == feature) return &range;
  }
  v1::FeatureRange* range = filter->add_features();
  range->set_feature(std::string(feature));
  return range;
}

// Adds a min_X or max_X knob to `filter`; other knobs are not bounds.
void AddBound(absl::string_view name, double value, v1::TrackFilter* filter) {
  if (absl::ConsumePrefix(&name, "min_")) {
    RangeOf(name, filter)->set_min(value);
  } else if (absl::ConsumePrefix(&name, "max_")) {
    RangeOf(name, filter)->set_max(value);
  }
}

}  // namespace

bool IsKnobName(absl::string_view name) {
  if (name == "max_per_artist") return false;
  for (absl::string_view prefix : {"min_", "max_", "target_"}) {
    if (absl::StartsWith(name, prefix) && name.size() > prefix.size()) return true;
  }
  return false;
}

void AddKnob(absl::string_view name, double value, v1::RecommendOptions* options) {
  if (absl::ConsumePrefix(&name, "target_")) {
    v1::FeatureTarget* target = options->add_targets();
    target->set_feature(std::string(name));
    target->set_value(value);
  } else {
    AddBound(name, value, options->mutable_filter());
  }
}

v1::TrackFilter TrackFilterFromFlags(const RecommendFlags& flags) {
  v1::TrackFilter filter;
  for (const std::string& genre : flags.genres) filter.add_genres(genre);
  for (const std::string& artist : flags.exclude_artists) {
    filter.add_exclude_artists(artist);
  }
  if (flags.year_min) filter.set_year_min(*flags.year_min);
  if (flags.year_max) filter.set_year_max(*flags.year_max);
  if (flags.explicit_) filter.set_explicit_(*flags.explicit_);
  for (const auto& [name, value] : flags.knobs) AddBound(name, value, &filter);
  return filter;
}

v1::RecommendOptions RecommendOptionsFromFlags(const RecommendFlags& flags) {
  v1::RecommendOptions options;
  options.set_strategy(flags.strategy);
  for (const std::string& id : NormalizeTrackIds(flags.negatives)) {
    options.add_negative_track_ids(id);
  }
  for (const std::string& id : NormalizeTrackIds(flags.seed_tracks)) {
    options.add_seed_track_ids(id);
  }
  for (const std::string& artist : flags.seed_artists) options.add_seed_artists(artist);
  for (const std::string& genre : flags.seed_genres) options.add_seed_genres(genre);
  *options.mutable_filter() = TrackFilterFromFlags(flags);
  if (flags.max_per_artist) options.set_max_per_artist(*flags.max_per_artist);
  if (flags.mmr_lambda) options.set_mmr_lambda(*flags.mmr_lambda);
  if (flags.exact) options.set_exact(*flags.exact);
  for (const auto& [name, value] : flags.knobs) {
    if (absl::StartsWith(name, "target_")) AddKnob(name, value, &options);
  }
  if (options.filter().ByteSizeLong() == 0) options.clear_filter();
  return options;
}

}  // namespace cratedig::cli
