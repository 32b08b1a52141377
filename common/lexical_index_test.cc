#include "common/lexical_index.h"

#include <algorithm>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cratedig {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

v1::Track MakeTrack(const std::string& name, const std::string& artist,
                    const std::string& album) {
  v1::Track t;
  t.set_name(name);
  t.add_artists()->set_name(artist);
  t.mutable_album()->set_name(album);
  return t;
}

LexicalIndex Build(const std::vector<v1::Track>& tracks,
                   std::vector<int8_t> popularity = {}) {
  LexicalIndexBuilder builder;
  for (size_t i = 0; i < tracks.size(); ++i)
    builder.Add(static_cast<int64_t>(i), tracks[i]);
  popularity.resize(tracks.size(), -1);
  auto index = LexicalIndex::FromProto(builder.Finish(tracks.size()), popularity);
  EXPECT_TRUE(index.ok()) << index.status();
  return std::move(*index);
}

TEST(TypoTest, BudgetGrowsWithLength) {
  EXPECT_EQ(TypoBudget(1), 0);
  EXPECT_EQ(TypoBudget(4), 0);
  EXPECT_EQ(TypoBudget(5), 1);
  EXPECT_EQ(TypoBudget(8), 1);
  EXPECT_EQ(TypoBudget(9), 2);
  EXPECT_EQ(TypoBudget(30), 2);
}

TEST(TypoTest, DistanceCountsEditsAndTranspositions) {
  EXPECT_EQ(TypoDistance("money", "money"), 0);
  EXPECT_EQ(TypoDistance("money", "mony"), 1);    // deletion
  EXPECT_EQ(TypoDistance("money", "monkey"), 1);  // insertion
  EXPECT_EQ(TypoDistance("money", "honey"), 1);   // substitution
  EXPECT_EQ(TypoDistance("money", "moeny"), 1);   // transposition
  EXPECT_EQ(TypoDistance("rehén", "rehen"), 1);   // code points, not bytes
  EXPECT_EQ(TypoDistance("", "abc"), 3);
}

TEST(LexicalIndexTest, TypoTermsWithinTheBudget) {
  LexicalIndex index = Build({MakeTrack("Money Honey", "Monkey", "Mon"),
                              MakeTrack("Extraordinary", "Extraordinarily", "Extra")});
  // "monye": 5 letters, one typo: money (transposition), not honey (two).
  EXPECT_THAT(index.TypoTerms("monye"), ElementsAre(Pair("money", 1)));
  // 4 letters: no typo allowed.
  EXPECT_THAT(index.TypoTerms("mony"), IsEmpty());
  EXPECT_THAT(
      index.TypoTerms("money"),
      UnorderedElementsAre(Pair("honey", 1), Pair("monkey", 1), Pair("money", 0)));
  // 12 letters: two typos.
  EXPECT_THAT(index.TypoTerms("extrordinry"),
              UnorderedElementsAre(Pair("extraordinary", 2)));
}

// The pruned walk over the sorted terms finds exactly the terms a scan of all of them
// finds: many terms share prefixes (a four-letter alphabet), so whole runs are skipped.
TEST(LexicalIndexTest, TypoTermsMatchAScanOfEveryTerm) {
  std::mt19937 rng(7);
  auto word = [&rng] {
    std::string w(1 + rng() % 11, 'a');
    for (char& c : w) c = static_cast<char>('a' + rng() % 4);
    return w;
  };
  std::vector<v1::Track> tracks;
  std::set<std::string> terms;
  for (int i = 0; i < 3000; ++i) {
    std::string w = word();
    terms.insert(w);
    tracks.push_back(MakeTrack(w, w, w));
  }
  LexicalIndex index = Build(tracks);
  for (int i = 0; i < 300; ++i) {
    const std::string q = word();
    std::vector<std::pair<std::string, int>> want;
    for (const std::string& t : terms) {
      const int d = TypoDistance(q, t);
      if (d <= TypoBudget(static_cast<int>(q.size()))) want.emplace_back(t, d);
    }
    std::vector<std::pair<std::string, int>> got = index.TypoTerms(q);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, want) << q;
  }
}

TEST(LexicalIndexTest, PrefixTermsMostFrequentFirst) {
  LexicalIndex index =
      Build({MakeTrack("love", "lover", "lovely"), MakeTrack("lovely day", "x", "y"),
             MakeTrack("lovely", "a", "b")});
  EXPECT_THAT(index.PrefixTerms("lov", 10), ElementsAre("lovely", "love", "lover"));
  EXPECT_THAT(index.PrefixTerms("lov", 1), ElementsAre("lovely"));
  EXPECT_THAT(index.PrefixTerms("love", 10), UnorderedElementsAre("lovely", "lover"));
  EXPECT_THAT(index.PrefixTerms("zz", 10), IsEmpty());
}

