#include "query_service/cli/predict_request.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "query_service/cli/recommend_args.h"
#include "query_service/cli/track_args.h"

namespace cratedig::cli {
namespace {

using nlohmann::json;

// The one place JSON parsing may throw: the exception becomes a status here.
absl::StatusOr<json> ParseJson(absl::string_view text, absl::string_view source) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    // parse_error for broken syntax, and out_of_range for a number too large for a
    // double (1e999), which nlohmann throws from parse() too.
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix; keep the position.
    size_t bracket = what.find("] ");
    if (what.rfind("[json.exception.", 0) == 0 && bracket != std::string::npos) {
      what.erase(0, bracket + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat(source, ": invalid JSON: ", what));
  }
}

absl::Status FieldError(absl::string_view source, absl::string_view field,
                        absl::string_view must) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": \"", field, "\" ", must));
}

// Returns the value of `field` as an int32 for the request's neighbour counts.
absl::StatusOr<int32_t> ParseCount(const json& value, absl::string_view source,
                                   absl::string_view field) {
  constexpr int64_t kMin = std::numeric_limits<int32_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  if (value.is_number_unsigned() &&
      value.get<uint64_t>() <= static_cast<uint64_t>(kMax)) {
    return static_cast<int32_t>(value.get<uint64_t>());
  }
  if (value.is_number_integer() && !value.is_number_unsigned()) {
    int64_t n = value.get<int64_t>();
    if (n >= kMin && n <= kMax) return static_cast<int32_t>(n);
  }
  return FieldError(source, field, "must be an integer");
}

absl::Status ParsePlaylist(const json& playlist, absl::string_view source,
                           v1::PredictRequest* request) {
  if (!playlist.is_array()) return FieldError(source, "playlist", "must be an array");
  for (size_t i = 0; i < playlist.size(); ++i) {
    const json& item = playlist[i];
    bool fits_int64 = item.is_number_integer() &&
                      (!item.is_number_unsigned() ||
                       item.get<uint64_t>() <=
                           static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
    if (fits_int64) {
      request->add_playlist_positions(item.get<int64_t>());
    } else if (item.is_string()) {
      request->add_playlist_track_ids(NormalizeTrackId(item.get<std::string>()));
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": \"playlist\"[", i, "] must be a track position or a Spotify id"));
    }
  }
  return absl::OkStatus();
}

// Returns the strings of the array `field` (track ids reduced to ids when `ids`).
absl::StatusOr<std::vector<std::string>> Strings(const json& value,
                                                 absl::string_view source,
                                                 absl::string_view field, bool ids) {
  if (!value.is_array()) return FieldError(source, field, "must be an array of strings");
  std::vector<std::string> out;
  for (const json& item : value) {
    if (!item.is_string()) {
      return FieldError(source, field, "must be an array of strings");
    }
    out.push_back(ids ? NormalizeTrackId(item.get<std::string>())
                      : item.get<std::string>());
  }
  return out;
}

