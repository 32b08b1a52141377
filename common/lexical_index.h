#pragma once

// The lexical side of Search: an inverted index over the words (TextWords:
// ICU-normalised, accent- and case-folded, unstemmed) of each track's title, artist names
// and album name, built by the trainer into the snapshot and queried by queryd.
//
// Matching follows the typo rules of Meilisearch and Typesense: a query word of 5 to 8
// letters may match a word one typo away (insertion, deletion, substitution or
// transposition), from 9 letters two typos away; the query's last word also matches every
// word it is a prefix of (search as you type). Every query word is optional: a track
// matching more of them ranks first, then fewer typos, then fewer words matched only as a
// prefix, then the better fields (title over artist over album, summed over the words),
// then fewer title words left unmatched (so "despacito" finds "Despacito - Remix" as a
// whole title: the version suffix does not count), then fewer version-suffix words left
// unmatched (the song before its remixes), then popularity, then the track position.

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cratedig/v1/snapshot.pb.h"
#include "cratedig/v1/track.pb.h"

namespace cratedig {

/// Field bits of a posting.
enum LexicalField : uint8_t {
  kFieldTitle = 1,         // the title without its version suffix (CoreTitle)
  kFieldArtist = 2,        // any artist name
  kFieldAlbum = 4,         // the album name
  kFieldTitleVersion = 8,  // the version suffix of the title ("Remastered 2011")
};

/// Typos a query word of `letters` code points may carry: 0 below 5, 1 below 9, else 2.
int TypoBudget(int letters);

/// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions) between
/// two words, counted in code points.
int TypoDistance(absl::string_view a, absl::string_view b);

/// One lexical match.
struct LexicalHit {
  int64_t position = 0;
  int words = 0;              // query words matched
  int typos = 0;              // typos over the matched words
  int unmatched_title = 0;    // title words (version suffix aside) no query word matched
  int unmatched_version = 0;  // words of the title's version suffix no query word matched
  int prefixes = 0;           // query words matched only as a prefix
  int field_score = 0;  // sum over matched words of the best field (3 title, 2 artist,
                        // 1 album or version suffix)
  uint8_t fields = 0;   // LexicalField bits of the matched words
  int popularity = 0;
  /// Every query word matched, no typo, no prefix, no title word left over.
  bool exact(int query_words) const {
    return words == query_words && typos == 0 && prefixes == 0 && unmatched_title == 0;
  }
};

/// Builds the index: Add each indexed track once, then Finish.
class LexicalIndexBuilder {
 public:
  /// Indexes the track at `position`; tracks not added (duplicates) have no postings.
  void Add(int64_t position, const v1::Track& track);
  /// The index over `tracks` positions (the largest added position + 1 at least).
  v1::LexicalIndex Finish(int64_t tracks);

 private:
  struct Posting {
    uint32_t term;
    uint32_t position;
    uint8_t fields;
  };
  absl::flat_hash_map<std::string, uint32_t> term_ids_;
  std::vector<Posting> postings_;
  std::vector<uint8_t> title_words_;
  std::vector<uint8_t> version_words_;
};

/// A loaded index. Immutable; Search is thread-safe.
class LexicalIndex {
 public:
  /// The analysis identifier stored in the manifest; a reader refuses other values.
  static constexpr const char* kAnalyzer = "icu-nfkc-casefold-unaccent-words-v3";

  /// Checks and unpacks the stored index (DataLoss when inconsistent). `popularity` gives
  /// each track's popularity (the track table's, -1 when unknown), one per position.
  static absl::StatusOr<LexicalIndex> FromProto(const v1::LexicalIndex& index,
                                                std::vector<int8_t> popularity);

  /// The best `limit` matches of the query's words, best first. InvalidArgument for
  /// invalid UTF-8. `query_words` receives the number of distinct words of the query (at
  /// most 16 are used).
  absl::StatusOr<std::vector<LexicalHit>> Search(
      absl::string_view query, int limit, int* query_words = nullptr,
      const std::function<bool(int64_t position)>& keep = nullptr) const;

  /// Terms within the typo budget of `word` and their distances (exposed for tests).
  std::vector<std::pair<std::string, int>> TypoTerms(absl::string_view word) const;
  /// Terms `prefix` is a proper prefix of, the most frequent first, at most `limit`.
  std::vector<std::string> PrefixTerms(absl::string_view prefix, int limit) const;

  int64_t terms() const { return static_cast<int64_t>(terms_.size()); }
  int64_t tracks() const { return static_cast<int64_t>(title_words_.size()); }

 private:
  struct Candidate {
    uint32_t term;
    uint8_t typos;
    bool prefix;
  };
  void ForEachTypoTerm(const std::u32string& word, int max_typos,
                       const std::function<void(uint32_t term, int typos)>& fn) const;
  std::vector<uint32_t> PrefixTermIds(absl::string_view prefix, size_t limit) const;
  // Appends the candidates of one group of `word` (the query's `last` word or not): 0 the
  // word itself, 1 the words it is a proper prefix of (last word only, most frequent
  // first), 2 the words within its typo budget (fewest typos first).
  void AddCandidates(const std::string& word, bool last, int group,
                     std::vector<Candidate>* out) const;

  std::vector<std::string> terms_;
  std::vector<uint32_t> posting_start_;
  std::vector<uint32_t> posting_position_;
  std::vector<uint8_t> posting_fields_;
  std::vector<uint8_t> title_words_;
  std::vector<uint8_t> version_words_;
  std::vector<int8_t> popularity_;
};

}  // namespace cratedig