TEST(LexicalIndexTest, RanksByWordsTyposTitleCompletenessFieldsPopularity) {
  LexicalIndex index =
      Build({MakeTrack("Yesterday Once More", "Carpenters", "Now"),             // 0
             MakeTrack("Yesterday - Remastered 2009", "The Beatles", "Help!"),  // 1
             MakeTrack("Yesterday", "Boyz II Men", "II"),                       // 2
             MakeTrack("Other", "Yesterday", "Yesterday"),                      // 3
             MakeTrack("Yesteday", "Someone", "Else")},                         // 4
            {10, 50, 20, 99, 99});
  int words = 0;
  auto hits = index.Search("yesterday", 10, &words);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(words, 1);
  std::vector<int64_t> order;
  for (const LexicalHit& h : *hits) order.push_back(h.position);
  // Whole titles (2, then 1 with its version suffix, though more popular), then the title
  // with words left over (0), then artist-only (3), then the typo (4) last, whatever its
  // popularity.
  EXPECT_THAT(order, ElementsAre(2, 1, 0, 3, 4));
  EXPECT_TRUE((*hits)[0].exact(words));
  EXPECT_TRUE((*hits)[1].exact(words));
  EXPECT_FALSE((*hits)[2].exact(words));
  EXPECT_EQ((*hits)[4].typos, 1);
}

TEST(LexicalIndexTest, TheSongBeforeItsVersionsUnlessAsked) {
  LexicalIndex index =
      Build({MakeTrack("Rain - Slowed Version", "A", "x"), MakeTrack("Rain", "A", "y")},
            {90, 10});
  auto hits = index.Search("rain", 2);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[0].position, 1);
  EXPECT_EQ((*hits)[1].unmatched_version, 2);
  hits = index.Search("rain slowed", 2);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ((*hits)[0].position, 0);
}

TEST(LexicalIndexTest, MoreQueryWordsMatchedWins) {
  LexicalIndex index = Build(
      {MakeTrack("bad guy", "Eminem", "x"), MakeTrack("bad guy", "Billie Eilish", "y")},
      {90, 10});
  auto hits = index.Search("billie bad guy", 2);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[0].position, 1);
  EXPECT_EQ((*hits)[0].words, 3);
  EXPECT_EQ((*hits)[0].fields, kFieldTitle | kFieldArtist);
}

// A rare word with a common one: the first hits come from looking the common word up in
// the rare word's tracks; they must be the first hits of the full walk (which a limit
// beyond the complete matches forces), filters and typos included.
TEST(LexicalIndexTest, ShortcutsRankLikeTheFullWalk) {
  std::vector<v1::Track> tracks;
  std::vector<int8_t> popularity;
  for (int i = 0; i < 20000; ++i) {
    std::string name = "Love Song " + std::to_string(i % 97);
    if (i % 500 == 7) name = "Zebra Love";           // both words, title
    if (i % 500 == 9) name = "Zebra Crossing";       // the rare word only
    if (i % 500 == 11) name = "Zebras In Love";      // a prefix / typo of the rare word
    if (i % 500 == 13) name = "Lover Of The Zebra";  // prefix of the common word
    if (i % 500 == 19) name = "Zebra Love Lover";    // the common word and its prefix
    tracks.push_back(MakeTrack(name, i % 500 == 17 ? "Zebra Band" : "Artist", "Album"));
    popularity.push_back(static_cast<int8_t>(i % 101));
  }
  LexicalIndex index = Build(tracks, popularity);
  auto some = [](int64_t position) { return position % 3 != 0; };
  // Several words (the rare word's lookup or the walk), and single words that stop after
  // their exact (love), prefix (lov, zebr) or typo (zebar, lovver) matches, or never
  // (crossing, song 4).
  for (const char* query :
       {"zebra love", "love zebra", "zebar love", "zebra lov", "love", "lov", "zebr",
        "zebar", "lovver", "crossing", "song 4", "zebras lover", "lover zebra"}) {
    for (bool filtered : {false, true}) {
      const std::function<bool(int64_t)> keep =
          filtered ? std::function<bool(int64_t)>(some) : nullptr;
      auto top = index.Search(query, 50, nullptr, keep);
      auto all = index.Search(query, 20000, nullptr, keep);
      ASSERT_TRUE(top.ok() && all.ok()) << query;
      ASSERT_EQ(top->size(), std::min<size_t>(50, all->size())) << query;
      ASSERT_FALSE(top->empty()) << query;
      for (size_t i = 0; i < top->size(); ++i) {
        const LexicalHit& a = (*top)[i];
        const LexicalHit& b = (*all)[i];
        EXPECT_EQ(a.position, b.position)
            << query << " filtered=" << filtered << " #" << i;
        EXPECT_EQ(a.words, b.words) << query;
        EXPECT_EQ(a.typos, b.typos) << query;
        EXPECT_EQ(a.prefixes, b.prefixes) << query;
        EXPECT_EQ(a.field_score, b.field_score) << query;
        EXPECT_EQ(a.fields, b.fields) << query;
        EXPECT_EQ(a.unmatched_title, b.unmatched_title) << query;
        EXPECT_EQ(a.unmatched_version, b.unmatched_version) << query;
      }
    }
  }
}

