#pragma once

// Track-name vectors that need no downloaded model: each analysed term and each character
// trigram of it (fastText-style subwords, with word boundaries "<" ">") is hashed into
// one of `dim` buckets, weighted by the bucket's inverse document frequency fitted on the
// catalog, and the sum is L2-normalised. Cosine between two such vectors rewards shared
// words and shared spelling, so the nearest names to a query are the names that share
// most of it.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cratedig {

/// Turns a track name or a query into the unit vector the Search index holds. The
/// snapshot's Preprocessing.text_embedder says which one built the index.
class NameEmbedder {
 public:
  virtual ~NameEmbedder() = default;
  virtual int dim() const = 0;
  /// The unit vector of `text`; InvalidArgument for invalid UTF-8; a zero vector when
  /// the embedder finds nothing in the text (callers treat it as "nothing to search").
  virtual absl::StatusOr<std::vector<float>> Embed(absl::string_view text) const = 0;
};

class TextEmbedder final : public NameEmbedder {
 public:
  /// The identifier stored in the snapshot manifest; a reader refuses other values.
  static constexpr const char* kId = "hashed-terms-trigrams-v1";

  /// Fit the IDF table on the given texts (track names). `dim` >= 16.
  static TextEmbedder Fit(const std::vector<std::string>& texts, int dim);
  /// Rebuild a fitted embedder from its saved IDF table (length = dim).
  static absl::StatusOr<TextEmbedder> FromIdf(std::vector<float> idf);

  int dim() const override { return static_cast<int>(idf_.size()); }
  const std::vector<float>& idf() const { return idf_; }

  /// Returns the unit vector of `text`; InvalidArgument for invalid UTF-8; a zero vector
  /// when the text has no letters or digits (callers treat it as "nothing to search").
  absl::StatusOr<std::vector<float>> Embed(absl::string_view text) const override;

 private:
  explicit TextEmbedder(std::vector<float> idf) : idf_(std::move(idf)) {}
  std::vector<float> idf_;
};

}  // namespace cratedig
