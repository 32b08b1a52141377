#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "ingest_service/ack_reader_internal.h"

namespace cratedig::ingest {

AckReader::AckReader(Stream* stream) : stream_(stream), thread_([this] { Run(); }) {}

AckReader::~AckReader() { CD_CHECK(!thread_.joinable()) << "AckReader not joined"; }

void AckReader::Expect(int64_t batch_id) {
  absl::MutexLock lock(&mu_);
  pending_.insert(batch_id);
}

void AckReader::Join() {
  if (thread_.joinable()) thread_.join();
}

void AckReader::Run() {
  v1::IngestCatalogResponse ack;
  while (stream_->Read(&ack)) {
    absl::MutexLock lock(&mu_);
    if (pending_.erase(ack.batch_id()) == 0) {
      if (protocol_status_.ok()) {
        protocol_status_ = absl::InternalError(absl::StrCat(
            "the trainer acknowledged batch ", ack.batch_id(), ", which is not pending"));
      }
      continue;
    }
    ++acknowledged_;
    counts_.set_tracks_inserted(counts_.tracks_inserted() + ack.tracks_inserted());
    counts_.set_tracks_updated(counts_.tracks_updated() + ack.tracks_updated());
    counts_.set_tracks_unchanged(counts_.tracks_unchanged() + ack.tracks_unchanged());
    counts_.set_artists_upserted(counts_.artists_upserted() + ack.artists_upserted());
    counts_.set_playlists_upserted(counts_.playlists_upserted() +
                                   ack.playlists_upserted());
  }
}

int64_t AckReader::acknowledged() const {
  absl::MutexLock lock(&mu_);
  return acknowledged_;
}

absl::Status AckReader::protocol_status() const {
  absl::MutexLock lock(&mu_);
  return protocol_status_;
}

void AckReader::AddCountsTo(v1::ImportSummary* summary) const {
  absl::MutexLock lock(&mu_);
  summary->set_tracks_inserted(summary->tracks_inserted() + counts_.tracks_inserted());
  summary->set_tracks_updated(summary->tracks_updated() + counts_.tracks_updated());
  summary->set_tracks_unchanged(summary->tracks_unchanged() + counts_.tracks_unchanged());
  summary->set_artists_upserted(summary->artists_upserted() + counts_.artists_upserted());
  summary->set_playlists_upserted(summary->playlists_upserted() +
                                  counts_.playlists_upserted());
}

}  // namespace cratedig::ingest
