#include "common/lexical_index.h"

#include <unicode/utf8.h>

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/text.h"

namespace cratedig {
namespace {

// Query words beyond this many are ignored (one bit each in Acc::mask).
constexpr size_t kMaxQueryWords = 16;
// The last word as a prefix expands to the words it begins, the most frequent first,
// until their postings reach this many (the first word always counts): a short prefix in
// a large catalog cannot make a query scan most of the index.
constexpr uint32_t kMaxPrefixPostings = 200000;

// Decodes into `out`, reusing its storage.
void DecodeUtf8(absl::string_view text, std::u32string* out) {
  out->clear();
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const auto length = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < length;) {
    UChar32 c;
    U8_NEXT(s, i, length, c);
    out->push_back(static_cast<char32_t>(c < 0 ? 0xFFFD : c));
  }
}

std::u32string DecodeUtf8(absl::string_view text) {
  std::u32string out;
  DecodeUtf8(text, &out);
  return out;
}

// Byte length of the first `n` code points of valid UTF-8.
size_t PrefixBytes(absl::string_view text, size_t n) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const auto length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  for (size_t k = 0; k < n && i < length; ++k) U8_FWD_1(s, i, length);
  return static_cast<size_t>(i);
}

int FieldWeight(uint8_t fields) {
  if (fields & kFieldTitle) return 3;
  if (fields & kFieldArtist) return 2;
  return fields != 0 ? 1 : 0;
}

// Per query, per track: what the query's words matched so far.
struct Acc {
  uint16_t mask = 0;  // query words matched
  uint8_t typos = 0;
  uint8_t title_hits = 0;
  uint8_t version_hits = 0;
  uint8_t prefixes = 0;
  uint8_t field_score = 0;
  uint8_t fields = 0;
};

// Adds to `a` that query word q matched, through a candidate with `typos` typos (a prefix
// or not), a word held in `fields`.
void Record(Acc& a, size_t q, uint8_t typos, bool prefix, uint8_t fields) {
  a.mask |= static_cast<uint16_t>(1u << q);
  a.typos = static_cast<uint8_t>(a.typos + typos);
  a.prefixes = static_cast<uint8_t>(a.prefixes + (prefix ? 1 : 0));
  if (fields & kFieldTitle) {
    ++a.title_hits;
  } else if (fields & kFieldTitleVersion) {
    ++a.version_hits;
  }
  a.field_score = static_cast<uint8_t>(a.field_score + FieldWeight(fields));
  a.fields |= fields;
}

// Reused between the queries of one thread: one Acc per track position, reset after use.
struct Scratch {
  std::vector<Acc> acc;
  std::vector<uint32_t> touched;
  std::vector<uint64_t> bits;  // WordCountFloor's bitsets
};

// Postings (or hits) ahead of the current one whose per-track data is prefetched.
constexpr uint32_t kPrefetch = 16;

// Bit-sliced counters: 5 planes count to 31, beyond kMaxQueryWords.
constexpr int kCountPlanes = 5;

// For a query of several words: sets in `selected` (one bit per track) the tracks
// matching at least c words, c the largest count such that those of them passing `keep`
// are `limit` or more (1 when there is none). No other track can rank among the first
// `limit`, since hits rank by words matched first. `word_bits` holds one bitset per query
// word, the tracks any of its candidates matched.
void WordCountFloor(const uint64_t* word_bits, size_t words, size_t blocks, int limit,
                    const std::function<bool(int64_t position)>& keep, uint64_t* planes,
                    uint64_t* selected) {
  // planes[k * blocks + b]: bit k of the count of words matched, per track.
  for (size_t b = 0; b < blocks; ++b) {
    uint64_t c[kCountPlanes] = {};
    for (size_t q = 0; q < words; ++q) {
      uint64_t carry = word_bits[q * blocks + b];
      for (int k = 0; k < kCountPlanes && carry != 0; ++k) {
        const uint64_t next = c[k] & carry;
        c[k] ^= carry;
        carry = next;
      }
    }
    for (int k = 0; k < kCountPlanes; ++k) planes[k * blocks + b] = c[k];
  }
  // Tracks whose count is exactly `level`, in block b.
  auto exactly = [&](int level, size_t b) {
    uint64_t m = ~uint64_t{0};
    for (int k = 0; k < kCountPlanes; ++k) {
      const uint64_t plane = planes[k * blocks + b];
      m &= (level >> k) & 1 ? plane : ~plane;
    }
    return m;
  };
  int floor = 1;
  size_t found = 0;
  for (int level = static_cast<int>(words); level >= 1 && floor == 1; --level) {
    for (size_t b = 0; b < blocks && found < static_cast<size_t>(limit); ++b) {
      uint64_t m = exactly(level, b);
      if (!keep) {
        found += static_cast<size_t>(__builtin_popcountll(m));
        continue;
      }
      for (; m != 0 && found < static_cast<size_t>(limit); m &= m - 1) {
        if (keep(static_cast<int64_t>(b * 64 + __builtin_ctzll(m)))) ++found;
      }
    }
    if (found >= static_cast<size_t>(limit)) floor = level;
  }
  for (size_t b = 0; b < blocks; ++b) {
    uint64_t m = 0;
    for (int level = floor; level <= static_cast<int>(words); ++level)
      m |= exactly(level, b);
    selected[b] = m;
  }
}

