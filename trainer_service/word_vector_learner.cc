#include "trainer_service/word_vector_learner.h"

#include <fasttext/fasttext.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/text.h"

namespace cratedig::trainer {
namespace {

// fastText reads its corpus from a file; this one is removed however training ends.
class CorpusFile {
 public:
  CorpusFile()
      : path_((std::filesystem::temp_directory_path() /
               absl::StrCat("cratedig-words.", getpid(), ".", ++counter_))
                  .string()) {}
  ~CorpusFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  static inline std::atomic<int> counter_{0};
  std::string path_;
};

}  // namespace

absl::StatusOr<WordVectors> LearnWordVectors(const std::vector<std::string>& texts,
                                             const WordVectorOptions& o) {
  if (o.dim < 1 || o.dim > 1024 || o.epochs < 1 || o.threads < 1 || o.buckets < 0 ||
      (o.max_n > 0 && (o.min_n < 1 || o.max_n < o.min_n || o.buckets < 1))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "word vector options: dim ", o.dim, ", epochs ", o.epochs, ", threads ",
        o.threads, ", n-grams ", o.min_n, "..", o.max_n, " in ", o.buckets, " buckets"));
  }
  CorpusFile corpus;
  int64_t lines = 0;
  {
    std::ofstream out(corpus.path(), std::ios::trunc);
    for (const std::string& text : texts) {
      absl::StatusOr<std::vector<std::string>> words = TextWords(text);
      if (!words.ok() || words->empty()) continue;
      out << absl::StrJoin(*words, " ") << '\n';
      ++lines;
    }
    out.close();
    if (!out) {
      return absl::InternalError(absl::StrCat("cannot write the corpus ", corpus.path()));
    }
  }
  if (lines == 0) {
    return absl::FailedPreconditionError("no word to learn vectors from");
  }
  fasttext::Args args;
  args.input = corpus.path();
  args.model = fasttext::model_name::sg;
  args.dim = o.dim;
  args.epoch = o.epochs;
  args.minCount = 1;
  args.minn = o.max_n > 0 ? o.min_n : 0;
  args.maxn = o.max_n;
  args.bucket = o.max_n > 0 ? o.buckets : 0;
  args.thread = o.threads;
  args.seed = o.seed;
  args.verbose = 0;
  fasttext::FastText model;
  try {
    model.train(args);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("fastText: ", e.what()));
  }
  std::shared_ptr<const fasttext::Dictionary> dict = model.getDictionary();
  std::vector<std::string> words;
  std::vector<float> vectors;
  fasttext::Vector v(o.dim);
  for (int32_t i = 0; i < dict->nwords(); ++i) {
    std::string word = dict->getWord(i);
    if (word == fasttext::Dictionary::EOS) continue;
    model.getWordVector(v, word);
    vectors.insert(vectors.end(), v.data(), v.data() + o.dim);
    words.push_back(std::move(word));
  }
  std::vector<float> subwords;
  if (args.bucket > 0) {
    std::shared_ptr<const fasttext::DenseMatrix> input = model.getInputMatrix();
    const float* begin = input->data() + static_cast<int64_t>(dict->nwords()) * o.dim;
    subwords.assign(begin, begin + static_cast<int64_t>(args.bucket) * o.dim);
  }
  WordVectors::Center(o.dim, &vectors, &subwords);
  return WordVectors::Create(o.dim, std::move(words), std::move(vectors), args.minn,
                             args.maxn, std::move(subwords));
}

}  // namespace cratedig::trainer
