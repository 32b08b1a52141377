#pragma once

// A snapshot loaded for serving: the track table, the fitted preprocessing and both
// indexes. Immutable once loaded, shared between requests as std::shared_ptr<const
// Snapshot>.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "common/ann.h"
#include "common/block_scan.h"
#include "common/features.h"
#include "common/lexical_index.h"
#include "common/text_embedder.h"
#include "common/word_vectors.h"
#include "cratedig/v1/snapshot.pb.h"
#include "google/protobuf/arena.h"
#include "query_service/track_filter.h"

namespace cratedig::query {

class Snapshot {
 public:
  /// Verify every file of the snapshot directory against its manifest (size, CRC-32,
  /// format, index dimensions), then load it. DataLoss for corrupt or truncated files.
  /// `verify_checksums` false skips the CRC-32 pass (sizes, formats and dimensions are
  /// still checked): for a directory the caller has just verified, as SnapshotSync does
  /// right after installing a fetched snapshot.
  static absl::StatusOr<std::shared_ptr<const Snapshot>> Load(
      const std::string& dir, bool verify_checksums = true);

  const v1::SnapshotManifest& manifest() const { return manifest_; }
  const std::string& version() const { return manifest_.version(); }
  int64_t size() const { return table_->tracks_size(); }
  const v1::Track& track(int64_t position) const { return table_->tracks(position); }
  /// Position of the track with this Spotify id.
  std::optional<int64_t> Find(absl::string_view id) const;
  /// Position of the track representing this one's duplicate group in the indexes.
  int64_t representative(int64_t position) const {
    return table_->representative(position);
  }
  bool recommendable(int64_t position) const { return table_->recommendable(position); }

  const AnnIndex& text_index() const { return *text_index_; }
  const AnnIndex& audio_index() const { return *audio_index_; }
  /// The exact bounded scan over audio_index(), built in the background from the end of
  /// Load (about 1 s at 1.2M tracks): waits for it. Null when the index is exhaustive
  /// (scanned whole: IndexInfo.exhaustive). Thread-safe.
  /// Also null if the build failed (out of memory).
  const BlockScan* audio_blocks() const {
    if (audio_blocks_ == nullptr) return nullptr;
    audio_blocks_->built.WaitForNotification();
    return audio_blocks_->blocks.get();
  }
  /// audio_blocks() if built by now, else null. Thread-safe.
  const BlockScan* audio_blocks_if_built() const {
    return audio_blocks_ != nullptr && audio_blocks_->built.HasBeenNotified()
               ? audio_blocks_->blocks.get()
               : nullptr;
  }
  /// Waits for the blocks' build, which reads the audio index.
  ~Snapshot();
  /// What embeds a query for the search index: the hashed embedder or the snapshot's word
  /// vectors, as the trainer embedded the names.
  const NameEmbedder& embedder() const { return *embedder_; }
  /// The lexical index; null for snapshots written before it existed.
  const LexicalIndex* lexical_index() const { return lexical_.get(); }
  /// The vector a playlist track contributes to a recommendation query, in the
  /// recommendation index's space (audio_index().dim() wide); empty when the track has
  /// none (no complete audio features). For the prototype's snapshots (no feature
  /// weights, no playlist co-occurrence) the track's scaled feature row before
  /// normalisation, as the prototype averaged; otherwise the unit vector the index holds
  /// for the track's duplicate group, which blends what the playlists learnt.
  std::vector<float> RecommendRow(int64_t position) const;
  /// RecommendRow scaled to unit length: the track's vector in the recommendation index's
  /// space (for a recommendable track, the vector the index holds). Empty when none.
  std::vector<float> RecommendVector(int64_t position) const;
  const FeatureModel& features() const { return features_; }
  /// The tracks' filterable attributes as columns (see track_filter.h).
  const TrackColumns& columns() const { return columns_; }

 private:
  Snapshot(v1::SnapshotManifest manifest, std::unique_ptr<const NameEmbedder> embedder,
           FeatureModel features)
      : manifest_(std::move(manifest)),
        embedder_(std::move(embedder)),
        features_(std::move(features)) {}

  v1::SnapshotManifest manifest_;
  // The track table lives on an arena: parsed in parallel, freed at once.
  std::unique_ptr<google::protobuf::Arena> arena_;
  v1::TrackTable* table_ = nullptr;
  std::unique_ptr<const NameEmbedder> embedder_;
  FeatureModel features_;
  TrackColumns columns_;
  // Positions by Spotify id, a hash table built once and read-only after, which builds
  // in a tenth of a flat_hash_map's time: bucket b (the top bits of the id's hash) holds
  // the positions id_positions_[id_buckets_[b], id_buckets_[b + 1]), ascending.
  void SizeIdIndex(size_t n);  // before IdBucket
  uint32_t IdBucket(absl::string_view id) const;
  void IndexIds(const std::vector<uint32_t>& bucket);  // bucket[i]: track i's
  int id_shift_ = 63;
  std::vector<uint32_t> id_buckets_;
  std::vector<uint32_t> id_positions_;
  std::unique_ptr<AnnIndex> text_index_;
  std::unique_ptr<AnnIndex> audio_index_;
  // The blocks, built on a detached thread that shares this (a thread left unjoined by a
  // snapshot that lives to the end of the process would be reported as leaked); `blocks`
  // is set before `built` is notified.
  struct BlockBuild {
    absl::Notification built;
    std::unique_ptr<const BlockScan> blocks;
  };
  std::shared_ptr<BlockBuild> audio_blocks_;
  std::unique_ptr<LexicalIndex> lexical_;
};

}  // namespace cratedig::query
