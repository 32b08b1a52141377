// eval_search: the quality and latency of Search on a served catalog, next to the
// prototype's method on the same queries.
//
//   eval_search --snapshot=DIR --server=HOST:PORT [--per_type=500] [--k=10] [--seed=1]
//
// Reads the track table of the published snapshot DIR (the one queryd at --server
// serves), draws tracks at random and makes one query of each type from each (types a
// track cannot give, such as "accents stripped" for a title without accents, draw other
// tracks):
//
//   exact          the track name as stored
//   lowercased     the name in lower case
//   typo1, typo2   the title (version suffix aside) lower-cased with one typo in a word
//   of
//                  5+ letters, or two typos (one 9+ letter word twice or two 5+ letter
//                  words once each); a typo is a deletion, insertion, substitution or
//                  swap of neighbours
//   prefix         the first half (at least 3 characters) of the title, as typed so far
//   unaccented     the name with accents removed (names that have accents)
//   unpunctuated   the name with punctuation removed (names that have punctuation)
//   artist_title   main artist, then the title
//   title_artist   the title, then the main artist
//   no_version     the title without its version suffix (names that have one)
//
// A result is right when its normalised title (version suffix aside) and normalised main
// artist are the query track's: any copy or version of the song counts. Reports
// Recall@1, Recall@k and MRR (over the first k) per type and overall, and the latency of
// queryd's Search (round trip over gRPC on this machine, one call at a time) at p50 and
// p99.
//
// The prototype's method on the same queries: word vectors learned from the catalog's
// names with fastText (no subwords, like the static vectors the prototype loaded, so an
// unknown word has no vector), each name the mean of its lemmatised words' vectors, the
// nearest names by cosine over every indexed track.

#include <fasttext/fasttext.h>
#include <grpcpp/grpcpp.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/text.h"
#include "cratedig/v1/query_service.grpc.pb.h"
#include "cratedig/v1/snapshot.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl.h"

ABSL_FLAG(std::string, snapshot, "",
          "Snapshot directory queryd serves (DATA/snapshots/N)");
ABSL_FLAG(std::string, server, "127.0.0.1:50053", "queryd address");
ABSL_FLAG(int, per_type, 500, "Queries per type");
ABSL_FLAG(int, k, 10, "Results per query (Recall@k, MRR over the first k)");
ABSL_FLAG(int, seed, 1, "Random seed");
ABSL_FLAG(int, prototype_dim, 100, "Width of the prototype's word vectors");
ABSL_FLAG(int, prototype_epochs, 10, "fastText epochs for the prototype's word vectors");
ABSL_FLAG(int, show_misses, 0, "Print this many queries per type that Search missed");