Scratch& ThreadScratch(size_t tracks) {
  thread_local Scratch scratch;
  if (scratch.acc.size() < tracks) scratch.acc.resize(tracks);
  return scratch;
}

bool Better(const LexicalHit& a, const LexicalHit& b) {
  if (a.words != b.words) return a.words > b.words;
  if (a.typos != b.typos) return a.typos < b.typos;
  if (a.prefixes != b.prefixes) return a.prefixes < b.prefixes;
  if (a.field_score != b.field_score) return a.field_score > b.field_score;
  if (a.unmatched_title != b.unmatched_title)
    return a.unmatched_title < b.unmatched_title;
  if (a.unmatched_version != b.unmatched_version) {
    return a.unmatched_version < b.unmatched_version;
  }
  if (a.popularity != b.popularity) return a.popularity > b.popularity;
  return a.position < b.position;
}

}  // namespace

int TypoBudget(int letters) { return letters < 5 ? 0 : letters < 9 ? 1 : 2; }

int TypoDistance(absl::string_view a_text, absl::string_view b_text) {
  const std::u32string a = DecodeUtf8(a_text), b = DecodeUtf8(b_text);
  const size_t n = a.size(), m = b.size();
  std::vector<int> d((n + 1) * (m + 1));
  auto at = [&](size_t i, size_t j) -> int& { return d[i * (m + 1) + j]; };
  for (size_t i = 0; i <= n; ++i) at(i, 0) = static_cast<int>(i);
  for (size_t j = 0; j <= m; ++j) at(0, j) = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      int v = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1,
                        at(i - 1, j - 1) + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        v = std::min(v, at(i - 2, j - 2) + 1);
      }
      at(i, j) = v;
    }
  }
  return at(n, m);
}

void LexicalIndexBuilder::Add(int64_t position, const v1::Track& track) {
  absl::flat_hash_map<std::string, uint8_t> fields;
  auto add = [&fields](absl::string_view text, uint8_t field) {
    absl::StatusOr<std::vector<std::string>> words = TextWords(text);
    if (!words.ok()) return;  // Invalid UTF-8 contributes nothing.
    for (std::string& w : *words) fields[std::move(w)] |= field;
  };
  const std::string& name = track.name();
  const absl::string_view core = CoreTitle(name);
  add(core, kFieldTitle);
  const size_t core_end = static_cast<size_t>(core.data() - name.data()) + core.size();
  if (core_end <= name.size())
    add(absl::string_view(name).substr(core_end), kFieldTitleVersion);
  for (const v1::ArtistRef& artist : track.artists()) add(artist.name(), kFieldArtist);
  add(track.album().name(), kFieldAlbum);

  int title_words = 0, version_words = 0;
  for (auto& [term, bits] : fields) {
    if (bits & kFieldTitle) ++title_words;
    if ((bits & kFieldTitleVersion) && !(bits & kFieldTitle)) ++version_words;
    uint32_t& id = term_ids_.try_emplace(term, static_cast<uint32_t>(term_ids_.size()))
                       .first->second;
    postings_.push_back({id, static_cast<uint32_t>(position), bits});
  }
  if (title_words_.size() <= static_cast<size_t>(position)) {
    title_words_.resize(position + 1, 0);
    version_words_.resize(position + 1, 0);
  }
  title_words_[position] = static_cast<uint8_t>(std::min(title_words, 255));
  version_words_[position] = static_cast<uint8_t>(std::min(version_words, 255));
}