// Sixty album names one typo from each query word (two typos in all) must not end the
// walk before the title two typos from one word (two typos too, a better field) is seen.
TEST(LexicalIndexTest, LateTypoMatchesStillRankWhereTheyBelong) {
  std::vector<v1::Track> tracks;
  for (int i = 0; i < 60; ++i)
    tracks.push_back(MakeTrack("Song", "Artist", "Wondarful Chrastmas"));
  tracks.push_back(MakeTrack("Wonderful Chrxstmxs", "Artist", "Album"));
  LexicalIndex index = Build(tracks, std::vector<int8_t>(tracks.size(), 0));
  auto top = index.Search("wonderful christmas", 50);
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 50u);
  EXPECT_EQ((*top)[0].position, 60);
  EXPECT_EQ((*top)[0].typos, 2);
}

// A hundred tracks match both words but the filter keeps ten: the other forty results
// come from the tracks matching one word.
TEST(LexicalIndexTest, TheFilterCountsWhenSkippingTracksMatchingFewerWords) {
  std::vector<v1::Track> tracks;
  for (int i = 0; i < 100; ++i)
    tracks.push_back(MakeTrack("Alpha Beta", "Artist", "Album"));
  for (int i = 0; i < 1000; ++i)
    tracks.push_back(MakeTrack("Alpha Gamma", "Artist", "Album"));
  LexicalIndex index = Build(tracks, std::vector<int8_t>(tracks.size(), 0));
  const std::function<bool(int64_t)> keep = [](int64_t position) {
    return position >= 90;
  };
  auto top = index.Search("alpha beta", 50, nullptr, keep);
  auto all = index.Search("alpha beta", 2000, nullptr, keep);
  ASSERT_TRUE(top.ok() && all.ok());
  ASSERT_EQ(top->size(), 50u);
  for (size_t i = 0; i < top->size(); ++i) {
    EXPECT_EQ((*top)[i].position, (*all)[i].position) << i;
    EXPECT_EQ((*top)[i].words, i < 10 ? 2 : 1) << i;
  }
}

TEST(LexicalIndexTest, RejectsInconsistentData) {
  LexicalIndexBuilder builder;
  builder.Add(0, MakeTrack("a b", "c", "d"));
  v1::LexicalIndex proto = builder.Finish(2);
  EXPECT_TRUE(LexicalIndex::FromProto(proto, {0, 0}).ok());
  EXPECT_EQ(LexicalIndex::FromProto(proto, {0}).status().code(),
            absl::StatusCode::kDataLoss);
  v1::LexicalIndex bad = proto;
  bad.set_posting_position_delta(0, 7);  // beyond the two tracks
  EXPECT_EQ(LexicalIndex::FromProto(bad, {0, 0}).status().code(),
            absl::StatusCode::kDataLoss);
  bad = proto;
  bad.mutable_posting_fields()->pop_back();
  EXPECT_EQ(LexicalIndex::FromProto(bad, {0, 0}).status().code(),
            absl::StatusCode::kDataLoss);
  bad = proto;
  bad.mutable_terms()->SwapElements(0, 1);
  EXPECT_EQ(LexicalIndex::FromProto(bad, {0, 0}).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(LexicalIndexTest, InvalidUtf8IsInvalidArgument) {
  LexicalIndex index = Build({MakeTrack("a", "b", "c")});
  EXPECT_EQ(index.Search("caf\xC3", 5).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cratedig
