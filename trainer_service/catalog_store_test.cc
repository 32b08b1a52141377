#include "trainer_service/catalog_store.h"

#include <unistd.h>

#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "common/testing/synthetic_catalog.h"
#include "gtest/gtest.h"

namespace cratedig::trainer {
namespace {

// Removes the directories TempDir made when the test program ends (ctest runs each test
// in its own process), after every store in them was closed.
class TempDirs : public ::testing::Environment {
 public:
  static std::vector<std::string>& Made() {
    static auto* made = new std::vector<std::string>();
    return *made;
  }
  void TearDown() override {
    for (const std::string& dir : Made()) std::filesystem::remove_all(dir);
  }
};
::testing::Environment* const kTempDirs =
    ::testing::AddGlobalTestEnvironment(new TempDirs);

std::string TempDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/catalog_store_test_" + name + "." +
                    std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  TempDirs::Made().push_back(dir);
  return dir;
}

v1::IngestCatalogRequest Batch(const std::vector<v1::Track>& tracks) {
  v1::IngestCatalogRequest batch;
  for (const v1::Track& t : tracks) *batch.add_tracks() = t;
  return batch;
}

TEST(CatalogStoreTest, InsertsThenLeavesRepeatedBatchesUnchanged) {
  auto store = CatalogStore::Open(TempDir("repeat"));
  ASSERT_TRUE(store.ok()) << store.status();
  auto tracks = testing::SyntheticTracks(50);
  v1::IngestCatalogResponse first, second;
  ASSERT_TRUE((*store)->Upsert(Batch(tracks), &first).ok());
  ASSERT_TRUE((*store)->Upsert(Batch(tracks), &second).ok());
  EXPECT_EQ(first.tracks_inserted(), 50);
  EXPECT_EQ(second.tracks_inserted(), 0);
  EXPECT_EQ(second.tracks_updated(), 0);
  EXPECT_EQ(second.tracks_unchanged(), 50);
  EXPECT_EQ((*store)->track_count(), 50);
}

TEST(CatalogStoreTest, SameTrackUnderSeveralGenresKeepsThemAll) {
  auto store = CatalogStore::Open(TempDir("genres"));
  ASSERT_TRUE(store.ok());
  v1::Track t = testing::SyntheticTracks(1)[0];
  t.clear_genres();
  t.add_genres("pop");
  v1::Track again = t;
  again.clear_genres();
  again.add_genres("dance");
  v1::IngestCatalogResponse ack;
  ASSERT_TRUE((*store)->Upsert(Batch({t, again}), &ack).ok());
  EXPECT_EQ(ack.tracks_inserted(), 1);
  EXPECT_EQ(ack.tracks_updated(), 1);
  std::vector<v1::Track> stored;
  ASSERT_TRUE((*store)->ForEachTrack([&](v1::Track&& x) { stored.push_back(x); }).ok());
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(
      std::vector<std::string>(stored[0].genres().begin(), stored[0].genres().end()),
      (std::vector<std::string>{"pop", "dance"}));
}

TEST(CatalogStoreTest, SurvivesReopen) {
  std::string dir = TempDir("reopen");
  {
    auto store = CatalogStore::Open(dir);
    v1::IngestCatalogResponse ack;
    ASSERT_TRUE((*store)->Upsert(Batch(testing::SyntheticTracks(10)), &ack).ok());
  }
  auto store = CatalogStore::Open(dir);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->track_count(), 10);
}

TEST(CatalogStoreTest, RefusesMalformedIdAndStoresNothingOfTheBatch) {
  auto store = CatalogStore::Open(TempDir("badid"));
  auto tracks = testing::SyntheticTracks(3);
  tracks[2].set_id("not-an-id");
  v1::IngestCatalogResponse ack;
  absl::Status s = (*store)->Upsert(Batch(tracks), &ack);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("not-an-id"), std::string::npos);
  EXPECT_EQ((*store)->track_count(), 0);
}

TEST(MergeTrackTest, KeepsStoredFieldsTheNewRecordLacksAndArtistIds) {
  v1::Track stored = testing::SyntheticTracks(1)[0];
  v1::Track incoming;
  incoming.set_id(stored.id());
  incoming.set_name(stored.name());
  incoming.add_artists()->set_name(stored.artists(0).name());
  incoming.set_popularity(99);
  v1::Track merged = MergeTrack(stored, incoming);
  EXPECT_EQ(merged.popularity(), 99);
  EXPECT_TRUE(merged.has_audio_features());
  EXPECT_EQ(merged.artists(0).id(), stored.artists(0).id());
  EXPECT_EQ(merged.album().name(), stored.album().name());
}

TEST(MergeTrackTest, AbsentAudioFeatureIsNotOverwrittenWithZero) {
  v1::Track stored = testing::SyntheticTracks(1)[0];
  v1::Track incoming;
  incoming.set_id(stored.id());
  incoming.mutable_audio_features()->set_energy(0.5);
  v1::Track merged = MergeTrack(stored, incoming);
  EXPECT_EQ(merged.audio_features().energy(), 0.5);
  EXPECT_EQ(merged.audio_features().tempo(), stored.audio_features().tempo());
}

