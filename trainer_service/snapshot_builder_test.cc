#include "trainer_service/snapshot_builder.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "common/snapshot.h"
#include "common/testing/synthetic_catalog.h"
#include "gtest/gtest.h"

namespace cratedig::trainer {
namespace {

TEST(AttachArtistGenresTest, ByIdThenByName) {
  auto tracks = testing::SyntheticTracks(2);
  tracks[0].mutable_artists(0)->set_name("Same Name");
  tracks[1].mutable_artists(0)->set_id("");
  tracks[1].mutable_artists(0)->set_name("Named Only");
  v1::Artist by_id;
  by_id.set_id(tracks[0].artists(0).id());
  by_id.add_genres("from id");
  v1::Artist by_name;
  by_name.set_name("Named Only");
  by_name.add_genres("from name");
  AttachArtistGenres({by_id, by_name}, &tracks);
  EXPECT_EQ(tracks[0].genres(tracks[0].genres_size() - 1), "from id");
  EXPECT_EQ(tracks[1].genres(tracks[1].genres_size() - 1), "from name");
}

TEST(ChooseRepresentativesTest, DuplicatesOfNameAndArtistsShareTheMostPopular) {
  auto tracks = testing::SyntheticTracks(3);
  tracks[1].set_name(tracks[0].name());
  *tracks[1].mutable_artists() = tracks[0].artists();
  tracks[0].set_popularity(10);
  tracks[1].set_popularity(80);
  std::vector<int64_t> rep = ChooseRepresentatives(tracks);
  EXPECT_EQ(rep, (std::vector<int64_t>{1, 1, 2}));
}

TEST(BuildSnapshotTest, PublishesAVerifiedSnapshotWithCounts) {
  std::string root =
      ::testing::TempDir() + "/snapshot_builder_test." + std::to_string(::getpid());
  std::filesystem::remove_all(root);
  auto tracks = testing::SyntheticTracks(300);
  tracks[5].clear_audio_features();
  tracks[7].set_name(tracks[6].name());
  *tracks[7].mutable_artists() = tracks[6].artists();
  auto manifest = BuildSnapshot(tracks, {}, BuildOptions{}, root, "000001");
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(manifest->counts().tracks(), 300);
  EXPECT_EQ(manifest->counts().duplicates(), 1);
  EXPECT_EQ(manifest->counts().missing_audio_features(), 1);
  EXPECT_EQ(manifest->counts().search_indexed(), 299);
  EXPECT_EQ(manifest->counts().recommend_indexed(), 298);
  EXPECT_EQ(*ReadCurrent(root), "000001");
  EXPECT_TRUE(VerifySnapshotFiles(root + "/000001", *manifest).ok());
  EXPECT_FALSE(std::filesystem::exists(root + "/.tmp-000001"));
  // Eight genres, each on well over 1% of tracks, all kept.
  EXPECT_EQ(manifest->preprocessing().genres_size(), 8);
}

// A build whose caller went away stops at its next step and publishes nothing, whichever
// step that is.
TEST(BuildSnapshotTest, CancelledBuildPublishesNothing) {
  std::string root =
      ::testing::TempDir() + "/snapshot_builder_cancel." + std::to_string(::getpid());
  std::filesystem::remove_all(root);
  auto tracks = testing::SyntheticTracks(200);
  for (int allowed = 0; allowed < 3; ++allowed) {
    int asked = 0;
    BuildOptions options;
    options.cancelled = [&] { return asked++ >= allowed; };
    auto manifest = BuildSnapshot(tracks, {}, options, root, "000001");
    EXPECT_EQ(manifest.status().code(), absl::StatusCode::kCancelled) << allowed;
    EXPECT_EQ(asked, allowed + 1);
    EXPECT_TRUE(ListSnapshots(root).empty());
    EXPECT_FALSE(ReadCurrent(root).ok());
  }
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace cratedig::trainer

namespace cratedig::trainer {
namespace {

float Dot(const std::vector<float>& rows, int dim, size_t a, size_t b) {
  float dot = 0.0f;
  for (int c = 0; c < dim; ++c) dot += rows[a * dim + c] * rows[b * dim + c];
  return dot;
}

// Tracks 0..9 are playlisted together again and again, as are 10..19; 20..59 are in no
// playlist. With the blend, a track of the first group is nearer its playlist mates than
// the content alone puts it.
TEST(BuildRecommendVectorsTest, BlendsCooccurrenceAndKeepsContentForTracksInNoPlaylist) {
  auto tracks = testing::SyntheticTracks(60);
  std::vector<int64_t> rep = ChooseRepresentatives(tracks);
  std::vector<int64_t> labels;
  std::vector<const v1::Track*> fit;
  for (int64_t i = 0; i < 60; ++i) {
    labels.push_back(i);
    fit.push_back(&tracks[i]);
  }
  FeatureOptions feature_options;
  feature_options.weights.emplace();
  feature_options.weights->set_audio(1);
  feature_options.weights->set_genre(1);
  feature_options.weights->set_recency(0.5);
  feature_options.genres = GenreRepresentation::kWeightedOneHot;
  FeatureModel features = FeatureModel::Fit(fit, feature_options);
  std::vector<v1::Playlist> playlists;
  for (int p = 0; p < 8; ++p) {
    v1::Playlist playlist;
    playlist.set_id("p" + std::to_string(p));
    const int base = p % 2 == 0 ? 0 : 10;
    for (int j = 0; j < 6; ++j)
      playlist.add_track_ids(tracks[base + (p + j * 3) % 10].id());
    playlists.push_back(playlist);
  }
  BuildOptions options;
  options.cooccurrence.dim = 4;
  options.cooccurrence_blend = 0.5;
  std::optional<v1::Cooccurrence> info;
  RecommendVectors blended =
      BuildRecommendVectors(tracks, rep, labels, features, playlists, options, &info);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->playlists(), 8);
  EXPECT_EQ(info->tracks(), 20);
  EXPECT_EQ(blended.dim, features.dim() + 4);

  options.cooccurrence_blend = 0.0;
  std::optional<v1::Cooccurrence> none;
  RecommendVectors content =
      BuildRecommendVectors(tracks, rep, labels, features, playlists, options, &none);
  EXPECT_FALSE(none.has_value());
  EXPECT_EQ(content.dim, features.dim());

  // Tracks 0..19 are in playlists: unit vectors. The others keep the content block at the
  // blend's scale, zeros after it: length sqrt(1 - blend).
  for (size_t i = 0; i < 60; ++i)
    EXPECT_NEAR(Dot(blended.rows, blended.dim, i, i), i < 20 ? 1.0 : 0.5, 1e-5) << i;
  // Within a group, similarity rises with the blend; across groups it does not.
  double within_gain = 0.0, across_gain = 0.0;
  for (size_t a = 0; a < 10; ++a) {
    for (size_t b = 0; b < 10; ++b) {
      if (a == b) continue;
      within_gain +=
          Dot(blended.rows, blended.dim, a, b) - Dot(content.rows, content.dim, a, b);
      across_gain += Dot(blended.rows, blended.dim, a, b + 10) -
                     Dot(content.rows, content.dim, a, b + 10);
    }
  }
  EXPECT_GT(within_gain, across_gain);
  EXPECT_GT(within_gain, 0.0);
  // A track in no playlist: its content vector at the blend's scale, zeros after it. So
  // a query of such tracks scores every track by content alone, scaled alike: the one in
  // no playlist is not favoured over the one in playlists with the same content.
  const float scale = std::sqrt(0.5f);
  for (int c = 0; c < content.dim; ++c) {
    EXPECT_FLOAT_EQ(blended.rows[30 * blended.dim + c],
                    content.rows[30 * content.dim + c] * scale);
    EXPECT_FLOAT_EQ(blended.rows[5 * blended.dim + c],
                    content.rows[5 * content.dim + c] * scale);
  }
  for (int c = content.dim; c < blended.dim; ++c) {
    EXPECT_EQ(blended.rows[30 * blended.dim + c], 0.0f);
  }
  EXPECT_EQ(info->fallback(), "scaled");

  // The earlier design: unit content vectors for tracks in no playlist.
  options.cooccurrence_blend = 0.5;
  options.cooccurrence_unit_fallback = true;
  RecommendVectors unit =
      BuildRecommendVectors(tracks, rep, labels, features, playlists, options, &info);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->fallback(), "unit");
  for (int c = 0; c < content.dim; ++c) {
    EXPECT_EQ(unit.rows[30 * unit.dim + c], content.rows[30 * content.dim + c]);
  }
  EXPECT_NEAR(Dot(unit.rows, unit.dim, 30, 30), 1.0, 1e-5);
}

TEST(BuildSnapshotTest, RecordsTheCooccurrenceAndTheFeatureDesignInTheManifest) {
  std::string root =
      ::testing::TempDir() + "/snapshot_builder_cooc." + std::to_string(::getpid());
  std::filesystem::remove_all(root);
  auto tracks = testing::SyntheticTracks(100);
  v1::Playlist playlist;
  playlist.set_id("p");
  for (int i = 0; i < 5; ++i) playlist.add_track_ids(tracks[i].id());
  BuildOptions options;
  options.features.weights.emplace();
  options.features.weights->set_audio(1);
  options.features.weights->set_genre(0.5);
  options.features.genres = GenreRepresentation::kEmbedding;
  options.features.genre_dim = 3;
  options.cooccurrence.dim = 2;
  options.cooccurrence_blend = 0.3;
  auto manifest = BuildSnapshot(tracks, {}, options, root, "000001", {playlist});
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(manifest->cooccurrence().method(), "ppmi-svd");
  EXPECT_EQ(manifest->cooccurrence().tracks(), 5);
  EXPECT_DOUBLE_EQ(manifest->cooccurrence().blend(), 0.3);
  const v1::Preprocessing& p = manifest->preprocessing();
  EXPECT_EQ(p.genre_representation(), "embedding");
  EXPECT_EQ(p.genre_dim(), 3);
  EXPECT_EQ(p.genre_embedding_size(), p.genres_size() * 3);
  EXPECT_DOUBLE_EQ(p.weights().genre(), 0.5);
  // Content: 9 audio + recency + 3 genre columns; then the co-occurrence block.
  EXPECT_EQ(manifest->recommend_index().dim(), 9 + 1 + 3 + 2);
  auto model = FeatureModel::FromProto(p);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->dim(), 13);
}

}  // namespace
}  // namespace cratedig::trainer

