#pragma once

// The gRPC adapter of cratedig.v1.IngestService: proto in, ImportCatalogFiles, proto out.

#include <memory>

#include "cratedig/v1/catalog_service.grpc.pb.h"
#include "cratedig/v1/ingest_service.grpc.pb.h"
#include "ingest_service/catalog_import.h"

namespace cratedig::ingest {

/// Serves ImportFiles by streaming the files to the trainer. Thread-safe: each call opens
/// its own IngestCatalog stream on the shared (thread-safe) stub.
class IngestGrpcService final : public v1::IngestService::Service {
 public:
  /// `options.progress` is replaced by logging; the other fields are used for every
  /// import.
  IngestGrpcService(std::shared_ptr<v1::CatalogService::StubInterface> trainer,
                    ImportOptions options);

  grpc::Status ImportFiles(grpc::ServerContext* context,
                           const v1::ImportFilesRequest* request,
                           v1::ImportFilesResponse* response) override;

 private:
  std::shared_ptr<v1::CatalogService::StubInterface> trainer_;
  ImportOptions options_;
};

}  // namespace cratedig::ingest
