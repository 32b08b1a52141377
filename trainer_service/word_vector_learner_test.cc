#include "trainer_service/word_vector_learner.h"

#include <fasttext/dictionary.h>
#include <fasttext/fasttext.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
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

double Cosine(const std::vector<float>& a, const fasttext::Vector& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

// A small fastText model saved as .bin, read back: fastText's own vectors for its words
// and, through the n-gram buckets, for a word it never saw.
TEST(WordVectorLearnerTest, ReadsAFastTextModel) {
  const std::string dir =
      ::testing::TempDir() + "/fasttext_bin." + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  {
    std::ofstream corpus(dir + "/corpus.txt");
    for (const std::string& title : Titles()) corpus << title << "\n";
  }
  fasttext::Args args;
  args.input = dir + "/corpus.txt";
  args.model = fasttext::model_name::sg;
  args.dim = 8;
  args.epoch = 5;
  args.minCount = 1;
  args.minn = 3;
  args.maxn = 5;
  args.bucket = 256;
  args.thread = 1;
  args.verbose = 0;
  fasttext::FastText model;
  model.train(args);
  model.saveModel(dir + "/model.bin");

  EXPECT_TRUE(IsFastTextModel(dir + "/model.bin"));
  EXPECT_FALSE(IsFastTextModel(dir + "/corpus.txt"));
  EXPECT_FALSE(IsFastTextModel(dir + "/absent.bin"));
  auto all = [](absl::string_view, int64_t) { return true; };
  auto read = ReadFastTextModel(dir + "/model.bin", all, 1 << 20);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->dim(), 8);
  EXPECT_EQ(read->subword_buckets(), 256);
  std::vector<float> ours;
  fasttext::Vector theirs(8);
  // "Money" is in the model's dictionary as written; the table keeps it normalised.
  ASSERT_TRUE(read->WordVector("money", &ours));
  model.getWordVector(theirs, "Money");
  EXPECT_GT(Cosine(ours, theirs), 0.999);
  ASSERT_TRUE(read->WordVector("monney", &ours)) << "an unseen word has its n-grams";
  model.getWordVector(theirs, "monney");
  EXPECT_GT(Cosine(ours, theirs), 0.999);

  // Buckets beyond the limit are left out: unseen words then have no vector.
  auto words_only = ReadFastTextModel(dir + "/model.bin", all, 100);
  ASSERT_TRUE(words_only.ok()) << words_only.status();
  EXPECT_EQ(words_only->subword_buckets(), 0);
  EXPECT_TRUE(words_only->WordVector("money", &ours));
  EXPECT_FALSE(words_only->WordVector("monney", &ours));
  // keep() chooses the words, by their normalised form and rank.
  auto only_rain = ReadFastTextModel(
      dir + "/model.bin", [](absl::string_view w, int64_t) { return w == "rain"; }, 0);
  ASSERT_TRUE(only_rain.ok()) << only_rain.status();
  EXPECT_EQ(only_rain->words(), 1);
  EXPECT_EQ(ReadFastTextModel(
                dir + "/model.bin", [](absl::string_view, int64_t) { return false; }, 0)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(ReadFastTextModel(dir + "/absent.bin", all, 0).status().code(),
            absl::StatusCode::kNotFound);
  {
    std::ofstream bad(dir + "/bad.bin", std::ios::binary);
    bad << "not a model at all";
  }
  EXPECT_EQ(ReadFastTextModel(dir + "/bad.bin", all, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Cut anywhere, or grown by a byte: refused, never a hang (fastText's own loader loops
  // for ever on a model cut inside its dictionary).
  std::string whole;
  {
    std::ifstream in(dir + "/model.bin", std::ios::binary);
    whole.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::vector<size_t> cuts;
  for (size_t n = 4; n < whole.size(); n += 1 + n / 3) cuts.push_back(n);
  for (size_t n = 4; n < 400 && n < whole.size(); ++n) cuts.push_back(n);
  for (size_t n : cuts) {
    std::ofstream(dir + "/cut.bin", std::ios::binary) << whole.substr(0, n);
    EXPECT_EQ(ReadFastTextModel(dir + "/cut.bin", all, 0).status().code(),
              absl::StatusCode::kInvalidArgument)
        << n << " of " << whole.size() << " bytes";
  }
  std::ofstream(dir + "/long.bin", std::ios::binary) << whole << 'x';
  EXPECT_EQ(ReadFastTextModel(dir + "/long.bin", all, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cratedig::trainer