v1::LexicalIndex LexicalIndexBuilder::Finish(int64_t tracks) {
  // Terms in byte order; postings by term, then position.
  std::vector<std::pair<std::string, uint32_t>> order;
  order.reserve(term_ids_.size());
  for (auto& [term, id] : term_ids_) order.emplace_back(term, id);
  std::sort(order.begin(), order.end());
  std::vector<uint32_t> rank(order.size());
  for (size_t r = 0; r < order.size(); ++r)
    rank[order[r].second] = static_cast<uint32_t>(r);
  for (Posting& p : postings_) p.term = rank[p.term];
  std::sort(postings_.begin(), postings_.end(), [](const Posting& a, const Posting& b) {
    return a.term != b.term ? a.term < b.term : a.position < b.position;
  });

  v1::LexicalIndex index;
  index.mutable_terms()->Reserve(static_cast<int>(order.size()));
  for (auto& [term, id] : order) index.add_terms(term);
  index.mutable_posting_position_delta()->Reserve(static_cast<int>(postings_.size()));
  std::string* fields = index.mutable_posting_fields();
  fields->reserve(postings_.size());
  size_t p = 0;
  for (uint32_t t = 0; t < order.size(); ++t) {
    index.add_posting_start(static_cast<uint32_t>(p));
    uint32_t previous = 0;
    for (; p < postings_.size() && postings_[p].term == t; ++p) {
      index.add_posting_position_delta(postings_[p].position - previous);
      previous = postings_[p].position;
      fields->push_back(static_cast<char>(postings_[p].fields));
    }
  }
  index.add_posting_start(static_cast<uint32_t>(p));
  title_words_.resize(std::max<size_t>(title_words_.size(), tracks), 0);
  index.set_title_words(std::string(title_words_.begin(), title_words_.end()));
  version_words_.resize(title_words_.size(), 0);
  index.set_version_words(std::string(version_words_.begin(), version_words_.end()));
  postings_.clear();
  term_ids_.clear();
  return index;
}

absl::StatusOr<LexicalIndex> LexicalIndex::FromProto(const v1::LexicalIndex& proto,
                                                     std::vector<int8_t> popularity) {
  auto corrupt = [](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("lexical index is inconsistent: ", why));
  };
  const size_t n_terms = proto.terms_size();
  const size_t n_postings = proto.posting_position_delta_size();
  const size_t n_tracks = proto.title_words().size();
  if (popularity.size() != n_tracks || proto.version_words().size() != n_tracks) {
    return corrupt("track count");
  }
  if (proto.posting_start_size() != static_cast<int>(n_terms + 1) ||
      proto.posting_fields().size() != n_postings || proto.posting_start(0) != 0 ||
      proto.posting_start(static_cast<int>(n_terms)) != n_postings) {
    return corrupt("posting counts");
  }
  LexicalIndex index;
  index.terms_.assign(proto.terms().begin(), proto.terms().end());
  for (size_t t = 1; t < n_terms; ++t) {
    if (!(index.terms_[t - 1] < index.terms_[t])) return corrupt("terms out of order");
  }
  index.posting_start_.assign(proto.posting_start().begin(), proto.posting_start().end());
  index.posting_position_.resize(n_postings);
  for (size_t t = 0; t < n_terms; ++t) {
    const uint32_t begin = index.posting_start_[t], end = index.posting_start_[t + 1];
    if (begin > end) return corrupt("posting ranges");
    uint64_t position = 0;
    for (uint32_t p = begin; p < end; ++p) {
      const uint32_t delta = proto.posting_position_delta(static_cast<int>(p));
      if (p > begin && delta == 0) return corrupt("repeated posting");
      position += delta;
      if (position >= n_tracks) return corrupt("posting outside the track table");
      index.posting_position_[p] = static_cast<uint32_t>(position);
    }
  }
  index.posting_fields_.assign(proto.posting_fields().begin(),
                               proto.posting_fields().end());
  index.title_words_.assign(proto.title_words().begin(), proto.title_words().end());
  index.version_words_.assign(proto.version_words().begin(), proto.version_words().end());
  index.popularity_ = std::move(popularity);
  return index;
}

