#include "query_service/query_grpc_service.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "query_service/query_engine.h"
#include "query_service/recommender.h"
#include "query_service/search.h"

namespace cratedig::query {
namespace {

constexpr int kDefaultNeighbors = 10;

grpc::Status NoSnapshot() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      "no index snapshot loaded yet; retry later");
}

// Recommend for Recommend and Predict: validates `options`, answers, writes the results.
absl::Status AddRecommendations(const Snapshot& snapshot, std::vector<int64_t> playlist,
                                int k, const v1::RecommendOptions& options,
                                absl::string_view field,
                                google::protobuf::RepeatedPtrField<v1::ScoredTrack>* out,
                                int64_t* matched, std::string* strategy) {
  auto query = MakeRecommendQuery(snapshot, std::move(playlist), k, options, field);
  if (!query.ok()) return query.status();
  auto answer = Recommend(snapshot, *query);
  if (!answer.ok()) return answer.status();
  out->Reserve(static_cast<int>(answer->results.size()));
  for (Recommendation& r : answer->results) {
    v1::ScoredTrack* t = out->Add();
    *t->mutable_track() = snapshot.track(r.position);
    t->set_distance(r.distance);
    t->set_position(r.position);
    t->set_score(r.score);
    *t->mutable_explanation() = std::move(r.explanation);
  }
  *matched = answer->matched;
  if (strategy != nullptr) *strategy = StrategyName(answer->strategy);
  return absl::OkStatus();
}

void AddSearchResults(const Snapshot& snapshot, const std::vector<SearchResult>& results,
                      google::protobuf::RepeatedPtrField<v1::ScoredTrack>* out) {
  out->Reserve(static_cast<int>(results.size()));
  for (const SearchResult& r : results) ToScoredTrack(snapshot, r, out->Add());
}

std::vector<std::string> Ids(const google::protobuf::RepeatedPtrField<std::string>& ids) {
  return {ids.begin(), ids.end()};
}

}  // namespace

grpc::Status QueryGrpcService::Search(grpc::ServerContext* context,
                                      const v1::SearchRequest* request,
                                      v1::SearchResponse* response) {
  auto snapshot = holder_->Get();
  if (snapshot == nullptr) return NoSnapshot();
  auto results =
      query::Search(*snapshot, request->query(), request->k(), request->offset(),
                    request->has_filter() ? &request->filter() : nullptr);
  if (!results.ok()) return ToGrpcStatus(results.status());
  AddSearchResults(*snapshot, *results, response->mutable_results());
  response->set_snapshot_version(snapshot->version());
  return grpc::Status::OK;
}

grpc::Status QueryGrpcService::Recommend(grpc::ServerContext* context,
                                         const v1::RecommendRequest* request,
                                         v1::RecommendResponse* response) {
  auto snapshot = holder_->Get();
  if (snapshot == nullptr) return NoSnapshot();
  if (auto s = ValidateK(request->k(), "k"); !s.ok()) return ToGrpcStatus(s);
  if (request->track_ids_size() > kMaxPlaylist) {
    return ToGrpcStatus(absl::InvalidArgumentError(
        absl::StrCat("track_ids must hold at most ", kMaxPlaylist, " ids")));
  }
  auto playlist = ResolveIds(*snapshot, Ids(request->track_ids()), "track_ids");
  if (!playlist.ok()) return ToGrpcStatus(playlist.status());
  int64_t matched = 0;
  absl::Status status = AddRecommendations(
      *snapshot, *std::move(playlist), request->k(), request->options(), "options",
      response->mutable_results(), &matched, response->mutable_strategy());
  if (!status.ok()) return ToGrpcStatus(status);
  response->set_matched(matched);
  response->set_snapshot_version(snapshot->version());
  return grpc::Status::OK;
}