namespace {

using cratedig::v1::Track;

const char* const kTypes[] = {
    "exact",      "lowercased",   "typo1",        "typo2",        "prefix",
    "unaccented", "unpunctuated", "artist_title", "title_artist", "no_version"};

std::u32string Decode(const std::string& s) {
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(s);
  std::u32string out;
  for (int32_t i = 0; i < u.length();) {
    UChar32 c = u.char32At(i);
    out.push_back(static_cast<char32_t>(c));
    i += U16_LENGTH(c);
  }
  return out;
}

std::string Encode(const std::u32string& s) {
  icu::UnicodeString u;
  for (char32_t c : s) u.append(static_cast<UChar32>(c));
  std::string out;
  u.toUTF8String(out);
  return out;
}

std::string Lower(const std::string& s) {
  std::string out;
  icu::UnicodeString::fromUTF8(s).toLower().toUTF8String(out);
  return out;
}

std::string StripAccents(const std::string& s) {
  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(error);
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(error);
  icu::UnicodeString d = nfd->normalize(icu::UnicodeString::fromUTF8(s), error);
  icu::UnicodeString kept;
  for (int32_t i = 0; i < d.length();) {
    UChar32 c = d.char32At(i);
    i += U16_LENGTH(c);
    if (u_charType(c) != U_NON_SPACING_MARK) kept.append(c);
  }
  std::string out;
  nfc->normalize(kept, error).toUTF8String(out);
  return U_FAILURE(error) ? s : out;
}

std::string StripPunctuation(const std::string& s) {
  std::u32string out;
  for (char32_t c : Decode(s)) {
    if (u_ispunct(static_cast<UChar32>(c))) continue;
    if (c == U' ' && (out.empty() || out.back() == U' ')) continue;
    out.push_back(c);
  }
  while (!out.empty() && out.back() == U' ') out.pop_back();
  return Encode(out);
}

bool IsLetter(char32_t c) { return u_isalpha(static_cast<UChar32>(c)); }

// One random typo inside word [begin, end) of `s` (code points).
void Typo(std::u32string* s, size_t begin, size_t end, std::mt19937* rng) {
  const size_t len = end - begin;
  const size_t at = begin + (*rng)() % len;
  static const char32_t kLetters[] = U"abcdefghijklmnopqrstuvwxyz";
  auto letter = [&] { return kLetters[(*rng)() % 26]; };
  switch ((*rng)() % 4) {
    case 0:  // deletion
      s->erase(at, 1);
      break;
    case 1:  // insertion
      s->insert(s->begin() + at, letter());
      break;
    case 2: {  // substitution by another letter
      char32_t c = letter();
      while (c == (*s)[at]) c = letter();
      (*s)[at] = c;
      break;
    }
    default:  // swap with the next letter of the word (or the previous one at the end)
      if (at + 1 < end && (*s)[at] != (*s)[at + 1]) {
        std::swap((*s)[at], (*s)[at + 1]);
      } else if (at > begin && (*s)[at] != (*s)[at - 1]) {
        std::swap((*s)[at], (*s)[at - 1]);
      } else {
        s->erase(at, 1);
      }
  }
}

// Words of at least `min_letters` letters: [begin, end) spans, code points.
std::vector<std::pair<size_t, size_t>> LongWords(const std::u32string& s,
                                                 size_t min_letters) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t i = 0; i < s.size();) {
    if (!IsLetter(s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && IsLetter(s[j])) ++j;
    if (j - i >= min_letters) out.emplace_back(i, j);
    i = j;
  }
  return out;
}

// The query of `type` for the track, or "" when the track cannot give one.
std::string MakeQuery(const std::string& type, const Track& t, std::mt19937* rng) {
  const std::string& name = t.name();
  const std::string title(cratedig::CoreTitle(name));
  const std::string artist = t.artists().empty() ? "" : t.artists(0).name();
  if (type == "exact") return name;
  if (type == "lowercased") return Lower(name);
  if (type == "typo1" || type == "typo2") {
    std::u32string s = Decode(Lower(title));
    if (type == "typo1") {
      auto words = LongWords(s, 5);
      if (words.empty()) return "";
      auto [b, e] = words[(*rng)() % words.size()];
      Typo(&s, b, e, rng);
      return Encode(s);
    }
    auto nine = LongWords(s, 9);
    auto five = LongWords(s, 5);
    if (five.size() >= 2 && (nine.empty() || (*rng)() % 2 == 0)) {
      size_t a = (*rng)() % five.size(), b = (*rng)() % (five.size() - 1);
      if (b >= a) ++b;
      if (a < b) std::swap(a, b);  // the later word first, so the earlier span holds
      Typo(&s, five[a].first, five[a].second, rng);
      Typo(&s, five[b].first, five[b].second, rng);
      return Encode(s);
    }
    if (nine.empty()) return "";
    auto [b, e] = nine[(*rng)() % nine.size()];
    const std::u32string before = s;
    Typo(&s, b, e, rng);
    const size_t e2 = e + s.size() - before.size();
    Typo(&s, b, std::max(e2, b + 1), rng);
    return Encode(s);
  }
  if (type == "prefix") {
    std::u32string s = Decode(title);
    if (s.size() < 6) return "";
    size_t n = std::max<size_t>(3, (s.size() + 1) / 2);
    std::u32string p = s.substr(0, n);
    while (!p.empty() && p.back() == U' ') p.pop_back();
    return Encode(p);
  }
  if (type == "unaccented") {
    std::string q = StripAccents(name);
    return q == name ? "" : q;
  }
  if (type == "unpunctuated") {
    std::string q = StripPunctuation(name);
    return q == name || q.empty() ? "" : q;
  }
  if (artist.empty()) return "";
  if (type == "artist_title") return absl::StrCat(artist, " ", title);
  if (type == "title_artist") return absl::StrCat(title, " ", artist);
  if (type == "no_version") return title == name ? "" : title;
  return "";
}

