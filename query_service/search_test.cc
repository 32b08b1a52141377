#include "query_service/search.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "common/testing/synthetic_catalog.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "query_service/query_engine.h"
#include "trainer_service/snapshot_builder.h"

namespace cratedig::query {
namespace {

using ::testing::ElementsAre;

struct Song {
  const char* name;
  const char* artist;
  const char* album;
  int popularity;
};

// Named songs first (positions 0..), then synthetic filler so that the indexes are not
// tiny.
const Song kSongs[] = {
    {"bad guy", "Billie Eilish", "WHEN WE ALL FALL ASLEEP", 90},              // 0
    {"Bad Guy", "Eminem", "The Marshall Mathers LP2", 60},                    // 1
    {"Despacito - Remix", "Luis Fonsi", "Despacito Remixes", 80},             // 2
    {"Rehén", "Mon Laferte", "Norma", 40},                                    // 3
    {"Yesterday - Remastered 2009", "The Beatles", "Help!", 75},              // 4
    {"Yesterday", "Boyz II Men", "Cooleyhighharmony", 30},                    // 5
    {"Bohemian Rhapsody", "Queen", "A Night at the Opera", 85},               // 6
    {"Mony Mony", "Tommy James & The Shondells", "Mony Mony", 50},            // 7
    {"Stand By Me (feat. Someone) [Live]", "Ben E. King", "Don't Play", 70},  // 8
    {"Yesterday Once More", "Carpenters", "Now & Then", 65},                  // 9
    {"Extraordinary Machine", "Fiona Apple", "Extraordinary Machine", 45},    // 10
};
constexpr int kNamed = sizeof(kSongs) / sizeof(kSongs[0]);

class SearchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(::testing::TempDir() + "/search_test." +
                            std::to_string(::getpid()));
    std::filesystem::remove_all(*root_);
    std::vector<v1::Track> tracks = testing::SyntheticTracks(kNamed + 300);
    for (int i = 0; i < kNamed; ++i) {
      v1::Track& t = tracks[i];
      t.set_name(kSongs[i].name);
      t.clear_artists();
      t.add_artists()->set_name(kSongs[i].artist);
      t.mutable_album()->set_name(kSongs[i].album);
      t.set_popularity(kSongs[i].popularity);
    }
    auto manifest =
        trainer::BuildSnapshot(tracks, {}, trainer::BuildOptions(), *root_, "000001");
    ASSERT_TRUE(manifest.ok()) << manifest.status();
    auto loaded = Snapshot::Load(*root_ + "/000001");
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    snapshot_ = new std::shared_ptr<const Snapshot>(*loaded);
  }
  void SetUp() override { ASSERT_NE(snapshot_, nullptr); }

  static std::vector<int64_t> Top(const std::string& query, int k = 3, int offset = 0) {
    auto results = Search(**snapshot_, query, k, offset);
    EXPECT_TRUE(results.ok()) << results.status();
    std::vector<int64_t> out;
    if (results.ok()) {
      for (const SearchResult& r : *results) out.push_back(r.position);
    }
    return out;
  }
  static int64_t First(const std::string& query) {
    std::vector<int64_t> top = Top(query, 1);
    return top.empty() ? -1 : top[0];
  }

  static std::string* root_;
  static std::shared_ptr<const Snapshot>* snapshot_;
};

std::string* SearchTest::root_ = nullptr;
std::shared_ptr<const Snapshot>* SearchTest::snapshot_ = nullptr;

TEST_F(SearchTest, ExactTitleFirstThenPopularity) {
  EXPECT_THAT(Top("bad guy", 2),
              ElementsAre(0, 1));  // same title: the more popular first
  EXPECT_EQ(First("Bohemian Rhapsody"), 6);
  // "Yesterday" (Boyz II Men, 30) and "Yesterday - Remastered 2009" (75) are both the
  // whole title, the one without a version suffix first; "Yesterday Once More" has words
  // left over and comes after both.
  EXPECT_THAT(Top("yesterday", 3), ElementsAre(5, 4, 9));
  EXPECT_EQ(First("yesterday remastered"), 4);
}

TEST_F(SearchTest, FieldsInAnyOrder) {
  EXPECT_EQ(First("billie bad guy"), 0);
  EXPECT_EQ(First("bad guy eminem"), 1);
  EXPECT_EQ(First("beatles yesterday"), 4);
}