namespace cratedig::trainer {
namespace {

TEST(BuildRecommendVectorsTest, ArtistsCountAsPlaylistsWhenAsked) {
  auto tracks = testing::SyntheticTracks(120);  // artist i % 50
  std::vector<int64_t> rep = ChooseRepresentatives(tracks);
  std::vector<int64_t> labels;
  std::vector<const v1::Track*> fit;
  for (int64_t i = 0; i < 120; ++i) {
    labels.push_back(i);
    fit.push_back(&tracks[i]);
  }
  FeatureModel features = FeatureModel::Fit(fit);
  v1::Playlist playlist;  // tracks 0..3 (artists 0..3)
  playlist.set_id("p");
  for (int i = 0; i < 4; ++i) playlist.add_track_ids(tracks[i].id());
  BuildOptions options;
  options.cooccurrence.dim = 4;
  options.cooccurrence_blend = 0.5;
  std::optional<v1::Cooccurrence> info;
  BuildRecommendVectors(tracks, rep, labels, features, {playlist}, options, &info);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->tracks(), 4);
  options.cooccurrence_artists = true;
  BuildRecommendVectors(tracks, rep, labels, features, {playlist}, options, &info);
  ASSERT_TRUE(info.has_value());
  // Every artist has two or three tracks: all 120 tracks get a vector.
  EXPECT_EQ(info->tracks(), 120);
  // Without any playlist: no co-occurrence block at all, artists or not.
  RecommendVectors content =
      BuildRecommendVectors(tracks, rep, labels, features, {}, options, &info);
  EXPECT_FALSE(info.has_value());
  EXPECT_EQ(content.dim, features.dim());
  options.cooccurrence_artists = false;
  content = BuildRecommendVectors(tracks, rep, labels, features, {}, options, &info);
  EXPECT_FALSE(info.has_value());
  EXPECT_EQ(content.dim, features.dim());
}

}  // namespace
}  // namespace cratedig::trainer
