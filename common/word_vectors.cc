#include "common/word_vectors.h"

#include <cmath>
#include <fstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/text.h"

namespace cratedig {
namespace {

constexpr int kMaxDim = 4096;

absl::Status LineError(const std::string& path, int64_t line, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("word vectors ", path, " line ", line, ": ", why));
}

bool AllFinite(const std::vector<float>& v) {
  for (float x : v) {
    if (!std::isfinite(x)) return false;
  }
  return true;
}

// Adds row `row` of `matrix` (dim wide) to `sum`.
void AddRow(const std::vector<float>& matrix, int64_t row, int dim,
            std::vector<double>* sum) {
  const float* r = matrix.data() + row * dim;
  for (int d = 0; d < dim; ++d) (*sum)[d] += r[d];
}

}  // namespace

uint32_t WordVectors::SubwordHash(absl::string_view subword) {
  uint32_t h = 2166136261u;
  for (char c : subword) {
    h ^= static_cast<uint32_t>(static_cast<int8_t>(c));  // as fastText: signed bytes
    h *= 16777619u;
  }
  return h;
}

void WordVectors::Center(int dim, std::vector<float>* words,
                         std::vector<float>* subwords) {
  const size_t rows = dim > 0 ? words->size() / dim : 0;
  if (rows == 0) return;
  std::vector<double> mean(dim, 0.0);
  for (size_t r = 0; r < rows; ++r) {
    for (int d = 0; d < dim; ++d) mean[d] += (*words)[r * dim + d];
  }
  for (double& x : mean) x /= static_cast<double>(rows);
  for (std::vector<float>* m : {words, subwords}) {
    for (size_t i = 0; i < m->size(); ++i) {
      (*m)[i] = static_cast<float>((*m)[i] - mean[i % dim]);
    }
  }
}

absl::StatusOr<WordVectors> WordVectors::Create(int dim, std::vector<std::string> words,
                                                std::vector<float> vectors,
                                                int subword_min, int subword_max,
                                                std::vector<float> subword_vectors) {
  if (dim < 1 || dim > kMaxDim) {
    return absl::InvalidArgumentError(
        absl::StrCat("word vectors: dimension ", dim, " is outside 1..", kMaxDim));
  }
  if (vectors.size() != words.size() * static_cast<size_t>(dim)) {
    return absl::InvalidArgumentError(absl::StrCat("word vectors: ", vectors.size(),
                                                   " values for ", words.size(),
                                                   " words of ", dim));
  }
  if (subword_vectors.size() % static_cast<size_t>(dim) != 0 ||
      (!subword_vectors.empty() &&
       (subword_min < 1 || subword_max < subword_min || subword_max > 64))) {
    return absl::InvalidArgumentError(
        absl::StrCat("word vectors: subwords of ", subword_min, "..", subword_max,
                     " characters in ", subword_vectors.size(), " values"));
  }
  if (!AllFinite(vectors) || !AllFinite(subword_vectors)) {
    return absl::InvalidArgumentError("word vectors: a value is not finite");
  }
  WordVectors table;
  table.dim_ = dim;
  table.index_.reserve(words.size());
  for (size_t i = 0; i < words.size(); ++i) {
    if (!table.index_.emplace(words[i], static_cast<int64_t>(i)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("word vectors: the word '", words[i], "' repeats"));
    }
  }
  table.words_ = std::move(words);
  table.vectors_ = std::move(vectors);
  if (!subword_vectors.empty()) {
    table.subword_min_ = subword_min;
    table.subword_max_ = subword_max;
    table.subword_vectors_ = std::move(subword_vectors);
  }
  return table;
}

std::optional<std::string> WordVectors::FileWord(absl::string_view raw) {
  absl::StatusOr<std::vector<std::string>> words = TextWords(raw);
  if (!words.ok() || words->size() != 1) return std::nullopt;
  return std::move(words->front());
}

absl::StatusOr<WordVectors> WordVectors::ReadTextFile(
    const std::string& path,
    const std::function<bool(absl::string_view word, int64_t rank)>& keep) {
  std::ifstream in(path);
  if (!in.is_open()) {
    return absl::NotFoundError(absl::StrCat("word vectors ", path, " cannot be opened"));
  }
  int dim = 0;
  std::vector<std::string> words;
  std::vector<float> vectors;
  absl::flat_hash_map<std::string, int64_t> seen;
  std::string line;
  int64_t number = 0, rank = 0;
  std::vector<float> row;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (parts.empty()) {
      return LineError(path, number, "is empty");
    }
    // fastText's header: two integers.
    if (number == 1 && parts.size() == 2) {
      int64_t count = 0;
      if (absl::SimpleAtoi(parts[0], &count) && absl::SimpleAtoi(parts[1], &dim) &&
          count >= 0) {
        if (dim < 1 || dim > kMaxDim) {
          return LineError(path, number,
                           absl::StrCat("dimension ", dim, " is outside 1..", kMaxDim));
        }
        continue;
      }
      dim = 0;
    }
    if (parts.size() < 2) {
      return LineError(path, number, "holds a word without numbers");
    }
    const int numbers = static_cast<int>(parts.size()) - 1;
    if (dim == 0) {
      if (numbers > kMaxDim) {
        return LineError(path, number,
                         absl::StrCat(numbers, " numbers, more than ", kMaxDim));
      }
      dim = numbers;  // GloVe: the first line sets the dimension.
    }
    if (numbers != dim) {
      return LineError(path, number,
                       absl::StrCat(numbers, " numbers where the dimension is ", dim,
                                    " (a word with a space in it?)"));
    }
    row.assign(dim, 0.0f);
    for (int d = 0; d < dim; ++d) {
      if (!absl::SimpleAtof(parts[d + 1], &row[d]) || !std::isfinite(row[d])) {
        return LineError(path, number,
                         absl::StrCat("value ", d + 1, " '", parts[d + 1],
                                      "' is not a finite number"));
      }
    }
    const int64_t this_rank = rank++;
    std::optional<std::string> normalized = FileWord(parts[0]);
    if (!normalized) continue;
    const std::string& word = *normalized;
    if (seen.contains(word) || !keep(word, this_rank)) continue;
    seen.emplace(word, this_rank);
    words.push_back(word);
    vectors.insert(vectors.end(), row.begin(), row.end());
  }
  if (in.bad())
    return absl::DataLossError(absl::StrCat("word vectors ", path, " read error"));
  if (dim == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("word vectors ", path, " holds no vector"));
  }
  return Create(dim, std::move(words), std::move(vectors));
}

