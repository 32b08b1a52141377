#include "trainer_service/snapshot_builder.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/ann.h"
#include "common/features.h"
#include "common/lexical_index.h"
#include "common/logging.h"
#include "common/parallel.h"
#include "common/snapshot.h"
#include "common/text.h"
#include "common/text_embedder.h"
#include "common/track_ids.h"
#include "common/word_vectors.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl.h"
#include "google/protobuf/wire_format_lite.h"

namespace cratedig::trainer {
namespace {

constexpr char kTracksFile[] = "tracks.binpb";
constexpr char kTextIndexFile[] = "text.hnsw";
constexpr char kAudioIndexFile[] = "audio.hnsw";
constexpr char kLexicalIndexFile[] = "lexical.binpb";
constexpr char kWordVectorsFile[] = "words.binpb";

// Vectors to index: labels and their rows, row-major, or (when `fill` is set) a function
// that computes the row of labels[i] and returns false to leave it out.
struct Rows {
  std::vector<int64_t> labels;
  std::vector<float> data;
  AnnIndex::RowFiller fill;
};

absl::StatusOr<v1::IndexInfo> BuildIndex(const Rows& rows, int dim, const BuildOptions& o,
                                         const std::string& path,
                                         const std::string& file) {
  auto index = AnnIndex::Create(dim, std::max<int64_t>(1, rows.labels.size()),
                                AnnParams{o.m, o.ef_construction});
  if (!index.ok()) return index.status();
  if (auto s = rows.fill ? (*index)->AddParallel(rows.labels, rows.fill, o.threads)
                         : (*index)->AddParallel(rows.labels, rows.data, o.threads);
      !s.ok()) {
    return s;
  }
  if (auto s = (*index)->Save(path); !s.ok()) return s;
  v1::IndexInfo info;
  info.set_file(file);
  info.set_dim(dim);
  info.set_elements((*index)->size());
  info.set_m(o.m);
  info.set_ef_construction(o.ef_construction);
  info.set_ef_search(o.ef_search);
  info.set_space("cosine");
  return info;
}

// The name vectors of `labels`, computed by the index builder's threads as they insert
// them (a matrix of them all would take 1 KiB per track); names without a letter or digit
// (zero vectors) are left out.
// `labels` must outlive the returned rows.
Rows EmbedNames(const std::vector<v1::Track>& tracks, const std::vector<int64_t>& labels,
                const NameEmbedder& embedder) {
  Rows rows;
  rows.labels = labels;
  rows.fill = [&tracks, &embedder, &labels](size_t i, float* row) {
    auto v = embedder.Embed(tracks[labels[i]].name());
    if (!v.ok() || std::all_of(v->begin(), v->end(), [](float x) { return x == 0; })) {
      return false;
    }
    std::copy(v->begin(), v->end(), row);
    return true;
  };
  return rows;
}

// The n-gram vectors of a fastText model are shipped in the snapshot up to this many
// floats (128 MB); a large pretrained model's are left out.
constexpr int64_t kMaxFileSubwordFloats = int64_t{32} << 20;

// The word vectors options ask for: learned from the titles and album names of the
// indexed tracks, or read from a file (a fastText model, .vec or GloVe .txt) keeping the
// words of the titles and the file's first word_vectors_max_words.
absl::StatusOr<WordVectors> MakeWordVectors(const std::vector<v1::Track>& tracks,
                                            const std::vector<int64_t>& indexed,
                                            const BuildOptions& options) {
  if (options.text_vectors == TextVectors::kFastText) {
    std::vector<std::string> texts;
    texts.reserve(2 * indexed.size());
    for (int64_t i : indexed) {
      texts.push_back(tracks[i].name());
      if (!tracks[i].album().name().empty()) texts.push_back(tracks[i].album().name());
    }
    return LearnWordVectors(texts, options.word_vectors);
  }
  absl::flat_hash_set<std::string> catalog_words;
  for (int64_t i : indexed) {
    absl::StatusOr<std::vector<std::string>> words = TextWords(tracks[i].name());
    if (words.ok()) catalog_words.insert(words->begin(), words->end());
  }
  auto keep = [&](absl::string_view word, int64_t rank) {
    return rank < options.word_vectors_max_words || catalog_words.contains(word);
  };
  if (IsFastTextModel(options.word_vectors_file)) {
    return ReadFastTextModel(options.word_vectors_file, keep, kMaxFileSubwordFloats);
  }
  return WordVectors::ReadTextFile(options.word_vectors_file, keep);
}

std::string WordVectorsSource(const BuildOptions& options) {
  if (options.text_vectors == TextVectors::kFastText) return "fasttext";
  return absl::StrCat(
      "file:", std::filesystem::path(options.word_vectors_file).filename().string());
}

absl::Status WriteMessage(const google::protobuf::Message& message,
                          const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !message.SerializeToOstream(&out)) {
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

// Writes the TrackTable `tracks` + `table` (its other fields) one track at a time: the
// same bytes as serializing the whole message, without protobuf's 2 GiB limit on one
// message (10M tracks take about 3 GB) and without a second copy of every track.
absl::Status WriteTrackTable(const std::vector<v1::Track>& tracks,
                             const v1::TrackTable& table, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  {
    google::protobuf::io::OstreamOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    for (const v1::Track& t : tracks) {
      coded.WriteTag(google::protobuf::internal::WireFormatLite::MakeTag(
          v1::TrackTable::kTracksFieldNumber,
          google::protobuf::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
      coded.WriteVarint32(static_cast<uint32_t>(t.ByteSizeLong()));
      t.SerializeWithCachedSizes(&coded);
    }
    table.SerializeWithCachedSizes(&coded);  // after ByteSizeLong, below
    if (coded.HadError()) return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

void AttachArtistGenres(const std::vector<v1::Artist>& artists,
                        std::vector<v1::Track>* tracks) {
  absl::flat_hash_map<std::string, const v1::Artist*> by_id, by_name;
  for (const v1::Artist& a : artists) {
    if (a.genres().empty()) continue;
    if (!a.id().empty()) by_id[a.id()] = &a;
    if (!a.name().empty()) by_name.emplace(a.name(), &a);
  }
  for (v1::Track& t : *tracks) {
    for (const v1::ArtistRef& ref : t.artists()) {
      const v1::Artist* a = nullptr;
      if (auto it = by_id.find(ref.id()); !ref.id().empty() && it != by_id.end()) {
        a = it->second;
      } else if (auto jt = by_name.find(ref.name()); jt != by_name.end()) {
        a = jt->second;
      }
      if (a == nullptr) continue;
      for (const std::string& g : a->genres()) {
        if (std::find(t.genres().begin(), t.genres().end(), g) == t.genres().end()) {
          t.add_genres(g);
        }
      }
    }
  }
}

std::vector<int64_t> ChooseRepresentatives(const std::vector<v1::Track>& tracks,
                                           int threads) {
  auto better = [&](int64_t a, int64_t b) {  // Is track a a better representative than b?
    bool fa = FeatureModel::HasCompleteAudio(tracks[a]);
    bool fb = FeatureModel::HasCompleteAudio(tracks[b]);
    if (fa != fb) return fa;
    int pa = tracks[a].has_popularity() ? tracks[a].popularity() : -1;
    int pb = tracks[b].has_popularity() ? tracks[b].popularity() : -1;
    if (pa != pb) return pa > pb;
    return a < b;
  };
  // The keys (Unicode normalisation of every name) are the costly part: computed in
  // parallel, then grouped in order.
  std::vector<std::string> keys(tracks.size());
  ParallelFor(tracks.size(), threads, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) keys[i] = DuplicateKey(tracks[i]);
  });
  absl::flat_hash_map<std::string, int64_t> best;
  best.reserve(tracks.size());
  for (int64_t i = 0; i < static_cast<int64_t>(tracks.size()); ++i) {
    auto [it, inserted] = best.emplace(keys[i], i);
    if (!inserted && better(i, it->second)) it->second = i;
  }
  std::vector<int64_t> rep(tracks.size());
  for (size_t i = 0; i < tracks.size(); ++i) rep[i] = best[keys[i]];
  return rep;
}

RecommendVectors BuildRecommendVectors(const std::vector<v1::Track>& tracks,
                                       const std::vector<int64_t>& representative,
                                       const std::vector<int64_t>& labels,
                                       const FeatureModel& features,
                                       const std::vector<v1::Playlist>& playlists,
                                       const BuildOptions& options,
                                       std::optional<v1::Cooccurrence>* info) {
  info->reset();
  const double blend = std::clamp(options.cooccurrence_blend, 0.0, 1.0);
  CooccurrenceEmbedding cooc;
  if (blend > 0.0) {
    // Items are the recommendable labels; a playlist's track ids map through their
    // duplicate group's representative.
    absl::flat_hash_map<std::string, int64_t> item_of_id;
    absl::flat_hash_map<int64_t, int64_t> item_of_label;
    for (size_t i = 0; i < labels.size(); ++i) {
      item_of_label[labels[i]] = static_cast<int64_t>(i);
    }
    for (size_t p = 0; p < tracks.size(); ++p) {
      auto it = item_of_label.find(representative[p]);
      if (it != item_of_label.end()) item_of_id[tracks[p].id()] = it->second;
    }
    std::vector<std::vector<int64_t>> lists;
    lists.reserve(playlists.size());
    for (const v1::Playlist& playlist : playlists) {
      std::vector<int64_t> items;
      for (const std::string& id : playlist.track_ids()) {
        if (auto it = item_of_id.find(id); it != item_of_id.end())
          items.push_back(it->second);
      }
      lists.push_back(std::move(items));
    }
    // Artists complement playlists; alone (a catalog without playlists) they would only
    // cost a factorisation of the whole catalog.
    const bool any_playlist = std::any_of(lists.begin(), lists.end(),
                                          [](const auto& l) { return l.size() >= 2; });
    if (options.cooccurrence_artists && any_playlist) {
      constexpr size_t kMaxArtistTracks = 100;
      absl::flat_hash_map<std::string, size_t> list_of_artist;
      for (size_t i = 0; i < labels.size(); ++i) {
        for (const v1::ArtistRef& a : tracks[labels[i]].artists()) {
          const std::string key = a.id().empty() ? "name:" + a.name() : a.id();
          if (a.id().empty() && a.name().empty()) continue;
          auto [it, added] = list_of_artist.emplace(key, lists.size());
          if (added) lists.emplace_back();
          if (lists[it->second].size() < kMaxArtistTracks) {
            lists[it->second].push_back(static_cast<int64_t>(i));
          }
        }
      }
    }
    cooc =
        FitCooccurrence(static_cast<int64_t>(labels.size()), lists, options.cooccurrence);
  }
  if (cooc.items > 0) {  // No playlist with two catalog tracks: content alone.
    v1::Cooccurrence c;
    c.set_method("ppmi-svd");
    c.set_playlists(cooc.playlists);
    c.set_tracks(cooc.items);
    c.set_dim(cooc.dim);
    c.set_blend(blend);
    c.set_fallback(options.cooccurrence_unit_fallback ? "unit" : "scaled");
    *info = c;
  }
  RecommendVectors out;
  const int content_dim = features.dim();
  const int cooc_dim = info->has_value() ? cooc.dim : 0;
  out.dim = content_dim + cooc_dim;
  out.rows.reserve(labels.size() * out.dim);
  const float content_scale = static_cast<float>(std::sqrt(1.0 - blend));
  const float cooc_scale = static_cast<float>(std::sqrt(blend));
  for (size_t i = 0; i < labels.size(); ++i) {
    std::vector<float> v = features.Transform(tracks[labels[i]]);
    if (cooc_dim == 0) {
      out.rows.insert(out.rows.end(), v.begin(), v.end());
      continue;
    }
    const bool has = cooc.has[i];
    const bool unit = !has && options.cooccurrence_unit_fallback;
    for (float x : v) out.rows.push_back(unit ? x : x * content_scale);
    for (int c = 0; c < cooc_dim; ++c) {
      out.rows.push_back(has ? cooc.rows[i * cooc_dim + c] * cooc_scale : 0.0f);
    }
  }
  return out;
}

absl::StatusOr<v1::SnapshotManifest> BuildSnapshot(
    std::vector<v1::Track> tracks, const std::vector<v1::Artist>& artists,
    const BuildOptions& options, const std::string& root, const std::string& version,
    const std::vector<v1::Playlist>& playlists) {
  auto cancelled = [&options]() -> absl::Status {
    if (options.cancelled && options.cancelled()) {
      return absl::CancelledError("the build was cancelled; nothing was published");
    }
    return absl::OkStatus();
  };
  AttachArtistGenres(artists, &tracks);
  std::vector<int64_t> rep = ChooseRepresentatives(tracks, options.threads);
  const int64_t n = static_cast<int64_t>(tracks.size());

  // Fit on one track per duplicate group that has complete audio features.
  std::vector<const v1::Track*> fit_tracks;
  std::vector<std::string> names;
  v1::SnapshotCounts counts;
  counts.set_tracks(n);
  for (int64_t i = 0; i < n; ++i) {
    if (rep[i] != i) {
      counts.set_duplicates(counts.duplicates() + 1);
      continue;
    }
    names.push_back(tracks[i].name());
    if (FeatureModel::HasCompleteAudio(tracks[i])) {
      fit_tracks.push_back(&tracks[i]);
    } else {
      counts.set_missing_audio_features(counts.missing_audio_features() + 1);
    }
  }
  FeatureOptions feature_options = options.features;
  feature_options.min_genre_share = options.min_genre_share;
  FeatureModel features = FeatureModel::Fit(fit_tracks, feature_options);

  v1::TrackTable table;
  Rows text_rows, audio_rows;
  std::vector<int64_t> named;  // representatives, whose names are embedded below
  LexicalIndexBuilder lexical;
  for (int64_t i = 0; i < n; ++i) {
    bool recommendable = rep[i] == i && FeatureModel::HasCompleteAudio(tracks[i]);
    table.add_representative(rep[i]);
    table.add_recommendable(recommendable);
    if (rep[i] == i) {
      named.push_back(i);
      lexical.Add(i, tracks[i]);
    }
    if (recommendable) audio_rows.labels.push_back(i);
  }
  std::optional<TextEmbedder> hashed;
  std::optional<WordVectors> word_vectors;
  std::optional<HashedAndWordVectors> blended;
  if (options.text_vectors == TextVectors::kHashed) {
    hashed = TextEmbedder::Fit(names, options.text_dim);
  } else {
    if (!(options.word_vectors_blend > 0.0 && options.word_vectors_blend <= 1.0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "word vectors blend ", options.word_vectors_blend, " is outside (0, 1]"));
    }
    const absl::Time start = absl::Now();
    absl::StatusOr<WordVectors> made = MakeWordVectors(tracks, named, options);
    if (!made.ok()) return made.status();
    word_vectors = std::move(*made);
    CD_LOG(INFO) << "word vectors " << WordVectorsSource(options)
                 << " words=" << word_vectors->words() << " dim=" << word_vectors->dim()
                 << " subword_buckets=" << word_vectors->subword_buckets()
                 << " ms=" << absl::ToInt64Milliseconds(absl::Now() - start);
  }
  if (word_vectors && options.word_vectors_blend < 1.0) {
    auto made = HashedAndWordVectors::Create(TextEmbedder::Fit(names, options.text_dim),
                                             *std::move(word_vectors),
                                             options.word_vectors_blend);
    if (!made.ok()) return made.status();
    blended = std::move(*made);
    word_vectors.reset();
  }
  const NameEmbedder& embedder = hashed ? static_cast<const NameEmbedder&>(*hashed)
                                 : word_vectors
                                     ? static_cast<const NameEmbedder&>(*word_vectors)
                                     : *blended;
  text_rows = EmbedNames(tracks, named, embedder);
  if (auto s = cancelled(); !s.ok()) return s;

  auto writer = SnapshotWriter::Begin(root, version);
  if (!writer.ok()) return writer.status();
  v1::SnapshotManifest manifest;
  auto text_info = BuildIndex(text_rows, embedder.dim(), options,
                              writer->PathOf(kTextIndexFile), kTextIndexFile);
  if (!text_info.ok()) return text_info.status();
  counts.set_search_indexed(text_info->elements());
  if (auto s = cancelled(); !s.ok()) return s;
  // The recommendation vectors: content features blended with the playlist co-occurrence
  // embedding (when there are playlists). They are computed once the name index is saved
  // and freed, so that the two never take memory at the same time (4 GB each at 10M).
  std::optional<v1::Cooccurrence> cooccurrence;
  RecommendVectors vectors = BuildRecommendVectors(
      tracks, rep, audio_rows.labels, features, playlists, options, &cooccurrence);
  audio_rows.data = std::move(vectors.rows);
  if (auto s = cancelled(); !s.ok()) return s;
  counts.set_recommend_indexed(static_cast<int64_t>(audio_rows.labels.size()));
  auto audio_info = BuildIndex(audio_rows, vectors.dim, options,
                               writer->PathOf(kAudioIndexFile), kAudioIndexFile);
  if (!audio_info.ok()) return audio_info.status();
  audio_info->set_exhaustive(audio_info->elements() <=
                             options.recommend_exhaustive_below);
  v1::LexicalIndex lexical_index = lexical.Finish(n);
  v1::LexicalIndexInfo* lexical_info = manifest.mutable_lexical_index();
  lexical_info->set_file(kLexicalIndexFile);
  lexical_info->set_analyzer(LexicalIndex::kAnalyzer);
  lexical_info->set_terms(lexical_index.terms_size());
  lexical_info->set_postings(lexical_index.posting_position_delta_size());
  if (auto s = WriteMessage(lexical_index, writer->PathOf(kLexicalIndexFile)); !s.ok()) {
    return s;
  }
  lexical_index.Clear();
  table.ByteSizeLong();  // caches the sizes SerializeWithCachedSizes writes
  if (auto s = WriteTrackTable(tracks, table, writer->PathOf(kTracksFile)); !s.ok()) {
    return s;
  }
  if (auto s = cancelled(); !s.ok()) return s;

  *manifest.mutable_search_index() = *text_info;
  *manifest.mutable_recommend_index() = *audio_info;
  v1::Preprocessing* p = manifest.mutable_preprocessing();
  features.ToProto(p);
  p->set_text_dim(embedder.dim());
  std::vector<std::string> files = {kTracksFile, kTextIndexFile, kAudioIndexFile,
                                    kLexicalIndexFile};
  if (hashed) {
    *p->mutable_text_idf() = {hashed->idf().begin(), hashed->idf().end()};
    p->set_text_embedder(TextEmbedder::kId);
  } else {
    const WordVectors& words = blended ? blended->words() : *word_vectors;
    if (blended) {
      const std::vector<float>& idf = blended->hashed().idf();
      p->set_text_dim(blended->hashed().dim());
      *p->mutable_text_idf() = {idf.begin(), idf.end()};
      p->set_text_embedder(HashedAndWordVectors::kId);
      manifest.mutable_word_vectors()->set_blend(blended->blend());
    } else {
      p->set_text_embedder(WordVectors::kId);
    }
    v1::WordVectors proto;
    words.ToProto(&proto);
    if (auto s = WriteMessage(proto, writer->PathOf(kWordVectorsFile)); !s.ok()) return s;
    v1::WordVectorsInfo* info = manifest.mutable_word_vectors();
    info->set_file(kWordVectorsFile);
    info->set_source(WordVectorsSource(options));
    info->set_words(words.words());
    info->set_dim(words.dim());
    info->set_subword_buckets(words.subword_buckets());
    files.push_back(kWordVectorsFile);
  }
  *manifest.mutable_counts() = counts;
  if (cooccurrence.has_value()) *manifest.mutable_cooccurrence() = *cooccurrence;
  manifest.set_created_at_ms(absl::ToUnixMillis(absl::Now()));
  manifest.set_builder(absl::StrCat("cratedig ", CRATEDIG_VERSION));
  auto dir = writer->Commit(files, manifest);
  if (!dir.ok()) return dir.status();
  return ReadManifest(*dir);
}

}  // namespace cratedig::trainer
