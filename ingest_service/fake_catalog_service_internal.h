#pragma once

// A test fake of the trainer's CatalogService: a real in-process gRPC server on
// 127.0.0.1:0 whose IngestCatalog records every batch and acknowledges it (or fails on
// request). Test-only; not part of ingest_lib.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "cratedig/v1/catalog_service.grpc.pb.h"

namespace cratedig::ingest::testing {

/// Records batches; acks each with inserted = ids not seen before, unchanged = the rest.
class FakeCatalogService final : public v1::CatalogService::Service {
 public:
  /// Fail the stream with `status` when batch number `n` (0-based) arrives, before acking
  /// it.
  void FailAtBatch(int n, grpc::Status status) {
    absl::MutexLock lock(&mu_);
    fail_at_ = n;
    fail_status_ = std::move(status);
  }
  /// Stop acknowledging after `n` batches but finish the stream OK.
  void AckOnly(int n) {
    absl::MutexLock lock(&mu_);
    ack_limit_ = n;
  }
  /// Acknowledge each batch with this id instead of the one sent.
  void AckWrongId(int64_t id) {
    absl::MutexLock lock(&mu_);
    wrong_id_ = id;
  }

  grpc::Status IngestCatalog(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::IngestCatalogResponse, v1::IngestCatalogRequest>*
          stream) override {
    v1::IngestCatalogRequest request;
    while (stream->Read(&request)) {
      v1::IngestCatalogResponse ack;
      {
        absl::MutexLock lock(&mu_);
        if (static_cast<int>(batches_.size()) == fail_at_) return fail_status_;
        batches_.push_back(request);
        ack.set_batch_id(wrong_id_ >= 0 ? wrong_id_ : request.batch_id());
        for (const v1::Track& t : request.tracks()) {
          if (seen_.insert(t.id()).second) {
            ack.set_tracks_inserted(ack.tracks_inserted() + 1);
          } else {
            ack.set_tracks_unchanged(ack.tracks_unchanged() + 1);
          }
        }
        ack.set_artists_upserted(request.artists_size());
        ack.set_playlists_upserted(request.playlists_size());
        if (ack_limit_ >= 0 && static_cast<int>(batches_.size()) > ack_limit_) continue;
      }
      if (!stream->Write(ack)) break;
    }
    return grpc::Status::OK;
  }

  std::vector<v1::IngestCatalogRequest> batches() const {
    absl::MutexLock lock(&mu_);
    return batches_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<v1::IngestCatalogRequest> batches_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> seen_ ABSL_GUARDED_BY(mu_);
  int fail_at_ ABSL_GUARDED_BY(mu_) = -1;
  grpc::Status fail_status_ ABSL_GUARDED_BY(mu_);
  int ack_limit_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t wrong_id_ ABSL_GUARDED_BY(mu_) = -1;
};

/// The fake served on 127.0.0.1:0 with a stub to it.
struct FakeTrainer {
  FakeTrainer() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
    stub = v1::CatalogService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  }
  ~FakeTrainer() { server->Shutdown(); }

  std::string address() const { return "127.0.0.1:" + std::to_string(port); }

  FakeCatalogService service;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
  std::shared_ptr<v1::CatalogService::Stub> stub;
};

}  // namespace cratedig::ingest::testing
