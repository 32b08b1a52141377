#include "ingest_service/catalog_import.h"

#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "ingest_service/ack_reader_internal.h"
#include "ingest_service/catalog_reader.h"

namespace cratedig::ingest {
namespace {

// One import: owns the stream, the acknowledgement reader and the batch being filled.
class Importer {
 public:
  Importer(v1::CatalogService::StubInterface* trainer, const ImportOptions& options)
      : trainer_(trainer), options_(options) {}

  absl::StatusOr<v1::ImportSummary> Run(const std::vector<std::string>& paths);

 private:
  // Returns a local failure (I/O, decompression); a broken stream only sets broken_.
  absl::Status ImportFile(const std::string& path);
  absl::Status ReadRows(CatalogReader& reader);
  void AddRow(CatalogRow& row);
  // Sends the batch if it has rows; false when the stream is broken.
  bool Flush();
  // Sends the playlists of the file just read, after its tracks.
  bool SendPlaylists();
  void Report(const CatalogReader& reader);
  absl::StatusOr<v1::ImportSummary> Finish(const absl::Status& local);
  std::string Progress() const;

  v1::CatalogService::StubInterface* trainer_;
  const ImportOptions& options_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<AckReader::Stream> stream_;
  std::unique_ptr<AckReader> acks_;
  v1::IngestCatalogRequest batch_;
  // Playlists of the file being read: one per id, each track once in first-seen order.
  std::vector<v1::Playlist> playlists_;
  absl::flat_hash_map<std::string, size_t> playlist_index_;
  absl::flat_hash_set<std::pair<size_t, std::string>> playlist_entries_;
  int64_t sent_ = 0;
  bool broken_ = false;
  v1::ImportSummary summary_;
};

absl::Status Preflight(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    absl::StatusOr<std::unique_ptr<CatalogReader>> reader = CatalogReader::Open(path);
    if (!reader.ok()) return reader.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ImportSummary> Importer::Run(const std::vector<std::string>& paths) {
  absl::Status status = Preflight(paths);
  if (!status.ok()) return status;
  context_ = options_.parent != nullptr
                 ? grpc::ClientContext::FromServerContext(*options_.parent)
                 : std::make_unique<grpc::ClientContext>();
  if (options_.rpc_timeout != absl::InfiniteDuration()) {
    context_->set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
  }
  stream_ = trainer_->IngestCatalog(context_.get());
  acks_ = std::make_unique<AckReader>(stream_.get());
  for (const std::string& path : paths) {
    status = ImportFile(path);
    if (!status.ok() || broken_) break;
  }
  return Finish(status);
}

absl::Status Importer::ImportFile(const std::string& path) {
  absl::StatusOr<std::unique_ptr<CatalogReader>> reader = CatalogReader::Open(path);
  if (!reader.ok()) return reader.status();
  if ((*reader)->kind() == TableKind::kAggregate) {
    v1::RowError* skipped = summary_.add_errors();
    skipped->set_file(path);
    skipped->set_message(absl::StrCat("skipped: ", (*reader)->skip_reason()));
    if (options_.progress) {
      options_.progress(absl::StrCat(path, ": ", (*reader)->format_name(),
                                     " skipped: ", (*reader)->skip_reason()));
    }
    return absl::OkStatus();
  }
  batch_.set_source(path);
  playlists_.clear();
  playlist_index_.clear();
  playlist_entries_.clear();
  absl::Status status = ReadRows(**reader);
  if (!status.ok()) return status;
  if (!SendPlaylists()) return absl::OkStatus();
  if (!broken_) Report(**reader);
  return absl::OkStatus();
}

absl::Status Importer::ReadRows(CatalogReader& reader) {
  CatalogRow row;
  for (;;) {
    absl::StatusOr<bool> more = reader.Next(&row);
    if (!more.ok()) return more.status();
    if (!*more) break;
    AddRow(row);
    if (batch_.tracks_size() + batch_.artists_size() >= options_.batch_size && !Flush()) {
      return absl::OkStatus();
    }
  }
  Flush();
  return absl::OkStatus();
}

void Importer::AddRow(CatalogRow& row) {
  summary_.set_rows_read(summary_.rows_read() + 1);
  switch (row.kind) {
    case CatalogRow::Kind::kTrack:
      if (!row.playlist_id.empty()) {
        auto [it, added] = playlist_index_.emplace(row.playlist_id, playlists_.size());
        if (added) {
          v1::Playlist& p = playlists_.emplace_back();
          p.set_id(row.playlist_id);
          p.set_name(row.playlist_name);
          p.set_source(row.playlist_source);
        }
        if (playlist_entries_.emplace(it->second, row.track.id()).second) {
          playlists_[it->second].add_track_ids(row.track.id());
        }
      }
      batch_.add_tracks()->Swap(&row.track);
      break;
    case CatalogRow::Kind::kArtist:
      batch_.add_artists()->Swap(&row.artist);
      break;
    case CatalogRow::Kind::kError:
      summary_.set_rows_skipped(summary_.rows_skipped() + 1);
      if (summary_.errors_size() < kMaxRowErrorsKept) *summary_.add_errors() = row.error;
      break;
  }
}

bool Importer::SendPlaylists() {
  // A playlist weighs as a row plus a tenth of a row per track, so that a batch of long
  // playlists stays far below gRPC's message size limit.
  int64_t weight = 0;
  for (v1::Playlist& p : playlists_) {
    weight += 1 + p.track_ids_size() / 10;
    batch_.add_playlists()->Swap(&p);
    if (weight >= options_.batch_size) {
      if (!Flush()) return false;
      weight = 0;
    }
  }
  playlists_.clear();
  return Flush();
}

bool Importer::Flush() {
  if (broken_) return false;
  if (batch_.tracks_size() + batch_.artists_size() + batch_.playlists_size() == 0) {
    return true;
  }
  batch_.set_batch_id(sent_ + 1);
  acks_->Expect(batch_.batch_id());
  if (!stream_->Write(batch_)) {
    broken_ = true;
    return false;
  }
  ++sent_;
  batch_.clear_tracks();
  batch_.clear_artists();
  batch_.clear_playlists();
  return true;
}

void Importer::Report(const CatalogReader& reader) {
  if (!options_.progress) return;
  const CatalogReaderStats& s = reader.stats();
  options_.progress(absl::StrCat(
      reader.path(), ": ", reader.format_name(), " rows=", s.rows, " tracks=", s.tracks,
      " artists=", s.artists, " errors=", s.errors,
      playlist_index_.empty() ? ""
                              : absl::StrCat(" playlists=", playlist_index_.size())));
}

std::string Importer::Progress() const {
  return absl::StrCat(acks_->acknowledged(), " of ", sent_, " batches were acknowledged");
}

absl::StatusOr<v1::ImportSummary> Importer::Finish(const absl::Status& local) {
  if (!local.ok()) {
    context_->TryCancel();
  } else if (!broken_) {
    stream_->WritesDone();
  }
  acks_->Join();
  grpc::Status status = stream_->Finish();
  if (!local.ok()) {
    return absl::Status(local.code(), absl::StrCat(local.message(), " (import stopped; ",
                                                   Progress(), ")"));
  }
  if (!status.ok()) {
    absl::Status s = FromGrpcStatus(status);
    return absl::Status(
        s.code(), absl::StrCat("IngestCatalog stream to the trainer failed; ", Progress(),
                               ": ", s.message()));
  }
  absl::Status protocol = acks_->protocol_status();
  if (!protocol.ok()) return protocol;
  if (broken_ || acks_->acknowledged() != sent_) {
    return absl::UnavailableError(
        absl::StrCat("the trainer closed the IngestCatalog stream early; ", Progress(),
                     "; import the files again (batches are upserts)"));
  }
  acks_->AddCountsTo(&summary_);
  return std::move(summary_);
}

}  // namespace

absl::Status ImportOptions::Validate() const {
  if (batch_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch_size must be positive, got ", batch_size));
  }
  if (rpc_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("rpc_timeout must be positive");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ImportSummary> ImportCatalogFiles(
    const std::vector<std::string>& paths, v1::CatalogService::StubInterface* trainer,
    const ImportOptions& options) {
  if (paths.empty()) return absl::InvalidArgumentError("paths must not be empty");
  if (trainer == nullptr)
    return absl::InvalidArgumentError("trainer stub must not be null");
  absl::Status valid = options.Validate();
  if (!valid.ok()) return valid;
  Importer importer(trainer, options);
  return importer.Run(paths);
}

}  // namespace cratedig::ingest