void LexicalIndex::ForEachTypoTerm(
    const std::u32string& word, int max_typos,
    const std::function<void(uint32_t term, int typos)>& fn) const {
  const size_t m = word.size();
  const size_t max_depth = m + static_cast<size_t>(max_typos) + 1;
  // rows[d]: edit distances between the first d code points of the current term and every
  // prefix of `word`; row 0 is 0..m. Rows are shared by terms with a common prefix.
  std::vector<int> rows((max_depth + 1) * (m + 1));
  auto row = [&](size_t d) { return rows.data() + d * (m + 1); };
  for (size_t j = 0; j <= m; ++j) row(0)[j] = static_cast<int>(j);
  std::u32string previous, current;
  size_t valid = 0;  // rows 0..valid hold the first `valid` code points of `previous`
  for (size_t i = 0; i < terms_.size();) {
    const std::string& term = terms_[i];
    DecodeUtf8(term, &current);
    size_t common = 0;
    while (common < valid && common < current.size() &&
           previous[common] == current[common]) {
      ++common;
    }
    bool pruned = false;
    size_t d = common + 1;
    for (; d <= current.size(); ++d) {
      if (d > max_depth) {  // Longer than any match: prune below depth d.
        pruned = true;
        break;
      }
      int* r = row(d);
      const int* up = row(d - 1);
      r[0] = static_cast<int>(d);
      int best = r[0];
      for (size_t j = 1; j <= m; ++j) {
        int v = std::min({up[j] + 1, r[j - 1] + 1,
                          up[j - 1] + (current[d - 1] == word[j - 1] ? 0 : 1)});
        if (d > 1 && j > 1 && current[d - 1] == word[j - 2] &&
            current[d - 2] == word[j - 1]) {
          v = std::min(v, row(d - 2)[j - 2] + 1);
        }
        r[j] = v;
        best = std::min(best, v);
      }
      if (best > max_typos) {
        pruned = true;
        break;
      }
    }
    previous.swap(current);
    if (pruned) {
      // No term starting with these d code points can match: skip them all.
      valid = d - 1;
      // The terms sharing the stem follow term i; most such runs are short, so gallop
      // to the run's end before the binary search.
      const absl::string_view stem(term.data(), PrefixBytes(term, d));
      auto in_run = [&](const std::string& t) { return absl::StartsWith(t, stem); };
      size_t step = 1, low = i + 1;
      while (low < terms_.size() && in_run(terms_[low])) {
        i = low;
        low = i + step;
        step *= 2;
      }
      const auto high =
          terms_.begin() + static_cast<ptrdiff_t>(std::min(low, terms_.size()));
      i = static_cast<size_t>(
          std::partition_point(terms_.begin() + static_cast<ptrdiff_t>(i) + 1, high,
                               in_run) -
          terms_.begin());
      continue;
    }
    valid = previous.size();  // the term just decoded, swapped into `previous`
    const int distance = row(previous.size())[m];
    if (distance <= max_typos) fn(static_cast<uint32_t>(i), distance);
    ++i;
  }
}

std::vector<std::pair<std::string, int>> LexicalIndex::TypoTerms(
    absl::string_view word) const {
  const std::u32string w = DecodeUtf8(word);
  std::vector<std::pair<std::string, int>> out;
  ForEachTypoTerm(
      w, TypoBudget(static_cast<int>(w.size())),
      [&](uint32_t term, int typos) { out.emplace_back(terms_[term], typos); });
  return out;
}

std::vector<uint32_t> LexicalIndex::PrefixTermIds(absl::string_view prefix,
                                                  size_t limit) const {
  auto begin =
      std::upper_bound(terms_.begin(), terms_.end(), prefix,
                       [](absl::string_view p, const std::string& t) { return p < t; });
  auto end = std::partition_point(begin, terms_.end(), [&](const std::string& t) {
    return absl::StartsWith(t, prefix);
  });
  std::vector<uint32_t> ids;
  for (auto it = begin; it != end; ++it)
    ids.push_back(static_cast<uint32_t>(it - terms_.begin()));
  auto df = [this](uint32_t t) { return posting_start_[t + 1] - posting_start_[t]; };
  const size_t keep = std::min(ids.size(), limit);
  std::partial_sort(
      ids.begin(), ids.begin() + keep, ids.end(),
      [&](uint32_t a, uint32_t b) { return df(a) != df(b) ? df(a) > df(b) : a < b; });
  ids.resize(keep);
  return ids;
}

std::vector<std::string> LexicalIndex::PrefixTerms(absl::string_view prefix,
                                                   int limit) const {
  std::vector<std::string> out;
  for (uint32_t t : PrefixTermIds(prefix, static_cast<size_t>(std::max(limit, 0)))) {
    out.push_back(terms_[t]);
  }
  return out;
}

