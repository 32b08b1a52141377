#include "trainer_service/trainer_grpc_service.h"

#include <algorithm>
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/snapshot.h"

namespace cratedig::trainer {

grpc::Status CatalogGrpcService::IngestCatalog(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::IngestCatalogResponse, v1::IngestCatalogRequest>*
        stream) {
  absl::Time start = absl::Now();
  v1::IngestCatalogRequest batch;
  v1::IngestCatalogResponse total;
  int64_t batches = 0;
  while (stream->Read(&batch)) {
    v1::IngestCatalogResponse ack;
    ack.set_batch_id(batch.batch_id());
    if (absl::Status s = trainer_->Ingest(batch, &ack); !s.ok()) {
      CD_LOG(WARNING) << "ingest batch refused batch_id=" << batch.batch_id() << ": "
                      << s;
      return ToGrpcStatus(s);
    }
    if (!stream->Write(ack)) break;  // The client went away; the batch is stored anyway.
    ++batches;
    total.set_tracks_inserted(total.tracks_inserted() + ack.tracks_inserted());
    total.set_tracks_updated(total.tracks_updated() + ack.tracks_updated());
    total.set_tracks_unchanged(total.tracks_unchanged() + ack.tracks_unchanged());
    total.set_artists_upserted(total.artists_upserted() + ack.artists_upserted());
  }
  CD_LOG(INFO) << "ingest stream done peer=" << context->peer() << " batches=" << batches
               << " inserted=" << total.tracks_inserted()
               << " updated=" << total.tracks_updated()
               << " unchanged=" << total.tracks_unchanged()
               << " artists=" << total.artists_upserted()
               << " ms=" << absl::ToInt64Milliseconds(absl::Now() - start);
  return grpc::Status::OK;
}

grpc::Status CatalogGrpcService::Train(grpc::ServerContext* context,
                                       const v1::TrainRequest* request,
                                       v1::TrainResponse* response) {
  // A caller that cancels or whose deadline passes stops the build between its steps.
  auto result = trainer_->Train([context] { return context->IsCancelled(); });
  if (!result.ok()) {
    CD_LOG(WARNING) << "train failed: " << result.status();
    return ToGrpcStatus(result.status());
  }
  *response = *result;
  return grpc::Status::OK;
}

grpc::Status CatalogGrpcService::GetCatalogStatus(
    grpc::ServerContext* context, const v1::GetCatalogStatusRequest* request,
    v1::GetCatalogStatusResponse* response) {
  *response = trainer_->Status();
  return grpc::Status::OK;
}

grpc::Status CatalogGrpcService::RollbackSnapshot(
    grpc::ServerContext* context, const v1::RollbackSnapshotRequest* request,
    v1::RollbackSnapshotResponse* response) {
  auto result = trainer_->Rollback(request->version());
  if (!result.ok()) {
    CD_LOG(WARNING) << "rollback refused: " << result.status();
    return ToGrpcStatus(result.status());
  }
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status SnapshotGrpcService::GetLatestSnapshot(
    grpc::ServerContext* context, const v1::GetLatestSnapshotRequest* request,
    v1::GetLatestSnapshotResponse* response) {
  if (auto latest = trainer_->Latest()) *response->mutable_manifest() = *latest;
  return grpc::Status::OK;
}

grpc::Status SnapshotGrpcService::WatchSnapshots(
    grpc::ServerContext* context, const v1::WatchSnapshotsRequest* request,
    grpc::ServerWriter<v1::WatchSnapshotsResponse>* writer) {
  std::string known = request->known_version();
  while (!context->IsCancelled() && !shutdown_->HasBeenNotified()) {
    auto next = trainer_->WaitForNewer(known, absl::Milliseconds(250));
    if (!next) continue;
    v1::WatchSnapshotsResponse response;
    *response.mutable_manifest() = *next;
    if (!writer->Write(response)) break;
    known = next->version();
  }
  if (shutdown_->HasBeenNotified()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "trainer is shutting down");
  }
  return grpc::Status::OK;
}

grpc::Status SnapshotGrpcService::FetchSnapshotFile(
    grpc::ServerContext* context, const v1::FetchSnapshotFileRequest* request,
    grpc::ServerWriter<v1::FetchSnapshotFileResponse>* writer) {
  constexpr size_t kChunk = 1 << 20;
  // Only files a kept snapshot's manifest lists can be fetched: no path ever comes from
  // the request as such.
  const std::string& version = request->version();
  auto manifest = IsSnapshotVersion(version)
                      ? ReadManifest(trainer_->SnapshotDir(version))
                      : absl::StatusOr<v1::SnapshotManifest>(absl::NotFoundError(""));
  if (!manifest.ok()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("version: snapshot '", request->version(),
                                     "' is not kept by this trainer"));
  }
  bool listed = false;
  for (const auto& f : manifest->files()) listed = listed || f.name() == request->name();
  if (!listed) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("name: snapshot ", request->version(),
                                     " has no file '", request->name(), "'"));
  }
  if (request->offset() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "offset must not be negative");
  }
  std::string path = trainer_->SnapshotDir(request->version()) + "/" + request->name();
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"),
                                                    &std::fclose);
  if (!f || std::fseek(f.get(), request->offset(), SEEK_SET) != 0) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("cannot read ", request->name()));
  }
  v1::FetchSnapshotFileResponse chunk;
  std::string buf(kChunk, '\0');
  int64_t offset = request->offset();
  size_t n;
  while ((n = std::fread(buf.data(), 1, kChunk, f.get())) > 0) {
    if (context->IsCancelled()) return grpc::Status::CANCELLED;
    chunk.set_offset(offset);
    chunk.set_data(buf.data(), n);
    if (!writer->Write(chunk)) break;
    offset += static_cast<int64_t>(n);
  }
  return grpc::Status::OK;
}

}  // namespace cratedig::trainer