absl::StatusOr<WordVectors> WordVectors::FromProto(const v1::WordVectors& proto) {
  return Create(proto.dim(), {proto.words().begin(), proto.words().end()},
                {proto.vectors().begin(), proto.vectors().end()}, proto.subword_min(),
                proto.subword_max(),
                {proto.subword_vectors().begin(), proto.subword_vectors().end()});
}

void WordVectors::ToProto(v1::WordVectors* proto) const {
  proto->set_dim(dim_);
  *proto->mutable_words() = {words_.begin(), words_.end()};
  *proto->mutable_vectors() = {vectors_.begin(), vectors_.end()};
  proto->set_subword_min(subword_min_);
  proto->set_subword_max(subword_max_);
  *proto->mutable_subword_vectors() = {subword_vectors_.begin(), subword_vectors_.end()};
}

bool WordVectors::WordVector(absl::string_view word, std::vector<float>* out) const {
  std::vector<double> sum(dim_, 0.0);
  if (auto it = index_.find(word); it != index_.end()) {
    AddRow(vectors_, it->second, dim_, &sum);
  } else {
    const int64_t buckets = subword_buckets();
    if (buckets == 0) return false;
    // fastText's Dictionary::computeSubwords over "<word>": every n-gram of subword_min_
    // to subword_max_ code points, but not the lone "<" or ">".
    const std::string bounded = absl::StrCat("<", word, ">");
    int64_t count = 0;
    for (size_t i = 0; i < bounded.size(); ++i) {
      if ((bounded[i] & 0xC0) == 0x80) continue;
      std::string ngram;
      for (size_t j = i, n = 1;
           j < bounded.size() && n <= static_cast<size_t>(subword_max_); ++n) {
        ngram.push_back(bounded[j++]);
        while (j < bounded.size() && (bounded[j] & 0xC0) == 0x80) {
          ngram.push_back(bounded[j++]);
        }
        if (n >= static_cast<size_t>(subword_min_) &&
            !(n == 1 && (i == 0 || j == bounded.size()))) {
          AddRow(subword_vectors_, SubwordHash(ngram) % static_cast<uint32_t>(buckets),
                 dim_, &sum);
          ++count;
        }
      }
    }
    if (count == 0) return false;
    for (double& x : sum) x /= static_cast<double>(count);
  }
  out->assign(sum.begin(), sum.end());
  return true;
}

absl::StatusOr<std::vector<float>> WordVectors::Embed(absl::string_view text) const {
  absl::StatusOr<std::vector<std::string>> words = TextWords(text);
  if (!words.ok()) return words.status();
  std::vector<double> sum(dim_, 0.0);
  std::vector<float> v;
  for (const std::string& word : *words) {
    if (!WordVector(word, &v)) continue;
    // Each word's vector at unit length, so that no word outweighs the others by norm.
    double norm = 0.0;
    for (float x : v) norm += static_cast<double>(x) * x;
    if (norm == 0.0) continue;
    norm = std::sqrt(norm);
    for (int d = 0; d < dim_; ++d) sum[d] += v[d] / norm;
  }
  double norm = 0.0;
  for (double x : sum) norm += x * x;
  std::vector<float> out(dim_, 0.0f);
  if (norm == 0.0) return out;
  norm = std::sqrt(norm);
  for (int d = 0; d < dim_; ++d) out[d] = static_cast<float>(sum[d] / norm);
  return out;
}

absl::StatusOr<HashedAndWordVectors> HashedAndWordVectors::Create(TextEmbedder hashed,
                                                                  WordVectors words,
                                                                  double blend) {
  if (!(blend > 0.0 && blend < 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("word vectors blend ", blend, " is outside (0, 1)"));
  }
  return HashedAndWordVectors(std::move(hashed), std::move(words), blend);
}

absl::StatusOr<std::vector<float>> HashedAndWordVectors::Embed(
    absl::string_view text) const {
  absl::StatusOr<std::vector<float>> h = hashed_.Embed(text);
  if (!h.ok()) return h.status();
  absl::StatusOr<std::vector<float>> w = words_.Embed(text);
  if (!w.ok()) return w.status();
  const double a = std::sqrt(1.0 - blend_), b = std::sqrt(blend_);
  std::vector<double> joined;
  joined.reserve(h->size() + w->size());
  for (float x : *h) joined.push_back(a * x);
  for (float x : *w) joined.push_back(b * x);
  double norm = 0.0;
  for (double x : joined) norm += x * x;
  std::vector<float> out(joined.size(), 0.0f);
  if (norm == 0.0) return out;
  norm = std::sqrt(norm);
  for (size_t i = 0; i < joined.size(); ++i)
    out[i] = static_cast<float>(joined[i] / norm);
  return out;
}

}  // namespace cratedig
