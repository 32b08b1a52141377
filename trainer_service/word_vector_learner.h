#pragma once

// Word vectors learned from the catalog's own text with fastText (Debian's
// libfasttext-dev): skip-gram over the titles and album names, as TextWords gives their
// words, with character n-gram subwords so that a query word the catalog never used (a
// typo, another form) still gets a vector at query time.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/word_vectors.h"

namespace cratedig::trainer {

struct WordVectorOptions {
  int dim = 64;
  int epochs = 10;
  /// Character n-grams of min_n..max_n code points; max_n 0: no subwords.
  int min_n = 3;
  int max_n = 5;
  /// Hash buckets of the n-grams, shipped in the snapshot (buckets x dim floats).
  int buckets = 32768;
  /// fastText's threads; with one thread the vectors depend only on the seed and the
  /// text.
  int threads = 2;
  int seed = 1;
};

/// Learns a vector for every word of `texts` (and the n-gram buckets). InvalidArgument
/// for bad options; FailedPrecondition when the texts hold no word; Internal when
/// fastText fails (its message kept).
absl::StatusOr<WordVectors> LearnWordVectors(const std::vector<std::string>& texts,
                                             const WordVectorOptions& options);

/// Whether the file at `path` begins with fastText's model magic number (a .bin model).
bool IsFastTextModel(const std::string& path);

/// Reads a fastText model (.bin) with fastText's own loader: the vector of each
/// dictionary word (as fastText gives it: the word's row plus its n-grams) whose
/// WordVectors::FileWord form is new and that `keep(word, rank)` accepts (rank: its place
/// in the dictionary, most frequent first), and the model's character n-gram buckets when
/// it has subwords and they hold at most `max_subword_floats` floats (a large pretrained
/// model's two million buckets are left out; its unseen words then have no vector).
/// NotFound when the file cannot be opened; InvalidArgument when fastText refuses it
/// (its message kept) or it holds no usable word.
absl::StatusOr<WordVectors> ReadFastTextModel(
    const std::string& path,
    const std::function<bool(absl::string_view word, int64_t rank)>& keep,
    int64_t max_subword_floats);

}  // namespace cratedig::trainer
