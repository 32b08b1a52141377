#include "query_service/cli/track_args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "query_service/cli/human_output.h"

namespace cratedig::cli {
namespace {

using ::testing::ElementsAre;

constexpr char kId[] = "4uLU6hMCjMI75M1A2tKUQC";

TEST(TrackArgsTest, NormalizeAcceptsIdsUrisAndUrls) {
  EXPECT_EQ(NormalizeTrackId(kId), kId);
  EXPECT_EQ(NormalizeTrackId(std::string("spotify:track:") + kId), kId);
  EXPECT_EQ(
      NormalizeTrackId(std::string("https://open.spotify.com/track/") + kId + "?si=x"),
      kId);
}

TEST(TrackArgsTest, NormalizePassesUnparsableArgumentsThrough) {
  EXPECT_EQ(NormalizeTrackId("not-an-id"), "not-an-id");
  EXPECT_EQ(NormalizeTrackId("spotify:album:x"), "spotify:album:x");
  EXPECT_THAT(NormalizeTrackIds({"bad", kId}), ElementsAre("bad", kId));
}

TEST(TrackArgsTest, SplitIdLineDropsEmptyPieces) {
  EXPECT_THAT(SplitIdLine("a  b\tc "), ElementsAre("a", "b", "c"));
  EXPECT_TRUE(SplitIdLine("   ").empty());
}

TEST(TrackArgsTest, JoinArgsMakesOneQuery) {
  EXPECT_EQ(JoinArgs({"daft", "punk"}), "daft punk");
  EXPECT_EQ(JoinArgs({"money"}), "money");
}

TEST(TrackArgsTest, BatchReaderSkipsBlankLinesAndKeepsNumbers) {
  std::istringstream in("first query\r\n\n   \n  second  \nlast");
  BatchReader reader(in);
  std::optional<BatchLine> line = reader.Next();
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->number, 1);
  EXPECT_EQ(line->text, "first query");
  line = reader.Next();
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->number, 4);
  EXPECT_EQ(line->text, "second");
  line = reader.Next();
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->number, 5);
  EXPECT_EQ(line->text, "last");
  EXPECT_FALSE(reader.Next().has_value());
}

TEST(HumanOutputTest, TruncateCountsCodePoints) {
  EXPECT_EQ(DisplayWidth("Sigur Rós"), 9u);
  EXPECT_EQ(Truncate("Sigur Rós", 9), "Sigur Rós");
  EXPECT_EQ(Truncate("Sigur Rós", 8), "Sigur R…");
  EXPECT_EQ(Truncate("ÁÉÍÓÚ", 3), "ÁÉ…");
}

TEST(HumanOutputTest, TableIsAligned) {
  google::protobuf::RepeatedPtrField<v1::ScoredTrack> results;
  v1::ScoredTrack* first = results.Add();
  first->mutable_track()->set_name("Money");
  first->mutable_track()->add_artists()->set_name("Pink Floyd");
  first->mutable_track()->add_genres("art rock");
  first->set_distance(0.125f);
  v1::ScoredTrack* second = results.Add();
  second->mutable_track()->set_name("Só");
  second->set_distance(1.5f);
  std::ostringstream out;
  PrintResultsTable(results, out);
  EXPECT_EQ(out.str(),
            "rank  distance  track  artists     genres\n"
            "   1    0.1250  Money  Pink Floyd  art rock\n"
            "   2    1.5000  Só\n");
}

}  // namespace
}  // namespace cratedig::cli
