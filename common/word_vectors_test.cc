#include "common/word_vectors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace cratedig {
namespace {

using ::testing::HasSubstr;

class WordVectorsFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    path_ = absl::StrCat(::testing::TempDir(), "/vectors.", ++count_, ".txt");
    std::ofstream(path_) << text;
    return path_;
  }
  static bool KeepAll(absl::string_view, int64_t) { return true; }
  void TearDown() override { std::remove(path_.c_str()); }

  std::string path_;
  int count_ = 0;
};

float Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0;
  for (size_t i = 0; i < a.size(); ++i) dot += double(a[i]) * b[i];
  return static_cast<float>(dot);
}

TEST_F(WordVectorsFileTest, ReadsFastTextVecWithItsHeader) {
  auto v = WordVectors::ReadTextFile(
      Write("4 3\nmoney 1 0 0\ncash 0.9 0.1 0\nRain 0 0 1\nrehén 0 1 0\n"), KeepAll);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->dim(), 3);
  EXPECT_EQ(v->words(), 4);
  std::vector<float> rain;
  EXPECT_TRUE(v->WordVector("rain", &rain)) << "words are normalised: Rain -> rain";
  EXPECT_TRUE(v->WordVector("rehen", &rain)) << "accents folded";
  EXPECT_FALSE(v->WordVector("snow", &rain)) << "no subwords: unknown words have none";
  auto money = v->Embed("Money");
  auto cash = v->Embed("CASH!");
  auto rain_text = v->Embed("Rain, snow");  // snow skipped
  ASSERT_TRUE(money.ok() && cash.ok() && rain_text.ok());
  EXPECT_GT(Cosine(*money, *cash), 0.99f);
  EXPECT_NEAR(Cosine(*money, *rain_text), 0.0f, 1e-6);
  EXPECT_NEAR((*rain_text)[2], 1.0f, 1e-6);
  auto nothing = v->Embed("snow");
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(*nothing, std::vector<float>(3, 0.0f));
}

TEST_F(WordVectorsFileTest, ReadsGloVeWithoutHeaderAndKeepsWhatIsAsked) {
  auto v = WordVectors::ReadTextFile(
      Write("the 0.1 0.2\nlove -1e-1 2.5\nheart 1 1\nLove 9 9\nrock'n'roll 3 3\n"),
      [](absl::string_view word, int64_t rank) { return rank < 2 || word == "heart"; });
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->dim(), 2);
  EXPECT_EQ(v->words(), 3);  // the, love, heart; "Love" repeats love; the last is past rank
  std::vector<float> love;
  ASSERT_TRUE(v->WordVector("love", &love));
  EXPECT_FLOAT_EQ(love[1], 2.5f) << "the first occurrence of a normalised word wins";
}

TEST_F(WordVectorsFileTest, BadFilesNameTheLine) {
  struct Case {
    std::string text;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"2 3\nmoney 1 0 0\ncash 1 0\n", "line 3: 2 numbers where the dimension is 3"},
           {"money 1 0\ncash 1 zero\n", "line 2: value 2 'zero' is not a finite number"},
           {"money 1 0\nhip hop 1 0\n", "line 2: 3 numbers where the dimension is 2"},
           {"money 1 nan\n", "line 1: value 2 'nan' is not a finite number"},
           {"2 3\nmoney\n", "line 2: holds a word without numbers"},
           {"money 1 0\n\ncash 1 0\n", "line 2: is empty"},
           {"1 0\n", "line 1: dimension 0 is outside"},
           {"", "holds no vector"},
       }) {
    auto v = WordVectors::ReadTextFile(Write(c.text), KeepAll);
    ASSERT_FALSE(v.ok()) << c.text;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(v.status().message(), HasSubstr(c.message)) << c.text;
    EXPECT_THAT(v.status().message(), HasSubstr(path_)) << c.text;
  }
  auto missing = WordVectors::ReadTextFile("/nonexistent/vectors.vec", KeepAll);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST(WordVectorsTest, UnknownWordsTakeTheirSubwordVectors) {
  // Two buckets: every n-gram lands in one of them.
  const std::vector<float> buckets = {1, 0, 0, 1};
  auto v = WordVectors::Create(2, {"money"}, {0.5f, 0.5f}, 3, 3, buckets);
  ASSERT_TRUE(v.ok()) << v.status();
  std::vector<float> mony;
  ASSERT_TRUE(v->WordVector("mony", &mony));  // <mo mon ony ny>: four n-grams
  int ones = 0;
  for (const char* gram : {"<mo", "mon", "ony", "ny>"}) {
    ones += WordVectors::SubwordHash(gram) % 2;
  }
  EXPECT_FLOAT_EQ(mony[0], (4 - ones) / 4.0f);
  EXPECT_FLOAT_EQ(mony[1], ones / 4.0f);
  std::vector<float> money;
  ASSERT_TRUE(v->WordVector("money", &money));
  EXPECT_EQ(money, (std::vector<float>{0.5f, 0.5f})) << "a known word keeps its own";

  v1::WordVectors proto;
  v->ToProto(&proto);
  auto back = WordVectors::FromProto(proto);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back->Embed("mony money"), *v->Embed("mony money"));
  EXPECT_EQ(back->subword_buckets(), 2);
}

TEST(WordVectorsTest, CreateRejectsInconsistentTables) {
  EXPECT_FALSE(WordVectors::Create(2, {"a"}, {1}).ok());
  EXPECT_FALSE(WordVectors::Create(2, {"a", "a"}, {1, 0, 0, 1}).ok());
  EXPECT_FALSE(WordVectors::Create(1, {"a"}, {NAN}).ok());
  EXPECT_FALSE(WordVectors::Create(2, {"a"}, {1, 0}, 3, 2, {1, 0}).ok());
  EXPECT_FALSE(WordVectors::Create(0, {}, {}).ok());
}

}  // namespace
}  // namespace cratedig
