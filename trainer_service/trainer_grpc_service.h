#pragma once

// gRPC adapters of the trainer: CatalogService (ingest, train, status) and
// SnapshotService (publication to query daemons). Proto in, Trainer call, proto out;
// nothing else.

#include "absl/synchronization/notification.h"
#include "cratedig/v1/catalog_service.grpc.pb.h"
#include "cratedig/v1/snapshot_service.grpc.pb.h"
#include "trainer_service/trainer.h"

namespace cratedig::trainer {

class CatalogGrpcService final : public v1::CatalogService::Service {
 public:
  explicit CatalogGrpcService(Trainer* trainer) : trainer_(trainer) {}
  grpc::Status IngestCatalog(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::IngestCatalogResponse, v1::IngestCatalogRequest>*
          stream) override;
  grpc::Status Train(grpc::ServerContext* context, const v1::TrainRequest* request,
                     v1::TrainResponse* response) override;
  grpc::Status GetCatalogStatus(grpc::ServerContext* context,
                                const v1::GetCatalogStatusRequest* request,
                                v1::GetCatalogStatusResponse* response) override;
  grpc::Status RollbackSnapshot(grpc::ServerContext* context,
                                const v1::RollbackSnapshotRequest* request,
                                v1::RollbackSnapshotResponse* response) override;

 private:
  Trainer* trainer_;  // Not owned.
};

class SnapshotGrpcService final : public v1::SnapshotService::Service {
 public:
  /// `shutdown` ends open watch streams when notified.
  SnapshotGrpcService(Trainer* trainer, const absl::Notification* shutdown)
      : trainer_(trainer), shutdown_(shutdown) {}
  grpc::Status GetLatestSnapshot(grpc::ServerContext* context,
                                 const v1::GetLatestSnapshotRequest* request,
                                 v1::GetLatestSnapshotResponse* response) override;
  grpc::Status WatchSnapshots(
      grpc::ServerContext* context, const v1::WatchSnapshotsRequest* request,
      grpc::ServerWriter<v1::WatchSnapshotsResponse>* writer) override;
  grpc::Status FetchSnapshotFile(
      grpc::ServerContext* context, const v1::FetchSnapshotFileRequest* request,
      grpc::ServerWriter<v1::FetchSnapshotFileResponse>* writer) override;

 private:
  Trainer* trainer_;                    // Not owned.
  const absl::Notification* shutdown_;  // Not owned.
};

}  // namespace cratedig::trainer
