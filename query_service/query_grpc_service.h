#pragma once

// gRPC adapter of the query daemon: proto in, query_engine call on the current snapshot,
// proto out.

#include "cratedig/v1/query_service.grpc.pb.h"
#include "query_service/snapshot_holder.h"
#include "query_service/snapshot_sync.h"

namespace cratedig::query {

class QueryGrpcService final : public v1::QueryService::Service {
 public:
  /// `sync`, when given, adds the replication state to GetQueryStatus.
  explicit QueryGrpcService(const SnapshotHolder* holder,
                            const SnapshotSync* sync = nullptr)
      : holder_(holder), sync_(sync) {}

  grpc::Status Search(grpc::ServerContext* context, const v1::SearchRequest* request,
                      v1::SearchResponse* response) override;
  grpc::Status Recommend(grpc::ServerContext* context,
                         const v1::RecommendRequest* request,
                         v1::RecommendResponse* response) override;
  grpc::Status GetTracks(grpc::ServerContext* context,
                         const v1::GetTracksRequest* request,
                         v1::GetTracksResponse* response) override;
  grpc::Status Predict(grpc::ServerContext* context, const v1::PredictRequest* request,
                       v1::PredictResponse* response) override;
  grpc::Status GetQueryStatus(grpc::ServerContext* context,
                              const v1::GetQueryStatusRequest* request,
                              v1::GetQueryStatusResponse* response) override;

 private:
  const SnapshotHolder* holder_;  // Not owned.
  const SnapshotSync* sync_;      // Not owned; may be null.
};

}  // namespace cratedig::query
