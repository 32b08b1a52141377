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
#include <optional>
#include <string>
#include <utility>
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

  /// A word of a vectors file as a table keeps it: its normalised form when that is one
  /// word (TextWords), else nothing.
  static std::optional<std::string> FileWord(absl::string_view raw);

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

  /// Subtracts the mean of the `words` rows (dim wide) from every row of `words` and of
  /// `subwords`: vectors learned from a corpus as small as a catalog share a large common
  /// direction that makes every name look alike (cosine distances of 0.01); without it
  /// cosine compares what differs. A word built from subwords shifts alike, being their
  /// mean. The learner applies it; vectors read from a file are kept as given.
  static void Center(int dim, std::vector<float>* words, std::vector<float>* subwords);

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

/// The hashed name vector and the word vector side by side, [sqrt(1 - blend) * hashed,
/// sqrt(blend) * words], at unit length: cosine is then (1 - blend) times the hashed
/// cosine (shared words and spelling) plus blend times the word vectors' (meaning).
class HashedAndWordVectors final : public NameEmbedder {
 public:
  static constexpr const char* kId = "hashed-and-word-vectors-v1";

  /// InvalidArgument unless 0 < blend < 1.
  static absl::StatusOr<HashedAndWordVectors> Create(TextEmbedder hashed,
                                                     WordVectors words, double blend);

  int dim() const override { return hashed_.dim() + words_.dim(); }
  absl::StatusOr<std::vector<float>> Embed(absl::string_view text) const override;

  const TextEmbedder& hashed() const { return hashed_; }
  const WordVectors& words() const { return words_; }
  double blend() const { return blend_; }

 private:
  HashedAndWordVectors(TextEmbedder hashed, WordVectors words, double blend)
      : hashed_(std::move(hashed)), words_(std::move(words)), blend_(blend) {}
  TextEmbedder hashed_;
  WordVectors words_;
  double blend_;
};

}  // namespace cratedig
