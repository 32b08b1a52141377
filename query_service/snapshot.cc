#include "query_service/snapshot.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <functional>
#include <new>
#include <numeric>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "common/daemon.h"
#include "common/logging.h"
#include "common/parallel.h"
#include "common/snapshot.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl.h"

namespace cratedig::query {
namespace {

bool ReadMessage(const std::string& path, google::protobuf::Message* message) {
  std::ifstream in(path, std::ios::binary);
  // Checked before reading: the coded stream may read a small file to its end (setting
  // eof and fail) as soon as it is constructed.
  if (!in.is_open()) return false;
  google::protobuf::io::IstreamInputStream stream(&in);
  google::protobuf::io::CodedInputStream coded(&stream);
  coded.SetTotalBytesLimit(std::numeric_limits<int>::max());
  return message->ParseFromCodedStream(&coded);
}

absl::Status TableError(const std::string& path, absl::string_view why) {
  return absl::DataLossError(absl::StrCat("track table ", path, " ", why));
}

// A protobuf varint at p (before end); nullptr when malformed or cut short.
const char* ReadVarint(const char* p, const char* end, uint64_t* value) {
  uint64_t v = 0;
  for (int shift = 0; p < end && shift < 64; shift += 7) {
    const auto byte = static_cast<uint8_t>(*p++);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = v;
      return p;
    }
  }
  return nullptr;
}

// Parses tracks.binpb (a TrackTable) into `table`, which lives on `arena` and copies
// what it keeps of the file (protobuf never aliases its input). The file's
// top-level fields are walked by hand, so a table above protobuf's 2 GiB message limit
// (10M tracks) reads as well; the tracks, by far the bulk, are parsed in parallel.
// Once the tracks are counted, `begin(n)`; then `each(i, track)` for every track as it
// is parsed, from the parsing threads (so while it is still in cache).
absl::Status ParseTrackTable(const std::string& path, google::protobuf::Arena* arena,
                             v1::TrackTable* table,
                             const std::function<void(size_t)>& begin,
                             const std::function<void(size_t, const v1::Track&)>& each) {
  // Mapped, not read: the parsing threads page the file in as they go.
  absl::StatusOr<MappedFile> bytes = MappedFile::Open(path, /*populate=*/false);
  if (!bytes.ok()) return TableError(path, "cannot be read");
  const char* p = bytes->data();
  const char* const end = p + bytes->size();
  std::vector<std::pair<const char*, size_t>> tracks;  // serialized Track messages
  std::string rest;  // every other field, parsed at the end
  while (p < end) {
    const char* field = p;
    uint64_t tag, length;
    if ((p = ReadVarint(p, end, &tag)) == nullptr) return TableError(path, "is corrupt");
    if ((tag & 7) != 2) return TableError(path, "has an unexpected field");
    if ((p = ReadVarint(p, end, &length)) == nullptr || length > uint64_t(end - p)) {
      return TableError(path, "is truncated");
    }
    if (tag >> 3 == 1) {
      tracks.emplace_back(p, static_cast<size_t>(length));
    } else {
      rest.append(field, p + length);  // packed representative / recommendable
    }
    p += length;
  }
  if (!table->ParseFromString(rest)) return TableError(path, "cannot be parsed");
  begin(tracks.size());
  std::vector<v1::Track*> parsed(tracks.size(), nullptr);
  std::atomic<bool> failed{false};
  const int threads = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
  ParallelFor(tracks.size(), threads, [&](size_t begin, size_t end_index) {
    for (size_t i = begin; i < end_index; ++i) {
      parsed[i] = google::protobuf::Arena::CreateMessage<v1::Track>(arena);
      if (!parsed[i]->ParseFromArray(tracks[i].first,
                                     static_cast<int>(tracks[i].second))) {
        failed = true;
      } else {
        each(i, *parsed[i]);
      }
    }
  });
  if (failed) return TableError(path, "holds a track that cannot be parsed");
  table->mutable_tracks()->Reserve(static_cast<int>(parsed.size()));
  for (v1::Track* t : parsed) table->mutable_tracks()->UnsafeArenaAddAllocated(t);
  if (table->representative_size() != table->tracks_size() ||
      table->recommendable_size() != table->tracks_size()) {
    return TableError(path, "is inconsistent");
  }
  for (int64_t rep : table->representative()) {
    if (rep < 0 || rep >= table->tracks_size())
      return TableError(path, "is inconsistent");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AnnIndex>> LoadIndex(const std::string& dir,
                                                    const v1::IndexInfo& info,
                                                    int expected_dim, int64_t tracks) {
  if (info.dim() != expected_dim || info.space() != "cosine") {
    return absl::DataLossError(absl::StrCat("index ", info.file(), " has dim ",
                                            info.dim(), ", preprocessing gives ",
                                            expected_dim));
  }
  auto index = AnnIndex::Load(absl::StrCat(dir, "/", info.file()), info.dim());
  if (!index.ok()) return index.status();
  if ((*index)->size() != info.elements() || info.elements() > tracks) {
    return absl::DataLossError(absl::StrCat("index ", info.file(), " holds ",
                                            (*index)->size(), " vectors, manifest says ",
                                            info.elements()));
  }
  return index;
}

absl::StatusOr<std::unique_ptr<LexicalIndex>> LoadLexicalIndex(
    const std::string& dir, const v1::LexicalIndexInfo& info,
    const v1::TrackTable& table) {
  if (info.analyzer() != LexicalIndex::kAnalyzer) {
    return absl::FailedPreconditionError(
        absl::StrCat("lexical index uses analyzer '", info.analyzer(),
                     "', this build knows '", LexicalIndex::kAnalyzer, "'"));
  }
  v1::LexicalIndex proto;
  const std::string path = absl::StrCat(dir, "/", info.file());
  if (!ReadMessage(path, &proto)) {
    return absl::DataLossError(absl::StrCat("lexical index ", path, " cannot be read"));
  }
  std::vector<int8_t> popularity(table.tracks_size(), -1);
  for (int i = 0; i < table.tracks_size(); ++i) {
    if (table.tracks(i).has_popularity()) {
      popularity[i] =
          static_cast<int8_t>(std::clamp(table.tracks(i).popularity(), 0, 100));
    }
  }
  auto index = LexicalIndex::FromProto(proto, std::move(popularity));
  if (!index.ok()) return index.status();
  return std::make_unique<LexicalIndex>(std::move(*index));
}

// The embedder the manifest names: the hashed one from its IDF table, or the word vectors
// of its word vectors file.
absl::StatusOr<std::unique_ptr<const NameEmbedder>> LoadEmbedder(
    const std::string& dir, const v1::SnapshotManifest& manifest) {
  const v1::Preprocessing& p = manifest.preprocessing();
  if (p.text_embedder() == TextEmbedder::kId) {
    auto embedder = TextEmbedder::FromIdf({p.text_idf().begin(), p.text_idf().end()});
    if (!embedder.ok()) return embedder.status();
    return std::make_unique<const TextEmbedder>(std::move(*embedder));
  }
  if (p.text_embedder() != WordVectors::kId &&
      p.text_embedder() != HashedAndWordVectors::kId) {
    return absl::FailedPreconditionError(absl::StrCat(
        "snapshot ", manifest.version(), " uses text embedder '", p.text_embedder(),
        "', this build knows '", TextEmbedder::kId, "', '", WordVectors::kId, "' and '",
        HashedAndWordVectors::kId, "'"));
  }
  v1::WordVectors proto;
  const std::string path = absl::StrCat(dir, "/", manifest.word_vectors().file());
  if (manifest.word_vectors().file().empty() || !ReadMessage(path, &proto)) {
    return absl::DataLossError(absl::StrCat("word vectors ", path, " cannot be read"));
  }
  auto vectors = WordVectors::FromProto(proto);
  if (!vectors.ok()) {
    return absl::DataLossError(absl::StrCat(path, ": ", vectors.status().message()));
  }
  if (p.text_embedder() == WordVectors::kId) {
    return std::make_unique<const WordVectors>(std::move(*vectors));
  }
  auto hashed = TextEmbedder::FromIdf({p.text_idf().begin(), p.text_idf().end()});
  if (!hashed.ok()) return hashed.status();
  auto blended = HashedAndWordVectors::Create(std::move(*hashed), std::move(*vectors),
                                              manifest.word_vectors().blend());
  if (!blended.ok()) return absl::DataLossError(blended.status().message());
  return std::make_unique<const HashedAndWordVectors>(std::move(*blended));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Snapshot>> Snapshot::Load(const std::string& dir,
                                                               bool verify_checksums) {
  auto manifest = ReadManifest(dir);
  if (!manifest.ok()) return manifest.status();
  if (auto s = verify_checksums ? VerifySnapshotFiles(dir, *manifest)
                                : VerifySnapshotFileSizes(dir, *manifest);
      !s.ok()) {
    return s;
  }
  const v1::Preprocessing& p = manifest->preprocessing();
  auto embedder = LoadEmbedder(dir, *manifest);
  if (!embedder.ok()) return embedder.status();
  auto features = FeatureModel::FromProto(p);
  if (!features.ok()) return features.status();
  std::shared_ptr<Snapshot> snapshot(
      new Snapshot(*manifest, std::move(*embedder), std::move(*features)));
  // The two indexes load on their own threads while this one parses the track table.
  const int64_t listed = std::max(manifest->search_index().elements(),
                                  manifest->recommend_index().elements());
  absl::StatusOr<std::unique_ptr<AnnIndex>> text, audio;
  std::thread text_loader([&] {
    text = LoadIndex(dir, manifest->search_index(), snapshot->embedder_->dim(), listed);
  });
  std::thread audio_loader([&] {
    audio = LoadIndex(dir, manifest->recommend_index(),
                      snapshot->features_.dim() + manifest->cooccurrence().dim(), listed);
  });
  snapshot->arena_ = std::make_unique<google::protobuf::Arena>();
  snapshot->table_ =
      google::protobuf::Arena::CreateMessage<v1::TrackTable>(snapshot->arena_.get());
  // The numeric columns and the ids' hashes are taken from each track as it is parsed.
  std::optional<TrackColumns::Builder> columns;
  std::vector<uint32_t> id_buckets;
  absl::Status parsed = ParseTrackTable(
      dir + "/tracks.binpb", snapshot->arena_.get(), snapshot->table_,
      [&](size_t n) {
        columns.emplace(static_cast<int64_t>(n));
        snapshot->SizeIdIndex(n);
        id_buckets.resize(n);
      },
      [&](size_t i, const v1::Track& track) {
        columns->AddNumeric(static_cast<int64_t>(i), track);
        id_buckets[i] = snapshot->IdBucket(track.id());
      });
  const int64_t n = snapshot->size();
  // The rest is built on two threads: the columns' genres and artists on this one (which
  // starts another), the id index and the lexical index on a third.
  absl::StatusOr<std::unique_ptr<LexicalIndex>> lexical = nullptr;
  if (parsed.ok()) {
    std::thread side([&] {
      snapshot->IndexIds(id_buckets);
      if (manifest->has_lexical_index()) {
        lexical = LoadLexicalIndex(dir, manifest->lexical_index(), *snapshot->table_);
      }
    });
    snapshot->columns_ = std::move(*columns).Finish(*snapshot->table_);
    side.join();
  }
  text_loader.join();
  audio_loader.join();
  if (!parsed.ok()) return parsed;
  if (!text.ok()) return text.status();
  if (!audio.ok()) return audio.status();
  if (!lexical.ok()) return lexical.status();
  for (const auto* info : {&manifest->search_index(), &manifest->recommend_index()}) {
    if (info->elements() > n) {
      return absl::DataLossError(absl::StrCat("index ", info->file(), " lists ",
                                              info->elements(), " vectors for ", n,
                                              " tracks"));
    }
  }
  // A label is a row of the track table; one beyond it would be read out of bounds.
  if (!(*text)->LabelsBelow(n) || !(*audio)->LabelsBelow(n)) {
    return absl::DataLossError(absl::StrCat("snapshot ", manifest->version(),
                                            ": an index names a track beyond the ", n,
                                            " in tracks.binpb"));
  }
  (*audio)->SetEf(manifest->recommend_index().ef_search());
  snapshot->lexical_ = std::move(*lexical);
  snapshot->text_index_ = std::move(*text);
  snapshot->audio_index_ = std::move(*audio);
  if (!manifest->recommend_index().exhaustive() && snapshot->audio_index_->size() > 0) {
    // Built while the snapshot serves (about 1 s at 1.2M tracks). The genre block is
    // mostly zeros unless it is the dense embedding; the playlist co-occurrence columns
    // after it are dense.
    const auto [first, end] = snapshot->features_.OneHotGenreColumns();
    const AnnIndex* index = snapshot->audio_index_.get();
    auto build = std::make_shared<BlockBuild>();
    snapshot->audio_blocks_ = build;
    std::thread([build, index, first = first, end = end] {
      try {
        build->blocks =
            std::make_unique<const BlockScan>(BlockScan::Build(*index, first, end));
      } catch (const std::bad_alloc&) {
        CD_LOG(WARNING) << "no memory for Recommend's exact blocks: the graph answers";
      }
      ReleaseFreedMemory();  // the build's temporaries
      build->built.Notify();
    }).detach();
  }
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

Snapshot::~Snapshot() {
  if (audio_blocks_ != nullptr) audio_blocks_->built.WaitForNotification();
}

std::vector<float> Snapshot::RecommendRow(int64_t position) const {
  if (!manifest_.preprocessing().has_weights() && !manifest_.has_cooccurrence()) {
    const v1::Track& t = track(position);
    if (!FeatureModel::HasCompleteAudio(t)) return {};
    return features_.TransformRaw(t);
  }
  const int64_t rep = representative(position);
  if (!recommendable(rep)) return {};
  auto v = audio_index_->Vector(rep);
  return v.ok() ? *std::move(v) : std::vector<float>();
}

std::vector<float> Snapshot::RecommendVector(int64_t position) const {
  std::vector<float> v = RecommendRow(position);
  if (!v.empty() && !NormalizeInPlace(&v)) v.clear();
  return v;
}

uint32_t Snapshot::IdBucket(absl::string_view id) const {
  return static_cast<uint32_t>(absl::Hash<absl::string_view>{}(id) >> id_shift_);
}

void Snapshot::SizeIdIndex(size_t n) {
  int bits = 1;  // at least as many buckets as tracks
  while ((size_t{1} << bits) < n) ++bits;
  id_shift_ = 64 - bits;
  id_buckets_.assign((size_t{1} << bits) + 1, 0);
}

void Snapshot::IndexIds(const std::vector<uint32_t>& bucket) {
  for (uint32_t b : bucket) ++id_buckets_[b + 1];
  std::partial_sum(id_buckets_.begin(), id_buckets_.end(), id_buckets_.begin());
  std::vector<uint32_t> next(id_buckets_.begin(), id_buckets_.end() - 1);
  id_positions_.resize(bucket.size());
  for (size_t i = 0; i < bucket.size(); ++i) {
    id_positions_[next[bucket[i]]++] = static_cast<uint32_t>(i);
  }
}

std::optional<int64_t> Snapshot::Find(absl::string_view id) const {
  const uint32_t b = IdBucket(id);
  for (uint32_t k = id_buckets_[b]; k < id_buckets_[b + 1]; ++k) {
    if (track(id_positions_[k]).id() == id) return id_positions_[k];
  }
  return std::nullopt;
}

}  // namespace cratedig::query