void LexicalIndex::AddCandidates(const std::string& word, bool last, int group,
                                 std::vector<Candidate>* out) const {
  if (group == 0) {
    auto exact = std::lower_bound(terms_.begin(), terms_.end(), word);
    if (exact != terms_.end() && *exact == word) {
      out->push_back({static_cast<uint32_t>(exact - terms_.begin()), 0, false});
    }
  } else if (group == 1) {
    if (!last) return;
    uint32_t postings = 0;
    for (uint32_t t : PrefixTermIds(word, terms_.size())) {
      const uint32_t df = posting_start_[t + 1] - posting_start_[t];
      if (postings > 0 && postings + df > kMaxPrefixPostings) break;
      postings += df;
      out->push_back({t, 0, true});
    }
  } else {
    const std::u32string w = DecodeUtf8(word);
    const int budget = TypoBudget(static_cast<int>(w.size()));
    if (budget == 0) return;
    const size_t first = out->size();
    ForEachTypoTerm(w, budget, [&](uint32_t term, int distance) {
      if (distance > 0) out->push_back({term, static_cast<uint8_t>(distance), false});
    });
    std::stable_sort(
        out->begin() + first, out->end(),
        [](const Candidate& a, const Candidate& b) { return a.typos < b.typos; });
  }
}

