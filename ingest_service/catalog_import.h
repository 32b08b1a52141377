#pragma once

// The import pipeline shared by ingestd and the `cratedig import` CLI: read catalog files
// and stream their tracks and artists to the trainer over one IngestCatalog stream.

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cratedig/v1/catalog_service.grpc.pb.h"
#include "cratedig/v1/ingest_service.pb.h"

namespace cratedig::ingest {

/// How ImportCatalogFiles runs.
struct ImportOptions {
  /// Rows (tracks plus artists) per IngestCatalog batch; a file's last batch may be
  /// smaller.
  int batch_size = 1000;
  /// Called once per file with one line: name, format, rows, errors (or why it was
  /// skipped). May be empty. Called on the importing thread.
  std::function<void(const std::string&)> progress;
  /// Deadline for the whole IngestCatalog stream.
  absl::Duration rpc_timeout = absl::Minutes(30);
  /// The call this import serves, if any: its cancellation (and deadline) cancels the
  /// stream to the trainer, so the import stops when its caller goes away.
  grpc::ServerContext* parent = nullptr;

  /// Returns InvalidArgumentError when batch_size or rpc_timeout is not positive.
  absl::Status Validate() const;
};

/// The most row errors an ImportSummary keeps; rows_skipped counts them all.
inline constexpr int kMaxRowErrorsKept = 100;

/// Import `paths` (plain, .gz or .xz catalog CSVs) into the trainer behind `trainer`.
///
/// Every file is opened and its format recognised before anything is sent, so a missing
/// file (NotFound) or an unknown header (InvalidArgument) imports nothing. Aggregate
/// tables (data_by_genres.csv, data_by_year.csv) are skipped: they appear in `errors` as
/// one entry with line 0 and column 0. Unreadable rows are counted in rows_skipped and
/// the first kMaxRowErrorsKept are listed in `errors`.
///
/// Returns OK only when the trainer acknowledged every batch sent. When the stream fails,
/// the trainer's status code is returned with a message saying how many batches were
/// acknowledged (those are durable; sending the files again is safe, the trainer
/// upserts). Thread-safe (each call uses its own stream); `trainer` must outlive the
/// call.
absl::StatusOr<cratedig::v1::ImportSummary> ImportCatalogFiles(
    const std::vector<std::string>& paths,
    cratedig::v1::CatalogService::StubInterface* trainer, const ImportOptions& options);

}  // namespace cratedig::ingest