grpc::Status QueryGrpcService::GetTracks(grpc::ServerContext* context,
                                         const v1::GetTracksRequest* request,
                                         v1::GetTracksResponse* response) {
  auto snapshot = holder_->Get();
  if (snapshot == nullptr) return NoSnapshot();
  if (request->track_ids().empty()) {
    return ToGrpcStatus(absl::InvalidArgumentError("track_ids must not be empty"));
  }
  if (request->track_ids_size() > kMaxLookupIds) {
    return ToGrpcStatus(absl::InvalidArgumentError(
        absl::StrCat("track_ids must hold at most ", kMaxLookupIds, " ids")));
  }
  for (const std::string& id : request->track_ids()) {
    auto position = snapshot->Find(id);
    if (!position) {
      response->add_missing_ids(id);
      continue;
    }
    v1::ScoredTrack* t = response->add_tracks();
    *t->mutable_track() = snapshot->track(*position);
    t->set_position(*position);
  }
  response->set_snapshot_version(snapshot->version());
  return grpc::Status::OK;
}

grpc::Status QueryGrpcService::Predict(grpc::ServerContext* context,
                                       const v1::PredictRequest* request,
                                       v1::PredictResponse* response) {
  auto snapshot = holder_->Get();
  if (snapshot == nullptr) return NoSnapshot();
  const v1::RecommendOptions& options = request->recommender_options();
  const bool has_playlist =
      request->playlist_positions_size() + request->playlist_track_ids_size() > 0 ||
      options.seed_track_ids_size() + options.seed_artists_size() +
              options.seed_genres_size() + options.targets_size() >
          0 ||
      options.has_filter();
  if (request->search().empty() && !has_playlist) {
    return ToGrpcStatus(absl::InvalidArgumentError(
        "search, playlist_positions/playlist_track_ids or recommender_options required"));
  }
  int search_k =
      request->search_neighbors() ? request->search_neighbors() : kDefaultNeighbors;
  int rec_k = request->recommender_neighbors() ? request->recommender_neighbors()
                                               : kDefaultNeighbors;
  if (auto s = ValidateK(search_k, "search_neighbors"); !s.ok()) return ToGrpcStatus(s);
  if (auto s = ValidateK(rec_k, "recommender_neighbors"); !s.ok()) return ToGrpcStatus(s);
  if (request->playlist_positions_size() + request->playlist_track_ids_size() >
      kMaxPlaylist) {
    return ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat(
        "playlist_positions and playlist_track_ids must hold at most ", kMaxPlaylist,
        " tracks together, got ",
        request->playlist_positions_size() + request->playlist_track_ids_size())));
  }
  if (!request->search().empty()) {
    auto results = query::Search(*snapshot, request->search(), search_k);
    if (!results.ok()) {
      return ToGrpcStatus(absl::Status(
          results.status().code(), absl::StrCat("search: ", results.status().message())));
    }
    AddSearchResults(*snapshot, *results, response->mutable_search_results());
  }
  if (has_playlist) {
    std::vector<int64_t> playlist;
    for (int i = 0; i < request->playlist_positions_size(); ++i) {
      int64_t p = request->playlist_positions(i);
      if (p < 0 || p >= snapshot->size()) {
        return ToGrpcStatus(absl::InvalidArgumentError(
            absl::StrCat("playlist_positions[", i, "] = ", p, " is outside 0..",
                         snapshot->size() - 1, " of snapshot ", snapshot->version())));
      }
      playlist.push_back(p);
    }
    auto by_id =
        ResolveIds(*snapshot, Ids(request->playlist_track_ids()), "playlist_track_ids");
    if (!by_id.ok()) return ToGrpcStatus(by_id.status());
    playlist.insert(playlist.end(), by_id->begin(), by_id->end());
    int64_t matched = 0;
    absl::Status status = AddRecommendations(
        *snapshot, std::move(playlist), rec_k, options, "recommender_options",
        response->mutable_recommender_results(), &matched, nullptr);
    if (!status.ok()) return ToGrpcStatus(status);
    response->set_recommender_matched(matched);
  }
  response->set_snapshot_version(snapshot->version());
  return grpc::Status::OK;
}

grpc::Status QueryGrpcService::GetQueryStatus(grpc::ServerContext* context,
                                              const v1::GetQueryStatusRequest* request,
                                              v1::GetQueryStatusResponse* response) {
  if (auto snapshot = holder_->Get()) {
    response->set_snapshot_version(snapshot->version());
    response->set_tracks(snapshot->size());
  }
  if (sync_ != nullptr) sync_->DescribeTo(response);
  return grpc::Status::OK;
}

}  // namespace cratedig::query
