#include "trainer_service/snapshot_builder.h"

#include <unistd.h>

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
