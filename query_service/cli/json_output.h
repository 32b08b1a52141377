#pragma once

// Proto -> JSON for the `cratedig` command line: the shapes its --json output promises.
// Objects keep the documented key order (nlohmann::ordered_json).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cratedig/v1/catalog_service.pb.h"
#include "cratedig/v1/ingest_service.pb.h"
#include "cratedig/v1/query_service.pb.h"
#include "cratedig/v1/track.pb.h"

namespace cratedig::cli {

using Json = nlohmann::ordered_json;

/// Serialize `value` compactly on one line, UTF-8 kept; invalid UTF-8 becomes U+FFFD.
std::string DumpJson(const Json& value);

/// Return the distance as a JSON number with the float's shortest decimal form (0.1f ->
/// 0.1).
Json DistanceToJson(float distance);

/// Return "YYYY", "YYYY-MM" or "YYYY-MM-DD" per the precision; nullopt when the year is
/// unknown. Without a precision, the finest non-zero field decides.
std::optional<std::string> FormatReleaseDate(const v1::ReleaseDate& date);

/// Return {"track_id","track_name","artists":[names],"album","genres":[...],"distance"}.
Json ResultToJson(const v1::ScoredTrack& result);

/// Return ResultToJson() plus "audio_features" ({present fields} or null), "release_date"
/// (string or null) and "popularity" (number or null).
Json TrackDetailsToJson(const v1::ScoredTrack& result);

/// Return {"danceability": ..., ...} with only the present fields; null when none is
/// present.
Json AudioFeaturesToJson(const v1::Track& track);

/// Return ResultToJson() plus "release_date" (string or null), "popularity" (number or
/// null), "score" and "explanation": {"closest_track_id","closest_track_name",
/// "similarity" (null for knobs-only requests),"features":[{"feature","value",
/// "reference","target"}],"shared_genres":[...]}.
Json RecommendationToJson(const v1::ScoredTrack& result);

/// Return ResultToJson() plus what found the result: "relevance" (fused, higher first),
/// "signal" ("lexical", "vector" or "lexical+vector"), "matched_fields" (of "title",
/// "artist", "album"), "typos", "prefix" and "exact".
Json SearchResultToJson(const v1::ScoredTrack& result);

/// Return {"results":[SearchResultToJson...]}.
Json SearchResponseToJson(const v1::SearchResponse& response);
/// Return {"results":[RecommendationToJson...],"matched":N,"strategy":"NAME"}.
Json RecommendResponseToJson(const v1::RecommendResponse& response);

/// Return {"results":[...details...],"missing":[ids]}.
Json GetTracksResponseToJson(const v1::GetTracksResponse& response);

/// Return {"search_results":[...],"recommender_results":[RecommendationToJson...],
/// "recommender_matched":N}.
Json PredictResponseToJson(const v1::PredictResponse& response);

/// Return {"snapshot":"VERSION","tracks":N}.
Json QueryStatusToJson(const v1::GetQueryStatusResponse& response);

/// Return {"snapshot":"VERSION","tracks":N,"build_ms":X}.
Json TrainResponseToJson(const v1::TrainResponse& response);

/// Return {"snapshot":"VERSION","previous":"VERSION","tracks":N,"kept":["VERSION",...]}.
Json RollbackResponseToJson(const v1::RollbackSnapshotResponse& response);

/// Return {"tracks","artists","snapshot","build_state":"idle|waiting|building|paused",
/// "build_due_at_ms","build_started_at_ms","build_automatic","last_build_finished_at_ms",
/// "last_build_ms","last_build_error","train_debounce_ms","kept":[...]}.
Json CatalogStatusToJson(const v1::GetCatalogStatusResponse& status);

/// Return the summary with its proto field names:
/// {"rows_read",...,"errors":[{file,line,...}]}.
Json ImportSummaryToJson(const v1::ImportSummary& summary);

}  // namespace cratedig::cli
