#pragma once

// Word vectors for track names, the "meaning" side of Search: each word (as TextWords
// gives it: NormalizeText then Tokenize, unstemmed) has a vector, and a name's vector is
// the mean of its words' vectors, L2-normalised. A word without a vector of its own gets
// the mean of its character n-gram vectors when the table holds them (fastText subwords,
// hashed as fastText hashes them), else it is skipped. The trainer learns the table from
// the catalog (trainer_service/word_vector_learner) or reads it from a vectors file; the
// snapshot carries it, so queryd embeds a query exactly as the trainer embedded the
// names.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/text_embedder.h"
#include "cratedig/v1/snapshot.pb.h"

namespace cratedig {

class WordVectors final : public NameEmbedder {
 public:
  /// The identifier stored in the snapshot manifest (Preprocessing.text_embedder).
  static constexpr const char* kId = "word-vectors-mean-v1";

  /// Reads a text vectors file: fastText .vec (a first line "COUNT DIM", then "WORD X1 ..
  /// XDIM" per line) or GloVe .txt (no header line). Each word is normalised with
  /// NormalizeText; a word that normalises to nothing or to several words, or whose
  /// normalised form came earlier in the file (files list frequent words first), is
  /// skipped. `keep(word, rank)` (rank: 0-based line among the vectors) says which of the
  /// others to keep. InvalidArgument naming the file and the line for a malformed line
  /// (a count of numbers other than the dimension, a value that is no finite number).
  static absl::StatusOr<WordVectors> ReadTextFile(
      const std::string& path,
      const std::function<bool(absl::string_view word, int64_t rank)>& keep);

  /// A table from its parts: `vectors` is words.size() x dim, `subword_vectors`
  /// subword_buckets x dim (empty when there are no subwords). InvalidArgument when the
  /// sizes disagree, a value is not finite or a word repeats.
  static absl::StatusOr<WordVectors> Create(int dim, std::vector<std::string> words,
                                            std::vector<float> vectors,
                                            int subword_min = 0, int subword_max = 0,
                                            std::vector<float> subword_vectors = {});

  static absl::StatusOr<WordVectors> FromProto(const v1::WordVectors& proto);
  void ToProto(v1::WordVectors* proto) const;

  int dim() const override { return dim_; }
  int64_t words() const { return static_cast<int64_t>(words_.size()); }
  int64_t subword_buckets() const {
    return dim_ == 0 ? 0 : static_cast<int64_t>(subword_vectors_.size()) / dim_;
  }

  /// The vector of one normalised word (its own, else from its subwords); false when it
  /// has neither.
  bool WordVector(absl::string_view word, std::vector<float>* out) const;

  /// Returns the unit mean vector of the text's words; InvalidArgument for invalid UTF-8;
  /// a zero vector when no word has a vector.
  absl::StatusOr<std::vector<float>> Embed(absl::string_view text) const override;

  /// fastText's hash of a subword (FNV-1a 32 over signed bytes), exposed for tests.
  static uint32_t SubwordHash(absl::string_view subword);

 private:
  WordVectors() = default;

  int dim_ = 0;
  std::vector<std::string> words_;
  absl::flat_hash_map<std::string, int64_t> index_;
  std::vector<float> vectors_;
  int subword_min_ = 0;
  int subword_max_ = 0;
  std::vector<float> subword_vectors_;
};

}  // namespace cratedig