absl::StatusOr<std::vector<LexicalHit>> LexicalIndex::Search(
    absl::string_view query, int limit, int* query_words,
    const std::function<bool(int64_t position)>& keep) const {
  absl::StatusOr<std::vector<std::string>> analyzed = TextWords(query);
  if (!analyzed.ok()) return analyzed.status();
  std::vector<std::string> words;
  for (std::string& w : *analyzed) {
    if (words.size() == kMaxQueryWords) break;
    if (std::find(words.begin(), words.end(), w) == words.end())
      words.push_back(std::move(w));
  }
  if (query_words != nullptr) *query_words = static_cast<int>(words.size());
  std::vector<LexicalHit> hits;
  if (words.empty() || limit <= 0 || title_words_.empty()) return hits;

  Scratch& scratch = ThreadScratch(title_words_.size());
  std::vector<std::vector<Candidate>> candidates(words.size());
  std::vector<uint64_t> volume(words.size(), 0);  // postings of each word's candidates
  // A single word's prefix and typo candidates are only looked up when the walk below
  // reaches them; several words need them all to choose between the two walks.
  int groups = words.size() > 1 ? 3 : 1;
  auto add_groups = [&](int from, int to) {
    for (size_t q = 0; q < words.size(); ++q) {
      for (int g = from; g < to; ++g)
        AddCandidates(words[q], q + 1 == words.size(), g, &candidates[q]);
    }
  };
  add_groups(0, groups);
  for (size_t q = 0; q < words.size(); ++q) {
    for (const Candidate& c : candidates[q])
      volume[q] += posting_start_[c.term + 1] - posting_start_[c.term];
  }
  // Records that query word q matched the track at posting p through candidate c.
  auto match = [&](size_t q, const Candidate& c, uint32_t p) {
    const uint32_t position = posting_position_[p];
    Acc& a = scratch.acc[position];
    if (a.mask == 0) scratch.touched.push_back(position);
    Record(a, q, c.typos, c.prefix, posting_fields_[p]);
  };
  // The hit of the track at `position` from what its query words matched.
  auto to_hit = [this](uint32_t position, const Acc& a) {
    LexicalHit h;
    h.position = position;
    h.words = __builtin_popcount(a.mask);
    h.typos = a.typos;
    h.unmatched_title = std::max(0, title_words_[position] - a.title_hits);
    h.unmatched_version = std::max(0, version_words_[position] - a.version_hits);
    h.prefixes = a.prefixes;
    h.field_score = a.field_score;
    h.fields = a.fields;
    h.popularity = popularity_[position];
    return h;
  };
  // Every posting of every candidate of word q; candidates come best first, so the first
  // match of a word in a track is its best one.
  auto accumulate = [&](size_t q) {
    const uint16_t bit = static_cast<uint16_t>(1u << q);
    for (const Candidate& c : candidates[q]) {
      for (uint32_t p = posting_start_[c.term]; p < posting_start_[c.term + 1]; ++p) {
        if ((scratch.acc[posting_position_[p]].mask & bit) == 0) match(q, c, p);
      }
    }
  };
  auto reset = [&] {
    for (uint32_t position : scratch.touched) scratch.acc[position] = Acc();
    scratch.touched.clear();
  };
  // The best `limit` hits in a heap whose front is the worst of them: a common word
  // touches hundreds of thousands of tracks, and most are compared once and dropped.
  const size_t most = static_cast<size_t>(limit);
  hits.reserve(most);
  auto offer = [&](const LexicalHit& h) {
    if (hits.size() < most) {
      hits.push_back(h);
      std::push_heap(hits.begin(), hits.end(), Better);
    } else if (Better(h, hits.front())) {
      std::pop_heap(hits.begin(), hits.end(), Better);
      hits.back() = h;
      std::push_heap(hits.begin(), hits.end(), Better);
    }
  };
  // A single word whose exact postings hold `limit` tracks passing `keep`: they outrank
  // every prefix and typo match, and each posting is a whole hit, ranked straight from it
  // without the shared accumulators.
  if (words.size() == 1 && !candidates[0].empty() &&
      posting_start_[candidates[0][0].term + 1] - posting_start_[candidates[0][0].term] >=
          most) {
    const uint32_t begin = posting_start_[candidates[0][0].term];
    const uint32_t end = posting_start_[candidates[0][0].term + 1];
    size_t kept = 0;
    for (uint32_t p = begin; p < end; ++p) {
      if (p + kPrefetch < end) {
        const uint32_t ahead = posting_position_[p + kPrefetch];
        __builtin_prefetch(&title_words_[ahead]);
        __builtin_prefetch(&version_words_[ahead]);
        __builtin_prefetch(&popularity_[ahead]);
      }
      const uint32_t position = posting_position_[p];
      if (keep && !keep(position)) continue;
      ++kept;
      Acc a;
      Record(a, 0, 0, false, posting_fields_[p]);
      offer(to_hit(position, a));
    }
    if (kept >= most) {
      std::sort_heap(hits.begin(), hits.end(), Better);
      return hits;
    }
    hits.clear();
  }
  // Hits rank by the number of words matched first. When the rarest word's tracks hold
  // `limit` tracks matching every word, no other track can rank among the first `limit`:
  // the other words are then looked up in those tracks' postings (a binary search per
  // track and candidate) instead of walking their long posting lists. Otherwise, or
  // when the lookups would cost more than the walk, every posting is walked.
  bool ranked = false;
  const size_t rare = static_cast<size_t>(std::min_element(volume.begin(), volume.end()) -
                                          volume.begin());
  uint64_t other_postings = 0, other_candidates = 0;
  for (size_t q = 0; q < words.size(); ++q) {
    if (q == rare) continue;
    other_postings += volume[q];
    other_candidates += candidates[q].size();
  }
  constexpr uint64_t kLookupCost = 16;  // a binary search, in posting steps
  if (words.size() > 1 &&
      volume[rare] * other_candidates * kLookupCost < other_postings) {
    accumulate(rare);
    const std::vector<uint32_t> tracks = scratch.touched;
    for (size_t q = 0; q < words.size(); ++q) {
      if (q == rare) continue;
      for (uint32_t position : tracks) {
        for (const Candidate& c : candidates[q]) {
          const auto begin = posting_position_.begin() + posting_start_[c.term];
          const auto end = posting_position_.begin() + posting_start_[c.term + 1];
          const auto it = std::lower_bound(begin, end, position);
          if (it != end && *it == position) {
            match(q, c, static_cast<uint32_t>(it - posting_position_.begin()));
            break;
          }
        }
      }
    }
    const uint16_t all = static_cast<uint16_t>((1u << words.size()) - 1);
    size_t complete = 0;
    for (uint32_t position : tracks) {
      if (scratch.acc[position].mask == all && (!keep || keep(position))) ++complete;
    }
    ranked = complete >= static_cast<size_t>(limit);
    if (!ranked) reset();
  }
  if (!ranked) {
    // Candidates by rank class: 0 the word itself, 1 a word it is the prefix of, 2 and 3
    // a word one and two typos away. Each word's candidates come in that order, so
    // walking them class by class over all words records the same best match per word
    // and track as walking each word's candidates in turn. After classes 0..t, a track
    // not yet matching every word can only complete through a class > t candidate:
    // typos and prefixes at least (0, 1) after class 0, (1, 0) after class 1, (2, 0)
    // after class 2. Complete tracks strictly better on those two keys rank above every
    // such late completion; once `limit` of them pass `keep`, the rest cannot reach the
    // first `limit` and is not walked. A common single word therefore costs its own
    // postings, not those of every word it begins and every word a typo away.
    auto klass = [](const Candidate& c) {
      return c.typos > 0 ? 1 + c.typos : c.prefix ? 1 : 0;
    };
    const uint16_t all = static_cast<uint16_t>((1u << words.size()) - 1);
    // Several words with many postings: count first, in bitsets that stay in cache, how
    // many words each track matches, and walk only the tracks matching enough of them to
    // rank (WordCountFloor) instead of accumulating every track any word matched.
    const size_t blocks = (title_words_.size() + 63) / 64;
    uint64_t total = 0;
    for (uint64_t v : volume) total += v;
    const uint64_t* selected = nullptr;
    if (words.size() > 1 && total >= 4 * blocks) {
      const size_t n = words.size();
      // Only the word bitsets start cleared; WordCountFloor writes every word of the
      // planes and of `chosen`.
      if (scratch.bits.size() < (n + kCountPlanes + 1) * blocks)
        scratch.bits.resize((n + kCountPlanes + 1) * blocks);
      uint64_t* word_bits = scratch.bits.data();
      std::fill_n(word_bits, n * blocks, uint64_t{0});
      for (size_t q = 0; q < n; ++q) {
        uint64_t* bits = word_bits + q * blocks;
        for (const Candidate& c : candidates[q]) {
          for (uint32_t p = posting_start_[c.term]; p < posting_start_[c.term + 1]; ++p) {
            const uint32_t position = posting_position_[p];
            bits[position >> 6] |= uint64_t{1} << (position & 63);
          }
        }
      }
      uint64_t* planes = word_bits + n * blocks;
      uint64_t* chosen = planes + kCountPlanes * blocks;
      WordCountFloor(word_bits, n, blocks, limit, keep, planes, chosen);
      selected = chosen;
    }
    std::vector<size_t> next(words.size(), 0);
    for (int t = 0; t <= 3; ++t) {
      if (t < 3 && groups <= t) {
        add_groups(groups, t + 1);
        groups = t + 1;
      }
      for (size_t q = 0; q < words.size(); ++q) {
        const uint16_t bit = static_cast<uint16_t>(1u << q);
        for (; next[q] < candidates[q].size() && klass(candidates[q][next[q]]) <= t;
             ++next[q]) {
          const Candidate& c = candidates[q][next[q]];
          const uint32_t end = posting_start_[c.term + 1];
          for (uint32_t p = posting_start_[c.term]; p < end; ++p) {
            const uint32_t position = posting_position_[p];
            // The accumulators are scattered over megabytes: ask for them ahead.
            if (p + kPrefetch < end)
              __builtin_prefetch(&scratch.acc[posting_position_[p + kPrefetch]]);
            if (selected != nullptr &&
                ((selected[position >> 6] >> (position & 63)) & 1) == 0)
              continue;
            if ((scratch.acc[position].mask & bit) == 0) match(q, c, p);
          }
        }
      }
      if (t == 3 || scratch.touched.size() < static_cast<size_t>(limit)) continue;
      size_t safe = 0;
      for (uint32_t position : scratch.touched) {
        const Acc& a = scratch.acc[position];
        if (a.mask != all || (keep && !keep(position))) continue;
        if (t == 0 ? a.prefixes == 0 && a.typos == 0 : a.typos < t) ++safe;
      }
      if (safe >= static_cast<size_t>(limit)) break;
    }
  }
  const size_t touched = scratch.touched.size();
  for (size_t i = 0; i < touched; ++i) {
    const uint32_t position = scratch.touched[i];
    if (i + kPrefetch < touched) {
      const uint32_t ahead = scratch.touched[i + kPrefetch];
      __builtin_prefetch(&scratch.acc[ahead]);
      __builtin_prefetch(&title_words_[ahead]);
      __builtin_prefetch(&version_words_[ahead]);
      __builtin_prefetch(&popularity_[ahead]);
    }
    Acc& a = scratch.acc[position];
    if (keep && !keep(position)) {
      a = Acc();
      continue;
    }
    offer(to_hit(position, a));
    a = Acc();
  }
  scratch.touched.clear();
  std::sort_heap(hits.begin(), hits.end(), Better);
  return hits;
}

}  // namespace cratedig
