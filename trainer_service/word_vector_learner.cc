#include "trainer_service/word_vector_learner.h"

#include <fasttext/fasttext.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_set.h"
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

namespace {

// fastText's loader trusts the file: a model cut short makes it loop for ever (it reads
// a word until a NUL byte that never comes) or allocate what the garbage says. This walks
// the layout fastText 0.9 writes (FastText::saveModel: magic, version, Args::save,
// Dictionary::save, the input and output matrices) and checks every length against the
// file before fastText reads it.
absl::Status CheckFastTextLayout(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(0, std::ios::end);
  const int64_t size = in.tellg();
  in.seekg(0);
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("word vectors ", path, " is not a whole fastText model: ", why));
  };
  auto read = [&](auto* value) {
    in.read(reinterpret_cast<char*>(value), sizeof(*value));
    return in.gcount() == sizeof(*value);
  };
  int32_t magic = 0, version = 0;
  if (!read(&magic) || !read(&version)) return bad("too short");
  if (version < 11 || version > 12) return bad(absl::StrCat("version ", version));
  // Args: dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn,
  // lrUpdateRate (int32 each), then t (double).
  int32_t args[12];
  double t = 0;
  for (int32_t& a : args) {
    if (!read(&a)) return bad("cut in its settings");
  }
  if (!read(&t)) return bad("cut in its settings");
  const int64_t dim = args[0], bucket = args[8];
  if (dim < 1 || dim > 4096 || bucket < 0) return bad("settings out of range");
  int32_t entries = 0, nwords = 0, nlabels = 0;
  int64_t ntokens = 0, pruned = 0;
  if (!read(&entries) || !read(&nwords) || !read(&nlabels) || !read(&ntokens) ||
      !read(&pruned)) {
    return bad("cut in its dictionary");
  }
  if (entries < 0 || nwords < 0 || nlabels < 0 || int64_t{nwords} + nlabels != entries) {
    return bad("dictionary counts disagree");
  }
  for (int32_t i = 0; i < entries; ++i) {
    int c;
    int64_t length = 0;
    while ((c = in.get()) != 0) {
      if (c == std::char_traits<char>::eof() || ++length > (1 << 20)) {
        return bad("cut in its dictionary");
      }
    }
    in.seekg(sizeof(int64_t) + sizeof(int8_t), std::ios::cur);  // count, type
  }
  if (pruned > 0) in.seekg(pruned * 2 * sizeof(int32_t), std::ios::cur);
  int64_t at = in.tellg();
  if (!in || at > size) return bad("cut in its dictionary");
  for (const char* matrix : {"input", "output"}) {
    char quantized = 0;
    int64_t rows = 0, columns = 0;
    if (!read(&quantized)) return bad(absl::StrCat("cut before its ", matrix, " matrix"));
    if (quantized != 0) return bad("quantised (.ftz) models are not read");
    // The input matrix holds a row per word and per n-gram bucket: fastText indexes it
    // so.
    if (!read(&rows) || !read(&columns) || rows < 0 || columns != dim ||
        (matrix == std::string_view("input") && rows != int64_t{nwords} + bucket) ||
        rows > (size - in.tellg()) / static_cast<int64_t>(sizeof(float)) / dim) {
      return bad(absl::StrCat("its ", matrix, " matrix is cut or misshapen"));
    }
    in.seekg(rows * columns * static_cast<int64_t>(sizeof(float)), std::ios::cur);
  }
  at = in.tellg();
  if (!in || at != size) return bad("its size disagrees with its contents");
  return absl::OkStatus();
}

}  // namespace

bool IsFastTextModel(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  int32_t magic = 0;
  in.read(reinterpret_cast<char*>(&magic), sizeof(magic));
  // fastText's FASTTEXT_FILEFORMAT_MAGIC_INT32 (fasttext.cc, not in its headers).
  return in.gcount() == sizeof(magic) && magic == 793712314;
}

absl::StatusOr<WordVectors> ReadFastTextModel(
    const std::string& path,
    const std::function<bool(absl::string_view word, int64_t rank)>& keep,
    int64_t max_subword_floats) {
  if (!std::ifstream(path, std::ios::binary).is_open()) {
    return absl::NotFoundError(absl::StrCat("word vectors ", path, " cannot be opened"));
  }
  if (absl::Status layout = CheckFastTextLayout(path); !layout.ok()) return layout;
  fasttext::FastText model;
  try {
    model.loadModel(path);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("word vectors ", path, ": fastText refuses it: ", e.what()));
  }
  const int dim = model.getDimension();
  std::shared_ptr<const fasttext::Dictionary> dict = model.getDictionary();
  std::vector<std::string> words;
  std::vector<float> vectors;
  absl::flat_hash_set<std::string> seen;
  fasttext::Vector v(dim);
  for (int32_t i = 0; i < dict->nwords(); ++i) {
    const std::string& raw = dict->getWord(i);
    if (raw == fasttext::Dictionary::EOS) continue;
    std::optional<std::string> word = WordVectors::FileWord(raw);
    if (!word || seen.contains(*word) || !keep(*word, i)) continue;
    model.getWordVector(v, raw);
    vectors.insert(vectors.end(), v.data(), v.data() + dim);
    seen.insert(*word);
    words.push_back(*std::move(word));
  }
  if (words.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("word vectors ", path, " holds no word to keep"));
  }
  const fasttext::Args& args = model.getArgs();
  std::vector<float> subwords;
  if (args.maxn > 0 && args.bucket > 0 &&
      static_cast<int64_t>(args.bucket) * dim <= max_subword_floats) {
    // A dense matrix of nwords + bucket rows: CheckFastTextLayout refused any other.
    std::shared_ptr<const fasttext::DenseMatrix> input = model.getInputMatrix();
    const float* begin = input->data() + static_cast<int64_t>(dict->nwords()) * dim;
    subwords.assign(begin, begin + static_cast<int64_t>(args.bucket) * dim);
  }
  if (subwords.empty())
    return WordVectors::Create(dim, std::move(words), std::move(vectors));
  return WordVectors::Create(dim, std::move(words), std::move(vectors), args.minn,
                             args.maxn, std::move(subwords));
}

}  // namespace cratedig::trainer