std::string SongKey(const Track& t) {
  auto title = cratedig::NormalizeText(cratedig::CoreTitle(t.name()));
  auto artist = cratedig::NormalizeText(t.artists().empty() ? "" : t.artists(0).name());
  if (!title.ok() || !artist.ok()) return "";
  return absl::StrCat(*title, "\x1f", *artist);
}

struct Tally {
  int n = 0;
  int at1 = 0;
  int atk = 0;
  double rr = 0;
  void Add(int rank) {  // 1-based rank of the first right result, 0 when none in k
    ++n;
    if (rank == 1) ++at1;
    if (rank >= 1) {
      ++atk;
      rr += 1.0 / rank;
    }
  }
  void Merge(const Tally& o) {
    n += o.n;
    at1 += o.at1;
    atk += o.atk;
    rr += o.rr;
  }
  std::string Row() const {
    if (n == 0) return "     -      -      -";
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%6.3f %6.3f %6.3f", double(at1) / n, double(atk) / n,
                  rr / n);
    return buf;
  }
};

// The prototype's method: mean word vectors of lemmatised words, exhaustive cosine.
class Prototype {
 public:
  bool Learn(const std::vector<std::string>& names, const std::vector<int64_t>& labels,
             int dim, int epochs, int seed) {
    const std::string corpus = (std::filesystem::temp_directory_path() /
                                absl::StrCat("eval_search_corpus.", getpid()))
                                   .string();
    {
      std::ofstream out(corpus);
      for (const std::string& n : names) {
        auto terms = cratedig::AnalyzeText(n);
        if (terms.ok() && !terms->empty()) out << absl::StrJoin(*terms, " ") << "\n";
      }
    }
    fasttext::Args args;
    args.input = corpus;
    args.model = fasttext::model_name::sg;
    args.dim = dim;
    args.epoch = epochs;
    args.minCount = 1;
    args.minn = 0;
    args.maxn = 0;
    args.thread = 2;
    args.verbose = 0;
    args.seed = seed;
    try {
      model_.train(args);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "eval_search: fastText: %s\n", e.what());
      std::filesystem::remove(corpus);
      return false;
    }
    std::filesystem::remove(corpus);
    dim_ = dim;
    for (size_t i = 0; i < names.size(); ++i) {
      std::vector<float> v = Embed(names[i]);
      if (v.empty()) continue;
      labels_.push_back(labels[i]);
      rows_.insert(rows_.end(), v.begin(), v.end());
    }
    return true;
  }

  // Mean of the known words' vectors, unit length; empty when no word is known.
  std::vector<float> Embed(const std::string& text) const {
    auto terms = cratedig::AnalyzeText(text);
    if (!terms.ok()) return {};
    std::vector<float> sum(dim_, 0.0f);
    int known = 0;
    fasttext::Vector v(dim_);
    for (const std::string& term : *terms) {
      if (model_.getWordId(term) < 0) continue;
      model_.getWordVector(v, term);
      for (int d = 0; d < dim_; ++d) sum[d] += v[d];
      ++known;
    }
    if (known == 0) return {};
    double norm = 0;
    for (float x : sum) norm += double(x) * x;
    if (norm == 0) return {};
    for (float& x : sum) x = static_cast<float>(x / std::sqrt(norm));
    return sum;
  }

  std::vector<int64_t> Nearest(const std::string& query, int k) const {
    std::vector<float> q = Embed(query);
    if (q.empty()) return {};
    std::vector<std::pair<float, int64_t>> scored(labels_.size());
    for (size_t i = 0; i < labels_.size(); ++i) {
      const float* row = rows_.data() + i * dim_;
      float dot = 0;
      for (int d = 0; d < dim_; ++d) dot += q[d] * row[d];
      scored[i] = {-dot, labels_[i]};
    }
    const size_t keep = std::min(scored.size(), static_cast<size_t>(k));
    std::partial_sort(scored.begin(), scored.begin() + keep, scored.end());
    std::vector<int64_t> out;
    for (size_t i = 0; i < keep; ++i) out.push_back(scored[i].second);
    return out;
  }

 private:
  fasttext::FastText model_;
  int dim_ = 0;
  std::vector<int64_t> labels_;
  std::vector<float> rows_;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(p * v.size())) - 1;
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string dir = absl::GetFlag(FLAGS_snapshot);
  const int k = absl::GetFlag(FLAGS_k);
  const int per_type = absl::GetFlag(FLAGS_per_type);
  if (dir.empty() || k < 1 || per_type < 1) {
    std::fprintf(stderr, "usage: eval_search --snapshot=DIR --server=HOST:PORT\n");
    return 2;
  }
  cratedig::v1::TrackTable table;
  {
    std::ifstream in(dir + "/tracks.binpb", std::ios::binary);
    if (!in.is_open()) {
      std::fprintf(stderr, "eval_search: cannot read %s/tracks.binpb\n", dir.c_str());
      return 1;
    }
    google::protobuf::io::IstreamInputStream stream(&in);
    google::protobuf::io::CodedInputStream coded(&stream);
    coded.SetTotalBytesLimit(std::numeric_limits<int>::max());
    if (!table.ParseFromCodedStream(&coded)) {
      std::fprintf(stderr, "eval_search: %s/tracks.binpb is not a track table\n",
                   dir.c_str());
      return 1;
    }
  }
  const int64_t n = table.tracks_size();
  std::vector<std::string> keys(n);
  std::vector<int64_t> candidates;  // representatives with a title and an artist
  std::vector<std::string> names;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    keys[i] = SongKey(table.tracks(i));
    if (table.representative(i) != i) continue;
    names.push_back(table.tracks(i).name());
    labels.push_back(i);
    if (!keys[i].empty() && keys[i][0] != '\x1f' && keys[i].back() != '\x1f') {
      candidates.push_back(i);
    }
  }
  std::printf("catalog: %lld tracks, %zu indexed, %zu with a title and an artist\n",
              (long long)n, labels.size(), candidates.size());

  auto t0 = std::chrono::steady_clock::now();
  Prototype prototype;
  if (!prototype.Learn(names, labels, absl::GetFlag(FLAGS_prototype_dim),
                       absl::GetFlag(FLAGS_prototype_epochs),
                       absl::GetFlag(FLAGS_seed))) {
    return 1;
  }
  const double learn_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("prototype: word vectors (dim %d, %d epochs) learned in %.1f s\n",
              absl::GetFlag(FLAGS_prototype_dim), absl::GetFlag(FLAGS_prototype_epochs),
              learn_s);

  auto channel = grpc::CreateChannel(absl::GetFlag(FLAGS_server),
                                     grpc::InsecureChannelCredentials());
  auto stub = cratedig::v1::QueryService::NewStub(channel);

  std::mt19937 rng(absl::GetFlag(FLAGS_seed));
  std::map<std::string, Tally> ours, theirs;
  std::map<std::string, int> misses;
  std::vector<double> latency_ms, prototype_ms;
  int failed = 0;
  for (const char* type : kTypes) {
    int made = 0;
    for (int attempt = 0; made < per_type && attempt < per_type * 200; ++attempt) {
      const int64_t pos = candidates[rng() % candidates.size()];
      const Track& track = table.tracks(pos);
      const std::string query = MakeQuery(type, track, &rng);
      if (query.empty()) continue;
      auto words = cratedig::TextWords(query);
      if (!words.ok() || words->empty()) continue;
      ++made;
      const std::string& want = keys[pos];
      auto rank_of = [&](const std::vector<int64_t>& positions) {
        for (size_t r = 0; r < positions.size() && r < static_cast<size_t>(k); ++r) {
          if (keys[positions[r]] == want) return static_cast<int>(r + 1);
        }
        return 0;
      };

      cratedig::v1::SearchRequest request;
      request.set_query(query);
      request.set_k(k);
      cratedig::v1::SearchResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      auto s0 = std::chrono::steady_clock::now();
      grpc::Status status = stub->Search(&context, request, &response);
      latency_ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s0)
              .count());
      std::vector<int64_t> got;
      if (status.ok()) {
        for (const auto& r : response.results()) got.push_back(r.position());
      } else if (++failed <= 5) {
        std::fprintf(stderr, "eval_search: Search('%s'): %s\n", query.c_str(),
                     status.error_message().c_str());
      }
      const int rank = rank_of(got);
      ours[type].Add(rank);
      if (rank != 1 && misses[type]++ < absl::GetFlag(FLAGS_show_misses)) {
        std::printf("miss %-12s rank %2d  '%s'  want '%s' by '%s'; first '%s' by '%s'\n",
                    type, rank, query.c_str(), track.name().c_str(),
                    track.artists().empty() ? "" : track.artists(0).name().c_str(),
                    got.empty() ? "" : table.tracks(got[0]).name().c_str(),
                    got.empty() || table.tracks(got[0]).artists().empty()
                        ? ""
                        : table.tracks(got[0]).artists(0).name().c_str());
      }

      auto p0 = std::chrono::steady_clock::now();
      std::vector<int64_t> proto = prototype.Nearest(query, k);
      prototype_ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - p0)
              .count());
      theirs[type].Add(rank_of(proto));
    }
  }

  std::printf("\n%-13s %5s   %-20s   %-20s\n", "", "", "cratedig Search", "prototype");
  std::printf("%-13s %5s   %6s %6s %6s   %6s %6s %6s\n", "type", "n", "R@1",
              absl::StrCat("R@", k).c_str(), "MRR", "R@1", absl::StrCat("R@", k).c_str(),
              "MRR");
  Tally all_ours, all_theirs, typo_ours, typo_theirs;
  for (const char* type : kTypes) {
    std::printf("%-13s %5d   %s   %s\n", type, ours[type].n, ours[type].Row().c_str(),
                theirs[type].Row().c_str());
    all_ours.Merge(ours[type]);
    all_theirs.Merge(theirs[type]);
    if (std::string(type).rfind("typo", 0) == 0) {
      typo_ours.Merge(ours[type]);
      typo_theirs.Merge(theirs[type]);
    }
  }
  std::printf("%-13s %5d   %s   %s\n", "typo (1+2)", typo_ours.n, typo_ours.Row().c_str(),
              typo_theirs.Row().c_str());
  std::printf("%-13s %5d   %s   %s\n", "overall", all_ours.n, all_ours.Row().c_str(),
              all_theirs.Row().c_str());
  std::printf(
      "\nqueryd Search latency (gRPC round trip, one call at a time): p50 %.2f ms, p99 "
      "%.2f "
      "ms, max %.2f ms over %zu calls; %d failed\n",
      Percentile(latency_ms, 0.5), Percentile(latency_ms, 0.99),
      Percentile(latency_ms, 1.0), latency_ms.size(), failed);
  std::printf("prototype (in process, exhaustive): p50 %.2f ms, p99 %.2f ms\n",
              Percentile(prototype_ms, 0.5), Percentile(prototype_ms, 0.99));
  return failed == 0 ? 0 : 1;
}
