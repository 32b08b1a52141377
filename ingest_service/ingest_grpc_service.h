#pragma once

// The gRPC adapter of cratedig.v1.IngestService: proto in, ImportCatalogFiles, proto out.

#include <functional>
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

  /// Answers with `status()` when a crawl runs; crawl_enabled=false otherwise.
  grpc::Status GetCrawlStatus(grpc::ServerContext* context,
                              const v1::GetCrawlStatusRequest* request,
                              v1::GetCrawlStatusResponse* response) override;

  /// Set where GetCrawlStatus reads the crawl's status. Call before serving.
  void SetCrawlStatusSource(std::function<v1::GetCrawlStatusResponse()> status) {
    crawl_status_ = std::move(status);
  }

 private:
  std::shared_ptr<v1::CatalogService::StubInterface> trainer_;
  ImportOptions options_;
  std::function<v1::GetCrawlStatusResponse()> crawl_status_;
};

}  // namespace cratedig::ingest
