#pragma once

// The acknowledgement side of an IngestCatalog stream, read on its own thread: gRPC flow
// control stops the writer when responses pile up unread, so acks must be drained while
// batches are still being written.

#include <cstdint>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "cratedig/v1/catalog_service.grpc.pb.h"
#include "cratedig/v1/ingest_service.pb.h"

namespace cratedig::ingest {

/// Reads IngestCatalogResponses until the stream ends, summing them. Thread-safe: the
/// writer calls Expect() while the reader thread runs. Does not own the stream.
class AckReader {
 public:
  using Stream = grpc::ClientReaderWriterInterface<v1::IngestCatalogRequest,
                                                   v1::IngestCatalogResponse>;

  /// Start reading `stream` on a new thread.
  explicit AckReader(Stream* stream);
  /// REQUIRES: Join() was called.
  ~AckReader();

  /// Note that batch `batch_id` is about to be written. Call before Write, so that an
  /// early acknowledgement is not taken for an unknown batch.
  void Expect(int64_t batch_id);
  /// Wait until the stream has no more responses (after WritesDone, a failure or a
  /// cancel).
  void Join();

  /// Returns the number of distinct batches acknowledged.
  int64_t acknowledged() const;
  /// Returns InternalError when the trainer acknowledged a batch that was never sent (or
  /// twice).
  absl::Status protocol_status() const;
  /// Add the acknowledged counts to `summary`.
  void AddCountsTo(v1::ImportSummary* summary) const;

 private:
  void Run();

  Stream* stream_;
  mutable absl::Mutex mu_;
  absl::flat_hash_set<int64_t> pending_ ABSL_GUARDED_BY(mu_);
  int64_t acknowledged_ ABSL_GUARDED_BY(mu_) = 0;
  v1::ImportSummary counts_ ABSL_GUARDED_BY(mu_);
  absl::Status protocol_status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace cratedig::ingest
