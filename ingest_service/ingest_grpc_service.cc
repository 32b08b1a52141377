#include "ingest_service/ingest_grpc_service.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/logging.h"

namespace cratedig::ingest {

IngestGrpcService::IngestGrpcService(
    std::shared_ptr<v1::CatalogService::StubInterface> trainer, ImportOptions options)
    : trainer_(std::move(trainer)), options_(std::move(options)) {
  options_.progress = [](const std::string& line) {
    CD_LOG(INFO) << "imported " << line;
  };
}

grpc::Status IngestGrpcService::ImportFiles(grpc::ServerContext* context,
                                            const v1::ImportFilesRequest* request,
                                            v1::ImportFilesResponse* response) {
  if (request->paths().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "paths must not be empty");
  }
  std::vector<std::string> paths(request->paths().begin(), request->paths().end());
  ImportOptions options = options_;
  options.parent = context;  // A caller that goes away cancels the stream to the trainer.
  // Do not outlive the caller's deadline.
  if (context->deadline() != std::chrono::system_clock::time_point::max()) {
    absl::Duration left = absl::FromChrono(context->deadline()) - absl::Now();
    options.rpc_timeout =
        std::max(absl::Milliseconds(1), std::min(options.rpc_timeout, left));
  }
  CD_LOG(INFO) << "import started files=" << paths.size();
  absl::Time start = absl::Now();
  absl::StatusOr<v1::ImportSummary> summary =
      ImportCatalogFiles(paths, trainer_.get(), options);
  std::string took =
      absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Milliseconds(1)));
  if (!summary.ok()) {
    CD_LOG(WARNING) << "import failed files=" << paths.size() << " duration=" << took
                    << " status=" << summary.status();
    return ToGrpcStatus(summary.status());
  }
  CD_LOG(INFO) << "import done files=" << paths.size() << " rows=" << summary->rows_read()
               << " tracks_inserted=" << summary->tracks_inserted()
               << " tracks_updated=" << summary->tracks_updated()
               << " tracks_unchanged=" << summary->tracks_unchanged()
               << " artists_upserted=" << summary->artists_upserted()
               << " rows_skipped=" << summary->rows_skipped() << " duration=" << took;
  *response->mutable_summary() = *std::move(summary);
  return grpc::Status::OK;
}

grpc::Status IngestGrpcService::GetCrawlStatus(grpc::ServerContext* context,
                                               const v1::GetCrawlStatusRequest* request,
                                               v1::GetCrawlStatusResponse* response) {
  if (!crawl_status_) {
    response->set_crawl_enabled(false);
    response->set_phase("disabled");
    return grpc::Status::OK;
  }
  *response = crawl_status_();
  return grpc::Status::OK;
}

}  // namespace cratedig::ingest
