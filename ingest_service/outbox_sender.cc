#include "ingest_service/outbox_sender.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "ingest_service/rate_limiter.h"

namespace cratedig::ingest {

OutboxSender::OutboxSender(CrawlState* state, v1::CatalogService::StubInterface* trainer,
                           OutboxSenderOptions options)
    : state_(state), trainer_(trainer), options_(options) {}

OutboxSender::~OutboxSender() { Stop(); }

void OutboxSender::Start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

void OutboxSender::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

bool OutboxSender::WaitUntilEmpty(const absl::Notification* cancel) {
  for (;;) {
    absl::StatusOr<CrawlCounts> counts = state_->Counts();
    if (counts.ok() && counts->outbox_batches == 0) return true;
    if (!SleepUnlessCancelled(options_.poll_interval, cancel)) return false;
  }
}

void OutboxSender::Loop() {
  absl::Duration backoff = absl::Milliseconds(200);
  while (!stop_.HasBeenNotified()) {
    bool empty = false;
    absl::Status status = SendSome(&empty);
    if (status.ok()) {
      backoff = absl::Milliseconds(200);
      if (empty) stop_.WaitForNotificationWithTimeout(options_.poll_interval);
      continue;
    }
    if (++failures_ % 20 == 1) {
      CD_LOG(WARNING) << "outbox: cannot deliver to the trainer, keeping the batches: "
                      << status;
    }
    stop_.WaitForNotificationWithTimeout(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

absl::Status OutboxSender::SendSome(bool* empty) {
  absl::StatusOr<std::vector<v1::IngestCatalogRequest>> batches =
      state_->PeekOutbox(options_.batches_per_stream);
  if (!batches.ok()) return batches.status();
  *empty = batches->empty();
  if (batches->empty()) return absl::OkStatus();
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
  std::unique_ptr<grpc::ClientReaderWriterInterface<v1::IngestCatalogRequest,
                                                    v1::IngestCatalogResponse>>
      stream = trainer_->IngestCatalog(&context);
  size_t written = 0;
  for (const v1::IngestCatalogRequest& batch : *batches) {
    if (!stream->Write(batch)) break;
    ++written;
  }
  if (written == batches->size()) stream->WritesDone();
  size_t acked = 0;
  v1::IngestCatalogResponse ack;
  absl::Status local;
  while (stream->Read(&ack)) {
    local.Update(state_->AckOutbox(ack.batch_id()));
    ++acked;
    ++acknowledged_;
  }
  absl::Status status = FromGrpcStatus(stream->Finish());
  if (!local.ok()) return local;
  if (!status.ok()) return status;
  if (acked != batches->size()) {
    return absl::UnavailableError(absl::StrCat("the trainer acknowledged ", acked, " of ",
                                               batches->size(), " batches"));
  }
  return absl::OkStatus();
}

}  // namespace cratedig::ingest