TEST(CatalogStoreTest, AReadInProgressNeitherBlocksUpsertNorSeesItsBatch) {
  auto store = CatalogStore::Open(TempDir("read"));
  ASSERT_TRUE(store.ok());
  auto tracks = testing::SyntheticTracks(60);
  v1::IngestCatalogResponse ack;
  ASSERT_TRUE((*store)->Upsert(Batch({tracks.begin(), tracks.begin() + 50}), &ack).ok());
  int read = 0;
  bool upsert_finished = false;
  absl::Status status = (*store)->ReadCatalog(
      [&](v1::Track&&) {
        if (read++ != 0) return;
        // Mid-read, another thread stores a batch: it must commit without waiting for
        // the read to end (a generous bound; a blocked upsert would wait forever).
        auto upsert = std::async(std::launch::async, [&] {
          v1::IngestCatalogResponse more;
          return (*store)->Upsert(Batch({tracks.begin() + 50, tracks.end()}), &more);
        });
        upsert_finished =
            upsert.wait_for(std::chrono::seconds(60)) == std::future_status::ready &&
            upsert.get().ok();
      },
      nullptr);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(upsert_finished);
  EXPECT_EQ(read, 50) << "the read sees the catalog as it was when it began";
  EXPECT_EQ((*store)->track_count(), 60);
}

}  // namespace
}  // namespace cratedig::trainer

namespace cratedig::trainer {
namespace {

v1::Playlist MakePlaylist(const std::string& id, const std::vector<v1::Track>& tracks) {
  v1::Playlist p;
  p.set_id(id);
  p.set_name("mix " + id);
  p.set_source("test");
  for (const v1::Track& t : tracks) p.add_track_ids(t.id());
  return p;
}

TEST(CatalogStoreTest, AcknowledgedPlaylistsSurviveReopenAndAreReplacedById) {
  std::string dir = TempDir("playlists");
  auto tracks = testing::SyntheticTracks(4);
  {
    auto store = CatalogStore::Open(dir);
    ASSERT_TRUE(store.ok());
    v1::IngestCatalogRequest batch = Batch(tracks);
    *batch.add_playlists() = MakePlaylist("p1", {tracks[0], tracks[1]});
    *batch.add_playlists() = MakePlaylist("p2", {tracks[2]});
    v1::IngestCatalogResponse ack;
    ASSERT_TRUE((*store)->Upsert(batch, &ack).ok());
    EXPECT_EQ(ack.playlists_upserted(), 2);
    v1::IngestCatalogRequest again;
    *again.add_playlists() = MakePlaylist("p2", {tracks[2]});
    v1::IngestCatalogResponse unchanged;
    ASSERT_TRUE((*store)->Upsert(again, &unchanged).ok());
    EXPECT_EQ(unchanged.playlists_upserted(), 0);
    v1::IngestCatalogRequest changed;
    *changed.add_playlists() = MakePlaylist("p1", {tracks[3], tracks[0]});
    v1::IngestCatalogResponse replaced;
    ASSERT_TRUE((*store)->Upsert(changed, &replaced).ok());
    EXPECT_EQ(replaced.playlists_upserted(), 1);
  }
  auto store = CatalogStore::Open(dir);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->playlist_count(), 2);
  std::vector<v1::Playlist> stored;
  ASSERT_TRUE(
      (*store)->ForEachPlaylist([&](v1::Playlist&& p) { stored.push_back(p); }).ok());
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].id(), "p1");
  EXPECT_EQ(stored[0].name(), "mix p1");
  ASSERT_EQ(stored[0].track_ids_size(), 2);
  EXPECT_EQ(stored[0].track_ids(0), tracks[3].id());
  EXPECT_EQ(stored[1].id(), "p2");
}

TEST(CatalogStoreTest, RefusesAPlaylistWithAMalformedTrackIdNamingTheField) {
  auto store = CatalogStore::Open(TempDir("badplaylist"));
  ASSERT_TRUE(store.ok());
  auto tracks = testing::SyntheticTracks(2);
  v1::IngestCatalogRequest batch = Batch(tracks);
  *batch.add_playlists() = MakePlaylist("ok", tracks);
  v1::Playlist bad = MakePlaylist("bad", tracks);
  bad.add_track_ids("spotify:local:x");
  *batch.add_playlists() = bad;
  v1::IngestCatalogResponse ack;
  absl::Status s = (*store)->Upsert(batch, &ack);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("playlists[1].track_ids[2]"), std::string::npos) << s;
  EXPECT_EQ((*store)->playlist_count(), 0);
  EXPECT_EQ((*store)->track_count(), 0);

  v1::IngestCatalogRequest unnamed;
  unnamed.add_playlists();
  EXPECT_EQ((*store)->Upsert(unnamed, &ack).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cratedig::trainer