TEST_F(SearchTest, TyposAccentsAndPunctuation) {
  EXPECT_EQ(First("bohemian rhapsdoy"), 6);  // transposition: one typo from 5 letters
  EXPECT_EQ(First("bohemain rapsody"), 6);   // one typo in each word
  EXPECT_EQ(First("extrordinary machin"),
            10);  // 11 letters allow 2 typos; prefix for the last
  EXPECT_EQ(First("rehen"), 3);
  EXPECT_EQ(First("REHÉN!!!"), 3);
  EXPECT_EQ(First("mony mony"), 7);
}

TEST_F(SearchTest, PrefixOfTheLastWord) {
  EXPECT_EQ(First("bohemian rhap"), 6);
  EXPECT_EQ(First("extraordinary mach"), 10);
  auto results = Search(**snapshot_, "bohemian rhap", 1);
  ASSERT_TRUE(results.ok());
  EXPECT_TRUE((*results)[0].prefix);
  EXPECT_FALSE((*results)[0].exact);
}

TEST_F(SearchTest, VersionSuffixesDoNotHideTheSong) {
  EXPECT_EQ(First("despacito"), 2);
  EXPECT_EQ(First("stand by me"), 8);
  auto results = Search(**snapshot_, "despacito", 1);
  ASSERT_TRUE(results.ok());
  EXPECT_TRUE((*results)[0].exact);
  EXPECT_TRUE((*results)[0].lexical);
  EXPECT_EQ((*results)[0].typos, 0);
}

TEST_F(SearchTest, ResultsSaySignalsAndFields) {
  auto results = Search(**snapshot_, "billie bad guy", 1);
  ASSERT_TRUE(results.ok());
  v1::ScoredTrack scored;
  ToScoredTrack(**snapshot_, (*results)[0], &scored);
  EXPECT_EQ(scored.track().name(), "bad guy");
  EXPECT_EQ(scored.signal(), v1::SEARCH_SIGNAL_LEXICAL_AND_VECTOR);
  EXPECT_THAT(scored.matched_fields(),
              ElementsAre(v1::SEARCH_FIELD_TITLE, v1::SEARCH_FIELD_ARTIST));
  EXPECT_TRUE(scored.exact());
  EXPECT_GT(scored.relevance(), 0.0f);
}

TEST_F(SearchTest, AllWordsWithATypoBeatSomeWordsExactly) {
  EXPECT_EQ(First("yesterday onse more"), 9);  // "once" is 4 letters: no typo, so 2 of 3
  EXPECT_EQ(First("bohemain rhapsody"), 6);
}

TEST_F(SearchTest, OffsetPages) {
  std::vector<int64_t> all = Top("love", 20);
  ASSERT_EQ(all.size(), 20u);
  EXPECT_EQ(Top("love", 10, 10), std::vector<int64_t>(all.begin() + 10, all.end()));
  EXPECT_EQ(Top("love", 5, 3), std::vector<int64_t>(all.begin() + 3, all.begin() + 8));
}

