#include "query_service/cli/json_output.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_format.h"
#include "query_service/cli/human_output.h"

namespace cratedig::cli {
namespace {

Json ResultsToJson(const google::protobuf::RepeatedPtrField<v1::ScoredTrack>& results) {
  Json array = Json::array();
  for (const v1::ScoredTrack& result : results) array.push_back(ResultToJson(result));
  return array;
}

Json StringsToJson(const google::protobuf::RepeatedPtrField<std::string>& strings) {
  Json array = Json::array();
  for (const std::string& s : strings) array.push_back(s);
  return array;
}

Json RecommendationsToJson(
    const google::protobuf::RepeatedPtrField<v1::ScoredTrack>& results) {
  Json array = Json::array();
  for (const v1::ScoredTrack& result : results) {
    array.push_back(RecommendationToJson(result));
  }
  return array;
}

Json ExplanationToJson(const v1::Explanation& e) {
  Json json = Json::object();
  const bool anchored = !e.closest_track_id().empty();
  json["closest_track_id"] = anchored ? Json(e.closest_track_id()) : Json(nullptr);
  json["closest_track_name"] = anchored ? Json(e.closest_track_name()) : Json(nullptr);
  json["similarity"] = anchored ? DistanceToJson(e.closest_similarity()) : Json(nullptr);
  Json features = Json::array();
  for (const v1::FeatureMatch& m : e.features()) {
    Json f = Json::object();
    f["feature"] = m.feature();
    f["value"] = m.value();
    f["reference"] = m.reference();
    f["target"] = m.is_target();
    features.push_back(std::move(f));
  }
  json["features"] = std::move(features);
  json["shared_genres"] = StringsToJson(e.shared_genres());
  return json;
}

v1::ReleaseDatePrecision EffectivePrecision(const v1::ReleaseDate& date) {
  if (date.precision() != v1::RELEASE_DATE_PRECISION_UNSPECIFIED) return date.precision();
  if (date.day() != 0) return v1::RELEASE_DATE_PRECISION_DAY;
  if (date.month() != 0) return v1::RELEASE_DATE_PRECISION_MONTH;
  return v1::RELEASE_DATE_PRECISION_YEAR;
}

const char* SignalName(v1::SearchSignal signal) {
  switch (signal) {
    case v1::SEARCH_SIGNAL_LEXICAL:
      return "lexical";
    case v1::SEARCH_SIGNAL_VECTOR:
      return "vector";
    case v1::SEARCH_SIGNAL_LEXICAL_AND_VECTOR:
      return "lexical+vector";
    default:
      return "unspecified";
  }
}

const char* FieldName(v1::SearchField field) {
  switch (field) {
    case v1::SEARCH_FIELD_TITLE:
      return "title";
    case v1::SEARCH_FIELD_ARTIST:
      return "artist";
    case v1::SEARCH_FIELD_ALBUM:
      return "album";
    default:
      return "unspecified";
  }
}

}  // namespace

std::string DumpJson(const Json& value) {
  return value.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

Json DistanceToJson(float distance) {
  if (!std::isfinite(distance)) return nullptr;
  char buffer[64];
  std::to_chars_result end = std::to_chars(buffer, buffer + sizeof(buffer) - 1, distance);
  *end.ptr = '\0';
  // The double nearest the float's shortest decimal prints back as that decimal.
  return std::strtod(buffer, nullptr);
}

std::optional<std::string> FormatReleaseDate(const v1::ReleaseDate& date) {
  if (date.year() == 0) return std::nullopt;
  switch (EffectivePrecision(date)) {
    case v1::RELEASE_DATE_PRECISION_DAY:
      return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(), date.day());
    case v1::RELEASE_DATE_PRECISION_MONTH:
      return absl::StrFormat("%04d-%02d", date.year(), date.month());
    default:
      return absl::StrFormat("%04d", date.year());
  }
}

Json ResultToJson(const v1::ScoredTrack& result) {
  const v1::Track& track = result.track();
  Json artists = Json::array();
  for (const v1::ArtistRef& artist : track.artists()) artists.push_back(artist.name());
  Json json = Json::object();
  json["track_id"] = track.id();
  json["track_name"] = track.name();
  json["artists"] = std::move(artists);
  json["album"] = track.album().name();
  json["genres"] = StringsToJson(track.genres());
  json["distance"] = DistanceToJson(result.distance());
  return json;
}

Json AudioFeaturesToJson(const v1::Track& track) {
  const v1::AudioFeatures& f = track.audio_features();
  Json json = Json::object();
  if (f.has_acousticness()) json["acousticness"] = f.acousticness();
  if (f.has_danceability()) json["danceability"] = f.danceability();
  if (f.has_energy()) json["energy"] = f.energy();
  if (f.has_instrumentalness()) json["instrumentalness"] = f.instrumentalness();
  if (f.has_key()) json["key"] = f.key();
  if (f.has_liveness()) json["liveness"] = f.liveness();
  if (f.has_loudness()) json["loudness"] = f.loudness();
  if (f.has_mode()) json["mode"] = f.mode();
  if (f.has_speechiness()) json["speechiness"] = f.speechiness();
  if (f.has_tempo()) json["tempo"] = f.tempo();
  if (f.has_time_signature()) json["time_signature"] = f.time_signature();
  if (f.has_valence()) json["valence"] = f.valence();
  if (json.empty()) return nullptr;
  return json;
}

Json TrackDetailsToJson(const v1::ScoredTrack& result) {
  const v1::Track& track = result.track();
  Json json = ResultToJson(result);
  json["audio_features"] = AudioFeaturesToJson(track);
  std::optional<std::string> date = FormatReleaseDate(track.album().release_date());
  json["release_date"] = date.has_value() ? Json(*date) : Json(nullptr);
  json["popularity"] = track.has_popularity() ? Json(track.popularity()) : Json(nullptr);
  return json;
}

Json RecommendationToJson(const v1::ScoredTrack& result) {
  const v1::Track& track = result.track();
  Json json = ResultToJson(result);
  std::optional<std::string> date = FormatReleaseDate(track.album().release_date());
  json["release_date"] = date.has_value() ? Json(*date) : Json(nullptr);
  json["popularity"] = track.has_popularity() ? Json(track.popularity()) : Json(nullptr);
  json["score"] = DistanceToJson(result.score());
  json["explanation"] = ExplanationToJson(result.explanation());
  return json;
}

Json SearchResultToJson(const v1::ScoredTrack& result) {
  Json json = ResultToJson(result);
  json["relevance"] = DistanceToJson(result.relevance());
  json["signal"] = SignalName(result.signal());
  Json fields = Json::array();
  for (int field : result.matched_fields()) {
    fields.push_back(FieldName(static_cast<v1::SearchField>(field)));
  }
  json["matched_fields"] = std::move(fields);
  json["typos"] = result.typos();
  json["prefix"] = result.prefix();
  json["exact"] = result.exact();
  return json;
}

Json SearchResponseToJson(const v1::SearchResponse& response) {
  Json results = Json::array();
  for (const v1::ScoredTrack& result : response.results()) {
    results.push_back(SearchResultToJson(result));
  }
  return Json{{"results", std::move(results)}};
}

Json RecommendResponseToJson(const v1::RecommendResponse& response) {
  Json json = Json::object();
  json["results"] = RecommendationsToJson(response.results());
  json["matched"] = response.matched();
  json["strategy"] = response.strategy();
  return json;
}

Json GetTracksResponseToJson(const v1::GetTracksResponse& response) {
  Json tracks = Json::array();
  for (const v1::ScoredTrack& t : response.tracks())
    tracks.push_back(TrackDetailsToJson(t));
  Json json = Json::object();
  json["results"] = std::move(tracks);
  json["missing"] = StringsToJson(response.missing_ids());
  return json;
}

Json PredictResponseToJson(const v1::PredictResponse& response) {
  Json json = Json::object();
  json["search_results"] = ResultsToJson(response.search_results());
  json["recommender_results"] = RecommendationsToJson(response.recommender_results());
  json["recommender_matched"] = response.recommender_matched();
  return json;
}

Json QueryStatusToJson(const v1::GetQueryStatusResponse& response) {
  Json json = Json::object();
  json["snapshot"] = response.snapshot_version();
  json["tracks"] = response.tracks();
  return json;
}

Json TrainResponseToJson(const v1::TrainResponse& response) {
  Json json = Json::object();
  json["snapshot"] = response.snapshot_version();
  json["tracks"] = response.tracks();
  json["build_ms"] = response.build_ms();
  return json;
}

Json RollbackResponseToJson(const v1::RollbackSnapshotResponse& response) {
  Json json = Json::object();
  json["snapshot"] = response.snapshot_version();
  json["previous"] = response.previous_version();
  json["tracks"] = response.tracks();
  json["kept"] = Json::array();
  for (const std::string& v : response.kept_versions()) json["kept"].push_back(v);
  return json;
}

Json CatalogStatusToJson(const v1::GetCatalogStatusResponse& status) {
  Json json = Json::object();
  json["tracks"] = status.tracks();
  json["artists"] = status.artists();
  json["snapshot"] = status.snapshot_version();
  json["build_state"] = BuildStateName(status.build_state());
  json["build_due_at_ms"] = status.build_due_at_ms();
  json["build_started_at_ms"] = status.build_started_at_ms();
  json["build_automatic"] = status.build_automatic();
  json["last_build_finished_at_ms"] = status.last_build_finished_at_ms();
  json["last_build_ms"] = status.last_build_ms();
  json["last_build_error"] = status.last_build_error();
  json["train_debounce_ms"] = status.train_debounce_ms();
  json["kept"] = Json::array();
  for (const std::string& v : status.kept_versions()) json["kept"].push_back(v);
  return json;
}

Json ImportSummaryToJson(const v1::ImportSummary& summary) {
  Json errors = Json::array();
  for (const v1::RowError& e : summary.errors()) {
    Json error = Json::object();
    error["file"] = e.file();
    error["line"] = e.line();
    error["column"] = e.column();
    error["message"] = e.message();
    errors.push_back(std::move(error));
  }
  Json json = Json::object();
  json["rows_read"] = summary.rows_read();
  json["tracks_inserted"] = summary.tracks_inserted();
  json["tracks_updated"] = summary.tracks_updated();
  json["tracks_unchanged"] = summary.tracks_unchanged();
  json["artists_upserted"] = summary.artists_upserted();
  json["rows_skipped"] = summary.rows_skipped();
  json["errors"] = std::move(errors);
  json["playlists_upserted"] = summary.playlists_upserted();
  return json;
}

}  // namespace cratedig::cli