// The recommendation keys (as `cratedig recommend`'s flags, plural for lists).
absl::Status ParseRecommendOptions(const json& root, absl::string_view source,
                                   v1::RecommendOptions* options) {
  v1::TrackFilter* filter = options->mutable_filter();
  for (const auto& [key, value] : root.items()) {
    if (value.is_null()) continue;
    using Adder = void (*)(const std::string&, v1::RecommendOptions*);
    static const std::pair<const char*, Adder> kLists[] = {
        {"negatives", [](const std::string& s,
                         v1::RecommendOptions* o) { o->add_negative_track_ids(s); }},
        {"seed_tracks",
         [](const std::string& s, v1::RecommendOptions* o) { o->add_seed_track_ids(s); }},
        {"seed_artists",
         [](const std::string& s, v1::RecommendOptions* o) { o->add_seed_artists(s); }},
        {"seed_genres",
         [](const std::string& s, v1::RecommendOptions* o) { o->add_seed_genres(s); }},
        {"genres", [](const std::string& s,
                      v1::RecommendOptions* o) { o->mutable_filter()->add_genres(s); }},
        {"exclude_artists",
         [](const std::string& s, v1::RecommendOptions* o) {
           o->mutable_filter()->add_exclude_artists(s);
         }},
    };
    bool listed = false;
    for (const auto& [name, add] : kLists) {
      if (key != name) continue;
      listed = true;
      const bool ids = key == "negatives" || key == "seed_tracks";
      absl::StatusOr<std::vector<std::string>> items = Strings(value, source, key, ids);
      if (!items.ok()) return items.status();
      for (const std::string& item : *items) add(item, options);
    }
    if (listed) continue;
    if (key == "strategy") {
      if (!value.is_string()) return FieldError(source, key, "must be a string");
      options->set_strategy(value.get<std::string>());
    } else if (key == "explicit" || key == "exact") {
      if (!value.is_boolean()) return FieldError(source, key, "must be true or false");
      if (key == "explicit") filter->set_explicit_(value.get<bool>());
      if (key == "exact") options->set_exact(value.get<bool>());
    } else if (key == "year_min" || key == "year_max" || key == "max_per_artist") {
      absl::StatusOr<int32_t> n = ParseCount(value, source, key);
      if (!n.ok()) return n.status();
      if (key == "year_min") filter->set_year_min(*n);
      if (key == "year_max") filter->set_year_max(*n);
      if (key == "max_per_artist") options->set_max_per_artist(*n);
    } else if (key == "mmr_lambda" || IsKnobName(key)) {
      if (!value.is_number()) return FieldError(source, key, "must be a number");
      if (key == "mmr_lambda") {
        options->set_mmr_lambda(value.get<double>());
      } else {
        AddKnob(key, value.get<double>(), options);
      }
    }
  }
  if (filter->ByteSizeLong() == 0) options->clear_filter();
  return absl::OkStatus();
}

absl::Status ParseFields(const json& root, absl::string_view source,
                         v1::PredictRequest* request) {
  auto present = [&root](const char* key) {
    auto it = root.find(key);
    return it != root.end() && !it->is_null();
  };
  if (present("search")) {
    if (!root["search"].is_string())
      return FieldError(source, "search", "must be a string");
    request->set_search(root["search"].get<std::string>());
  }
  if (present("playlist")) {
    absl::Status status = ParsePlaylist(root["playlist"], source, request);
    if (!status.ok()) return status;
  }
  for (const char* key : {"search_neighbors", "recommender_neighbors"}) {
    if (!present(key)) continue;
    absl::StatusOr<int32_t> count = ParseCount(root[key], source, key);
    if (!count.ok()) return count.status();
    if (std::strcmp(key, "search_neighbors") == 0) {
      request->set_search_neighbors(*count);
    } else {
      request->set_recommender_neighbors(*count);
    }
  }
  v1::RecommendOptions options;
  absl::Status status = ParseRecommendOptions(root, source, &options);
  if (!status.ok()) return status;
  if (options.ByteSizeLong() > 0) *request->mutable_recommender_options() = options;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::PredictRequest> ParsePredictRequest(absl::string_view text,
                                                       absl::string_view source) {
  absl::StatusOr<json> root = ParseJson(text, source);
  if (!root.ok()) return root.status();
  if (!root->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": the request must be a JSON object"));
  }
  v1::PredictRequest request;
  absl::Status status = ParseFields(*root, source, &request);
  if (!status.ok()) return status;
  return request;
}

absl::StatusOr<std::string> ReadRequestFile(const std::string& path,
                                            std::istream& stdin_stream) {
  std::ostringstream contents;
  if (path == "-") {
    contents << stdin_stream.rdbuf();
    return contents.str();
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::NotFoundError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  contents << file.rdbuf();
  if (file.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  return contents.str();
}

}  // namespace cratedig::cli