TEST_F(SearchTest, FiltersByGenreYearAndExplicit) {
  const Snapshot& s = **snapshot_;
  v1::TrackFilter filter;
  filter.add_genres("jazz");
  auto results = Search(s, "love", 20, 0, &filter);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_FALSE(results->empty());
  for (const SearchResult& r : *results) {
    const auto& genres = s.track(r.position).genres();
    EXPECT_NE(std::find(genres.begin(), genres.end(), "jazz"), genres.end());
  }
  filter.Clear();
  filter.set_year_min(2005);
  filter.set_year_max(2010);
  filter.set_explicit_(false);
  results = Search(s, "love", 20, 0, &filter);
  ASSERT_TRUE(results.ok()) << results.status();
  for (const SearchResult& r : *results) {
    const v1::Track& t = s.track(r.position);
    EXPECT_GE(t.album().release_date().year(), 2005);
    EXPECT_LE(t.album().release_date().year(), 2010);
    EXPECT_FALSE(t.explicit_());
  }
  filter.set_year_min(2020);
  filter.set_year_max(2010);
  EXPECT_EQ(Search(s, "love", 5, 0, &filter).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Word vectors read from a file: "dollars" is in no title, but its vector is near
// "cash", so the vector side finds the cash titles; the query daemon embeds the query
// with the vectors the snapshot carries.
TEST(WordVectorSearchTest, MeaningFromAVectorsFile) {
  const std::string root =
      ::testing::TempDir() + "/word_vector_search_test." + std::to_string(::getpid());
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  const std::string file = root + "/vectors.vec";
  {
    std::ofstream out(file);
    out << "4 3\ndollars 0.95 0.05 0\ncash 1 0 0\nlove 0 1 0\nrain 0 0 1\n";
  }
  // Word vectors alone, then side by side with the hashed vectors.
  for (const auto& [blend, id] :
       {std::pair<double, std::string>{1.0, "word-vectors-mean-v1"},
        {0.5, "hashed-and-word-vectors-v1"}}) {
    SCOPED_TRACE(id);
    trainer::BuildOptions options;
    options.text_vectors = trainer::TextVectors::kFile;
    options.word_vectors_file = file;
    options.word_vectors_max_words = 1;  // dollars; cash, love and rain are in titles
    options.word_vectors_blend = blend;
    const std::string version = blend == 1.0 ? "000001" : "000002";
    auto manifest = trainer::BuildSnapshot(testing::SyntheticTracks(300), {}, options,
                                           root + "/snapshots", version);
    ASSERT_TRUE(manifest.ok()) << manifest.status();
    EXPECT_EQ(manifest->preprocessing().text_embedder(), id);
    EXPECT_EQ(manifest->word_vectors().words(), 4);
    EXPECT_EQ(manifest->word_vectors().source(), "file:vectors.vec");
    auto snapshot = Snapshot::Load(root + "/snapshots/" + version);
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    EXPECT_EQ((*snapshot)->embedder().dim(), blend == 1.0 ? 3 : 128 + 3);
    auto results = Search(**snapshot, "dollars", 5);
    ASSERT_TRUE(results.ok()) << results.status();
    ASSERT_EQ(results->size(), 5u);
    for (const SearchResult& r : *results) {
      const std::string& name = (*snapshot)->track(r.position).name();
      EXPECT_TRUE(r.vector && !r.lexical) << name;
      EXPECT_NE(name.find("cash"), std::string::npos) << name;
    }
    // Words without a vector and without a lexical match: no error.
    auto unknown = Search(**snapshot, "zzzzzz", 5);
    ASSERT_TRUE(unknown.ok()) << unknown.status();
    if (blend == 1.0) {
      EXPECT_TRUE(unknown->empty());
    }
  }
  std::filesystem::remove_all(root);
}

TEST(FuseTest, ExactLexicalFirstThenReciprocalRankFusion) {
  // Lexical: 10 (exact), 11, 12, all complete; vector: 12, 13, 10.
  std::vector<SearchResult> fused = Fuse({10, 11, 12}, 1, 3, {12, 13, 10});
  std::vector<int64_t> order;
  for (const SearchResult& r : fused) order.push_back(r.position);
  // 12 is second in both lists: 1/62 + 0.25/61 beats 11's 1/62 alone, and 13 (vector
  // only) comes last.
  EXPECT_THAT(order, ElementsAre(10, 12, 11, 13));
  EXPECT_TRUE(fused[0].exact && fused[0].lexical && fused[0].vector);
  EXPECT_TRUE(fused[1].lexical && fused[1].vector && !fused[1].exact);
  EXPECT_TRUE(fused[2].lexical && !fused[2].vector);
  EXPECT_TRUE(!fused[3].lexical && fused[3].vector);
  EXPECT_GT(fused[0].relevance, fused[1].relevance);
  EXPECT_GT(fused[1].relevance, fused[2].relevance);
}

TEST(FuseTest, EveryQueryWordBeforeSomeWhateverTheVectors) {
  // 1 matches every word; 2 and 3 only some, but the vectors rank them first.
  std::vector<SearchResult> fused = Fuse({1, 2, 3}, 0, 1, {2, 3, 4});
  std::vector<int64_t> order;
  for (const SearchResult& r : fused) order.push_back(r.position);
  EXPECT_THAT(order, ElementsAre(1, 2, 3, 4));
  // Without the tier, 2 (1/62 + 0.25/61) would beat 1 (1/61).
  fused = Fuse({1, 2, 3}, 0, 0, {2, 3, 4});
  EXPECT_EQ(fused[0].position, 2);
}

TEST(FuseTest, LexicalOutweighsVectorAtTheSameRank) {
  std::vector<SearchResult> fused = Fuse({1}, 0, 0, {2});
  ASSERT_EQ(fused.size(), 2u);
  EXPECT_EQ(fused[0].position, 1);
}

}  // namespace
}  // namespace cratedig::query
