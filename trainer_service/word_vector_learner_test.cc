#include "trainer_service/word_vector_learner.h"

#include <fasttext/dictionary.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace cratedig::trainer {
namespace {

std::vector<std::string> Titles() {
  std::vector<std::string> titles;
  for (int i = 0; i < 40; ++i) {
    titles.push_back("Money for Nothing");
    titles.push_back("Cash Money Rain");
    titles.push_back("Purple Rain - Remastered");
    titles.push_back("Summer Rain in the City");
    titles.push_back("Café del Mar");
  }
  return titles;
}

WordVectorOptions Small() {
  WordVectorOptions o;
  o.dim = 8;
  o.epochs = 5;
  o.buckets = 512;
  o.threads = 1;
  o.seed = 7;
  return o;
}

TEST(WordVectorLearnerTest, LearnsEveryWordAndSubwordsForUnknownOnes) {
  auto v = LearnWordVectors(Titles(), Small());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->dim(), 8);
  EXPECT_EQ(v->words(), 14);  // normalised words: cafe, del, mar, remastered, ...
  EXPECT_EQ(v->subword_buckets(), 512);
  std::vector<float> out;
  EXPECT_TRUE(v->WordVector("cafe", &out)) << "accents folded as TextWords folds them";
  EXPECT_TRUE(v->WordVector("mony", &out)) << "an unseen word has its n-grams";
  auto embedded = v->Embed("Purple Rain");
  ASSERT_TRUE(embedded.ok());
  double norm = 0;
  for (float x : *embedded) norm += double(x) * x;
  EXPECT_NEAR(norm, 1.0, 1e-5);
}

TEST(WordVectorLearnerTest, OneThreadAndASeedGiveTheSameVectors) {
  auto a = LearnWordVectors(Titles(), Small());
  auto b = LearnWordVectors(Titles(), Small());
  ASSERT_TRUE(a.ok() && b.ok());
  v1::WordVectors pa, pb;
  a->ToProto(&pa);
  b->ToProto(&pb);
  EXPECT_EQ(pa.SerializeAsString(), pb.SerializeAsString());
  WordVectorOptions other = Small();
  other.seed = 8;
  auto c = LearnWordVectors(Titles(), other);
  ASSERT_TRUE(c.ok());
  v1::WordVectors pc;
  c->ToProto(&pc);
  EXPECT_NE(pa.SerializeAsString(), pc.SerializeAsString()) << "the seed matters";
}

TEST(WordVectorLearnerTest, HashesSubwordsAsFastTextDoes) {
  fasttext::Dictionary dictionary(std::make_shared<fasttext::Args>());
  for (const std::string s : {"<mo", "ony>", "caf\xc3\xa9", "\xe6\x84\x9b>", ""}) {
    EXPECT_EQ(WordVectors::SubwordHash(s), dictionary.hash(s)) << s;
  }
}

TEST(WordVectorLearnerTest, RejectsBadOptionsAndEmptyText) {
  WordVectorOptions bad = Small();
  bad.dim = 0;
  EXPECT_EQ(LearnWordVectors(Titles(), bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LearnWordVectors({"!!!", ""}, Small()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace cratedig::trainer
