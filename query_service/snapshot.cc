#include "query_service/snapshot.h"

#include <algorithm>
#include <fstream>

#include "absl/strings/str_cat.h"
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

absl::StatusOr<v1::TrackTable> ReadTrackTable(const std::string& path) {
  v1::TrackTable table;
  if (!ReadMessage(path, &table)) {
    return absl::DataLossError(absl::StrCat("track table ", path, " cannot be read"));
  }
  if (table.representative_size() != table.tracks_size() ||
      table.recommendable_size() != table.tracks_size()) {
    return absl::DataLossError(absl::StrCat("track table ", path, " is inconsistent"));
  }
  for (int64_t rep : table.representative()) {
    if (rep < 0 || rep >= table.tracks_size()) {
      return absl::DataLossError(absl::StrCat("track table ", path, " is inconsistent"));
    }
  }
  return table;
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

}  // namespace

absl::StatusOr<std::shared_ptr<const Snapshot>> Snapshot::Load(const std::string& dir) {
  auto manifest = ReadManifest(dir);
  if (!manifest.ok()) return manifest.status();
  if (auto s = VerifySnapshotFiles(dir, *manifest); !s.ok()) return s;
  const v1::Preprocessing& p = manifest->preprocessing();
  if (p.text_embedder() != TextEmbedder::kId) {
    return absl::FailedPreconditionError(
        absl::StrCat("snapshot ", manifest->version(), " uses text embedder '",
                     p.text_embedder(), "', this build knows '", TextEmbedder::kId, "'"));
  }
  auto embedder = TextEmbedder::FromIdf({p.text_idf().begin(), p.text_idf().end()});
  if (!embedder.ok()) return embedder.status();
  auto features = FeatureModel::FromProto(p);
  if (!features.ok()) return features.status();
  auto table = ReadTrackTable(dir + "/tracks.binpb");
  if (!table.ok()) return table.status();

  std::shared_ptr<Snapshot> snapshot(new Snapshot(
      *manifest, std::move(*table), std::move(*embedder), std::move(*features)));
  const int64_t n = snapshot->size();
  auto text = LoadIndex(dir, manifest->search_index(), snapshot->embedder_.dim(), n);
  if (!text.ok()) return text.status();
  auto audio = LoadIndex(dir, manifest->recommend_index(), snapshot->features_.dim(), n);
  if (!audio.ok()) return audio.status();
  (*audio)->SetEf(manifest->recommend_index().ef_search());
  if (manifest->has_lexical_index()) {
    auto lexical = LoadLexicalIndex(dir, manifest->lexical_index(), snapshot->table_);
    if (!lexical.ok()) return lexical.status();
    snapshot->lexical_ = std::move(*lexical);
  }
  snapshot->text_index_ = std::move(*text);
  snapshot->audio_index_ = std::move(*audio);
  snapshot->columns_ = TrackColumns::Build(snapshot->table_);
  snapshot->by_id_.reserve(n);
  for (int64_t i = 0; i < n; ++i) snapshot->by_id_.emplace(snapshot->track(i).id(), i);
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

std::optional<int64_t> Snapshot::Find(const std::string& id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

}  // namespace cratedig::query
