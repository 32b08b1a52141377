#include "common/text_embedder.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cratedig {
namespace {

const std::vector<std::string>& Names() {
  static const auto* const names = new std::vector<std::string>{
      "Despacito - Remix",
      "Shape of You",
      "Blinding Lights",
      "Bohemian Rhapsody - Remastered 2011",
      "Dance Monkey",
      "Rolling in the Deep",
      "Someone Like You",
      "Smells Like Teen Spirit",
      "Running Up That Hill (A Deal With God)",
      "Hotel California - 2013 Remaster",
      "Hey Jude - Remastered 2015",
      "Mi Gente",
      "Gasolina",
      "Con Calma",
      "Tusa",
      "東京フラッシュ",
  };
  return *names;
}

std::vector<float> EmbedOk(const TextEmbedder& embedder, const std::string& text) {
  absl::StatusOr<std::vector<float>> v = embedder.Embed(text);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : std::vector<float>(embedder.dim(), 0.0f);
}

double Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0.0;
  for (size_t i = 0; i < a.size(); ++i) dot += static_cast<double>(a[i]) * b[i];
  return dot;
}

// Index in Names() of the name nearest to `query`.
size_t Nearest(const TextEmbedder& embedder, const std::string& query) {
  const std::vector<float> q = EmbedOk(embedder, query);
  size_t best = 0;
  double best_dot = -2.0;
  for (size_t i = 0; i < Names().size(); ++i) {
    const double dot = Dot(q, EmbedOk(embedder, Names()[i]));
    if (dot > best_dot) {
      best_dot = dot;
      best = i;
    }
  }
  return best;
}

TEST(TextEmbedderTest, Deterministic) {
  const TextEmbedder a = TextEmbedder::Fit(Names(), 256);
  const TextEmbedder b = TextEmbedder::Fit(Names(), 256);
  EXPECT_EQ(a.idf(), b.idf());
  EXPECT_EQ(EmbedOk(a, "Despacito"), EmbedOk(b, "Despacito"));
  EXPECT_EQ(EmbedOk(a, "Despacito"), EmbedOk(a, "Despacito"));
}

TEST(TextEmbedderTest, StableAcrossBuilds) {
  // The buckets are part of the snapshot format: a change here breaks old snapshots.
  const TextEmbedder embedder = TextEmbedder::Fit({}, 16);
  const std::vector<float> v = EmbedOk(embedder, "a");
  // "a": the word plus the trigram "<a>", in two fixed buckets of 16.
  int nonzero = 0;
  for (float x : v) nonzero += x != 0.0f;
  EXPECT_EQ(nonzero, 2);
  std::vector<int> buckets;
  for (int i = 0; i < 16; ++i) {
    if (v[i] != 0.0f) buckets.push_back(i);
  }
  EXPECT_THAT(buckets, ::testing::ElementsAre(9, 12));
}

TEST(TextEmbedderTest, UnitLength) {
  const TextEmbedder embedder = TextEmbedder::Fit(Names(), 128);
  for (const std::string& name : Names()) {
    const std::vector<float> v = EmbedOk(embedder, name);
    ASSERT_EQ(v.size(), 128u);
    EXPECT_NEAR(Dot(v, v), 1.0, 1e-5) << name;
  }
}

TEST(TextEmbedderTest, EmptyTextIsZero) {
  const TextEmbedder embedder = TextEmbedder::Fit(Names(), 64);
  for (const char* text : {"", "  ", "!!! ---"}) {
    const std::vector<float> v = EmbedOk(embedder, text);
    EXPECT_EQ(v, std::vector<float>(64, 0.0f)) << text;
  }
}

TEST(TextEmbedderTest, InvalidUtf8) {
  const TextEmbedder embedder = TextEmbedder::Fit(Names(), 64);
  EXPECT_EQ(embedder.Embed("bad\xFF").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TextEmbedderTest, NameIsItsOwnNearestNeighbour) {
  const TextEmbedder embedder = TextEmbedder::Fit(Names(), 512);
  for (size_t i = 0; i < Names().size(); ++i) {
    EXPECT_EQ(Nearest(embedder, Names()[i]), i) << Names()[i];
  }
}

TEST(TextEmbedderTest, PartialAndMisspelledQueries) {
  const TextEmbedder embedder = TextEmbedder::Fit(Names(), 512);
  EXPECT_EQ(Names()[Nearest(embedder, "despacito")], "Despacito - Remix");
  EXPECT_EQ(Names()[Nearest(embedder, "despasito")], "Despacito - Remix");
  EXPECT_EQ(Names()[Nearest(embedder, "BOHEMIAN rapsody")],
            "Bohemian Rhapsody - Remastered 2011");
  EXPECT_EQ(Names()[Nearest(embedder, "hotel californa")],
            "Hotel California - 2013 Remaster");
  EXPECT_EQ(Names()[Nearest(embedder, "東京")], "東京フラッシュ");
}

TEST(TextEmbedderTest, RareWordsWeighMore) {
  const std::vector<std::string> texts = {"love song", "love me", "love you",
                                          "love story", "zebra"};
  const TextEmbedder embedder = TextEmbedder::Fit(texts, 1024);
  const std::vector<float> q = EmbedOk(embedder, "love zebra");
  EXPECT_GT(Dot(q, EmbedOk(embedder, "zebra")), Dot(q, EmbedOk(embedder, "love")));
}

TEST(TextEmbedderTest, FromIdfRoundTrip) {
  const TextEmbedder fitted = TextEmbedder::Fit(Names(), 256);
  absl::StatusOr<TextEmbedder> loaded = TextEmbedder::FromIdf(fitted.idf());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->dim(), 256);
  for (const std::string& name : Names()) {
    EXPECT_EQ(EmbedOk(*loaded, name), EmbedOk(fitted, name)) << name;
  }
}

TEST(TextEmbedderTest, FromIdfValidates) {
  EXPECT_FALSE(TextEmbedder::FromIdf(std::vector<float>(15, 1.0f)).ok());
  std::vector<float> idf(32, 1.0f);
  idf[7] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(TextEmbedder::FromIdf(idf).status().code(),
            absl::StatusCode::kInvalidArgument);
  idf[7] = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(TextEmbedder::FromIdf(idf).ok());
}

}  // namespace
}  // namespace cratedig
