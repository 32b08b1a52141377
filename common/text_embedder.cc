#include "common/text_embedder.h"

#include <unicode/utf8.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/text.h"

namespace cratedig {
namespace {

constexpr int kMinDim = 16;
// Whole words count double so that a name sharing the exact word beats one that only
// shares its spelling.
constexpr double kWordWeight = 2.0;
constexpr double kTrigramWeight = 1.0;

// FNV-1a 64: fixed and platform independent, unlike std::hash, because the buckets are
// saved in snapshots and recomputed by other builds at query time.
uint64_t Fnv1a64(char tag, absl::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  auto mix = [&hash](unsigned char c) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  };
  // The tag keeps the word "abc" and the trigram "abc" in different buckets.
  mix(static_cast<unsigned char>(tag));
  mix(0);
  for (char c : bytes) mix(static_cast<unsigned char>(c));
  return hash;
}

int Bucket(char tag, absl::string_view bytes, int dim) {
  return static_cast<int>(Fnv1a64(tag, bytes) % static_cast<uint64_t>(dim));
}

// Calls fn(bucket, weight) for the term and for every code-point trigram of "<term>".
template <typename Fn>
void ForEachFeature(const std::string& term, int dim, Fn fn) {
  fn(Bucket('w', term, dim), kWordWeight);
  const std::string bounded = absl::StrCat("<", term, ">");
  std::vector<int32_t> starts;  // byte offset of each code point, then the end
  const auto* s = reinterpret_cast<const uint8_t*>(bounded.data());
  const auto length = static_cast<int32_t>(bounded.size());
  for (int32_t i = 0; i < length;) {
    starts.push_back(i);
    U8_FWD_1(s, i, length);
  }
  starts.push_back(length);
  const absl::string_view view(bounded);
  for (size_t i = 0; i + 3 < starts.size(); ++i) {
    fn(Bucket('t', view.substr(starts[i], starts[i + 3] - starts[i]), dim),
       kTrigramWeight);
  }
}

}  // namespace

TextEmbedder TextEmbedder::Fit(const std::vector<std::string>& texts, int dim) {
  CD_CHECK(dim >= kMinDim) << "text embedder dim " << dim << " < " << kMinDim;
  std::vector<int64_t> df(dim, 0);
  // Index of the last text that touched each bucket, so a bucket counts once per text.
  std::vector<int64_t> last_text(dim, -1);
  for (size_t t = 0; t < texts.size(); ++t) {
    absl::StatusOr<std::vector<std::string>> terms = AnalyzeText(texts[t]);
    if (!terms.ok()) continue;  // Invalid UTF-8 contributes no terms.
    for (const std::string& term : *terms) {
      ForEachFeature(term, dim, [&](int bucket, double) {
        if (last_text[bucket] == static_cast<int64_t>(t)) return;
        last_text[bucket] = static_cast<int64_t>(t);
        ++df[bucket];
      });
    }
  }
  const double n = static_cast<double>(texts.size());
  std::vector<float> idf(dim);
  for (int b = 0; b < dim; ++b) {
    idf[b] = static_cast<float>(std::log((1.0 + n) / (1.0 + static_cast<double>(df[b]))) +
                                1.0);
  }
  return TextEmbedder(std::move(idf));
}

absl::StatusOr<TextEmbedder> TextEmbedder::FromIdf(std::vector<float> idf) {
  if (idf.size() < static_cast<size_t>(kMinDim)) {
    return absl::InvalidArgumentError(
        absl::StrCat("text idf has ", idf.size(), " buckets, need at least ", kMinDim));
  }
  for (size_t b = 0; b < idf.size(); ++b) {
    if (!std::isfinite(idf[b])) {
      return absl::InvalidArgumentError(
          absl::StrCat("text idf bucket ", b, " is not finite"));
    }
  }
  return TextEmbedder(std::move(idf));
}

absl::StatusOr<std::vector<float>> TextEmbedder::Embed(absl::string_view text) const {
  absl::StatusOr<std::vector<std::string>> terms = AnalyzeText(text);
  if (!terms.ok()) return terms.status();
  // Accumulate in double so that the float result does not depend on summation rounding.
  std::vector<double> sum(idf_.size(), 0.0);
  for (const std::string& term : *terms) {
    ForEachFeature(term, dim(), [&](int bucket, double weight) {
      sum[bucket] += weight * static_cast<double>(idf_[bucket]);
    });
  }
  double norm = 0.0;
  for (double x : sum) norm += x * x;
  norm = std::sqrt(norm);
  std::vector<float> out(idf_.size(), 0.0f);
  if (norm == 0.0) return out;
  for (size_t b = 0; b < sum.size(); ++b) out[b] = static_cast<float>(sum[b] / norm);
  return out;
}

}  // namespace cratedig
