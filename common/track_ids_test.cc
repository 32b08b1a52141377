#include "common/track_ids.h"

#include <initializer_list>
#include <string>

#include "gtest/gtest.h"

namespace cratedig {
namespace {

constexpr char kId[] = "4uLU6hMCjMI75M1A2tKUQC";

TEST(IsSpotifyIdTest, Base62Of22) {
  EXPECT_TRUE(IsSpotifyId(kId));
  EXPECT_TRUE(IsSpotifyId("0000000000000000000000"));
  EXPECT_FALSE(IsSpotifyId("4uLU6hMCjMI75M1A2tKUQ"));    // 21
  EXPECT_FALSE(IsSpotifyId("4uLU6hMCjMI75M1A2tKUQCx"));  // 23
  EXPECT_FALSE(IsSpotifyId("4uLU6hMCjMI75M1A2tKU-C"));
  EXPECT_FALSE(IsSpotifyId("4uLU6hMCjMI75M1A2tKU C"));
  EXPECT_FALSE(IsSpotifyId("4uLU6hMCjMI75M1A2tKUQé"));
  EXPECT_FALSE(IsSpotifyId(""));
}

TEST(ParseSpotifyTrackIdTest, Forms) {
  EXPECT_EQ(ParseSpotifyTrackId(kId), kId);
  EXPECT_EQ(ParseSpotifyTrackId(std::string("  ") + kId + "\n"), kId);
  EXPECT_EQ(ParseSpotifyTrackId(std::string("spotify:track:") + kId), kId);
  EXPECT_EQ(ParseSpotifyTrackId(std::string("https://open.spotify.com/track/") + kId),
            kId);
  EXPECT_EQ(ParseSpotifyTrackId(std::string("https://open.spotify.com/track/") + kId +
                                "?si=abc123&utm_source=copy-link"),
            kId);
  EXPECT_EQ(
      ParseSpotifyTrackId(std::string("http://open.spotify.com/track/") + kId + "#x"),
      kId);
  EXPECT_EQ(ParseSpotifyTrackId(std::string("open.spotify.com/track/") + kId), kId);
  EXPECT_EQ(
      ParseSpotifyTrackId(std::string("https://open.spotify.com/intl-de/track/") + kId),
      kId);
  EXPECT_EQ(
      ParseSpotifyTrackId(std::string("https://open.spotify.com/embed/track/") + kId),
      kId);
}

TEST(ParseSpotifyTrackIdTest, Rejects) {
  EXPECT_EQ(ParseSpotifyTrackId(""), "");
  EXPECT_EQ(ParseSpotifyTrackId("despacito"), "");
  EXPECT_EQ(ParseSpotifyTrackId(std::string("spotify:album:") + kId), "");
  EXPECT_EQ(ParseSpotifyTrackId(std::string("https://open.spotify.com/album/") + kId),
            "");
  EXPECT_EQ(ParseSpotifyTrackId(std::string("https://example.com/track/") + kId), "");
  EXPECT_EQ(ParseSpotifyTrackId("spotify:track:tooShort"), "");
  EXPECT_EQ(ParseSpotifyTrackId("https://open.spotify.com/track/"), "");
}

v1::Track MakeTrack(const std::string& name, std::initializer_list<std::string> artists) {
  v1::Track track;
  track.set_name(name);
  for (const std::string& a : artists) track.add_artists()->set_name(a);
  return track;
}

TEST(DuplicateKeyTest, SameSongSameKey) {
  EXPECT_EQ(DuplicateKey(MakeTrack("Despacito", {"Luis Fonsi", "Daddy Yankee"})),
            DuplicateKey(MakeTrack("DESPACITO!", {"Daddy Yankee", "Luis Fonsí"})));
  EXPECT_EQ(DuplicateKey(MakeTrack("Rehén", {"Ozuna"})), "rehen\x1fozuna");
  EXPECT_EQ(DuplicateKey(MakeTrack("A", {"b", "a"})),
            "a\x1f"
            "a\x1e"
            "b");
}

TEST(DuplicateKeyTest, DifferentSongsDifferentKeys) {
  EXPECT_NE(DuplicateKey(MakeTrack("Despacito", {"Luis Fonsi"})),
            DuplicateKey(MakeTrack("Despacito - Remix", {"Luis Fonsi"})));
  EXPECT_NE(DuplicateKey(MakeTrack("Hello", {"Adele"})),
            DuplicateKey(MakeTrack("Hello", {"Lionel Richie"})));
  // The separators keep name and artists apart.
  EXPECT_NE(DuplicateKey(MakeTrack("a b", {"c"})), DuplicateKey(MakeTrack("a", {"b c"})));
}

TEST(DuplicateKeyTest, InvalidUtf8FallsBackToLowercase) {
  EXPECT_EQ(DuplicateKey(MakeTrack("AB\xFF", {"X"})), "ab\xFF\x1fx");
}

}  // namespace
}  // namespace cratedig
