// eval_recommend: playlist continuation on held-out playlists, through a running queryd.
//
//   eval_recommend --server=ADDR --heldout=HELDOUT.json [--train=TRAIN.json]
//                  [--label=NAME] [--strategy=NAME] [--max_per_artist=N]
//                  [--seeds=5,10,25] [--k=500] [--popular]
//
// HELDOUT.json and TRAIN.json are Million Playlist Dataset slices ({"playlists": [{"pid",
// "name", "tracks": [{"track_uri", "track_name", "artist_name", ...}]}]}); the held-out
// playlists must never have been imported into the trainer. For each held-out playlist
// and each seed size n, the first n distinct tracks are sent to Recommend (k results) and
// the rest are the hidden tracks to find; playlists with no track beyond the first n are
// left out of that row. A recommended track finds a hidden track when it has its id or is
// the same song under another id (same normalised name and artists). Prints one markdown
// table row per seed size with R-precision, NDCG, recommended-songs clicks (RecSys
// Challenge 2018) and Recall@100, averaged over the playlists.
//
// --popular scores the most-popular baseline instead of calling queryd: the tracks that
// appear in the most TRAIN.json playlists, the seeds left out.
//
// With --train, the last column is the share of the first 100 recommendations that are in
// no training playlist (by id or as the same song): a check that a recommender does not
// favour tracks for lacking playlist evidence (held-out tracks are mostly such tracks).

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/playlist_metrics.h"
#include "common/track_ids.h"
#include "cratedig/v1/query_service.grpc.pb.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, server, "127.0.0.1:50053", "queryd address");
ABSL_FLAG(std::string, heldout, "", "Held-out playlists (MPD slice JSON)");
ABSL_FLAG(
    std::string, train, "",
    "Training playlists (MPD slice JSON), for --popular and the unplaylisted share");
ABSL_FLAG(std::string, label, "", "Name of the row (default: the strategy or 'default')");
ABSL_FLAG(std::string, strategy, "",
          "Recommend strategy to ask for (empty: the server's default)");
ABSL_FLAG(std::string, seeds, "5,10,25", "Seed sizes: tracks given to Recommend");
ABSL_FLAG(int, max_per_artist, -1,
          "Recommend's max_per_artist (-1: the server's default; 0: no limit, as the "
          "prototype)");
ABSL_FLAG(int, k, 500, "Recommendations asked for per playlist (the challenge's 500)");
ABSL_FLAG(bool, popular, false, "Score the most-popular baseline instead of queryd");

namespace {

using cratedig::bench::MeanScores;
using cratedig::bench::ScorePlaylist;
namespace v1 = cratedig::v1;

struct Entry {
  std::string id;
  std::string key;  // DuplicateKey
};

struct Playlist {
  std::string name;
  std::vector<Entry> tracks;  // distinct ids, playlist order
};

std::vector<Playlist> ReadPlaylists(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "eval_recommend: cannot read %s\n", path.c_str());
    std::exit(2);
  }
  nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.contains("playlists")) {
    std::fprintf(stderr, "eval_recommend: %s is not an MPD slice\n", path.c_str());
    std::exit(2);
  }
  std::vector<Playlist> out;
  for (const auto& p : doc["playlists"]) {
    Playlist playlist;
    playlist.name = p.value("name", "");
    absl::flat_hash_set<std::string> seen;
    for (const auto& t : p["tracks"]) {
      v1::Track track;
      track.set_id(cratedig::ParseSpotifyTrackId(t.value("track_uri", "")));
      if (track.id().empty() || !seen.insert(track.id()).second) continue;
      track.set_name(t.value("track_name", ""));
      track.add_artists()->set_name(t.value("artist_name", ""));
      playlist.tracks.push_back({track.id(), cratedig::DuplicateKey(track)});
    }
    out.push_back(std::move(playlist));
  }
  return out;
}

// Relevance of each recommendation: whether it finds a hidden track not found before.
std::vector<bool> Relevance(const std::vector<Entry>& hidden,
                            const std::vector<Entry>& recommended) {
  absl::flat_hash_map<std::string, size_t> by_id, by_key;
  for (size_t i = 0; i < hidden.size(); ++i) {
    by_id.emplace(hidden[i].id, i);
    by_key.emplace(hidden[i].key, i);
  }
  std::vector<bool> found(hidden.size(), false);
  std::vector<bool> relevant;
  relevant.reserve(recommended.size());
  for (const Entry& r : recommended) {
    int64_t match = -1;
    if (auto it = by_id.find(r.id); it != by_id.end()) {
      match = static_cast<int64_t>(it->second);
    } else if (auto jt = by_key.find(r.key); jt != by_key.end()) {
      match = static_cast<int64_t>(jt->second);
    }
    const bool hit = match >= 0 && !found[match];
    if (hit) found[match] = true;
    relevant.push_back(hit);
  }
  return relevant;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string heldout_path = absl::GetFlag(FLAGS_heldout);
  if (heldout_path.empty()) {
    std::fprintf(stderr, "eval_recommend: --heldout is required\n");
    return 2;
  }
  std::vector<int> seeds;
  for (absl::string_view s : absl::StrSplit(absl::GetFlag(FLAGS_seeds), ',')) {
    int n = 0;
    if (!absl::SimpleAtoi(s, &n) || n < 1) {
      std::fprintf(stderr, "eval_recommend: --seeds must list positive numbers\n");
      return 2;
    }
    seeds.push_back(n);
  }
  const int k = absl::GetFlag(FLAGS_k);
  const std::string strategy = absl::GetFlag(FLAGS_strategy);
  const int max_per_artist = absl::GetFlag(FLAGS_max_per_artist);
  const bool popular = absl::GetFlag(FLAGS_popular);
  const std::vector<Playlist> heldout = ReadPlaylists(heldout_path);

  std::vector<Entry> ranked_popular;
  if (popular && absl::GetFlag(FLAGS_train).empty()) {
    std::fprintf(stderr, "eval_recommend: --popular needs --train\n");
    return 2;
  }
  std::vector<Playlist> train;
  if (!absl::GetFlag(FLAGS_train).empty())
    train = ReadPlaylists(absl::GetFlag(FLAGS_train));
  absl::flat_hash_set<std::string> playlisted;  // ids and duplicate keys
  for (const Playlist& p : train) {
    for (const Entry& e : p.tracks) {
      playlisted.insert(e.id);
      playlisted.insert(e.key);
    }
  }
  if (popular) {
    absl::flat_hash_map<std::string, std::pair<int64_t, Entry>> counts;
    for (const Playlist& p : train) {
      for (const Entry& e : p.tracks) {
        auto& c = counts.try_emplace(e.id, 0, e).first->second;
        ++c.first;
      }
    }
    std::vector<std::pair<int64_t, Entry>> all;
    for (auto& [id, c] : counts) all.push_back(c);
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second.id < b.second.id;
    });
    for (auto& c : all) ranked_popular.push_back(c.second);
  }

  std::unique_ptr<v1::QueryService::Stub> stub;
  if (!popular) {
    stub = v1::QueryService::NewStub(grpc::CreateChannel(
        absl::GetFlag(FLAGS_server), grpc::InsecureChannelCredentials()));
  }
  std::string label = absl::GetFlag(FLAGS_label);
  if (label.empty()) {
    label = popular
                ? "most popular"
                : (absl::GetFlag(FLAGS_strategy).empty() ? "default"
                                                         : absl::GetFlag(FLAGS_strategy));
  }
  int failures = 0;
  for (int n : seeds) {
    MeanScores mean;
    int64_t top = 0, unplaylisted = 0;  // among the first 100 recommendations
    for (const Playlist& p : heldout) {
      if (static_cast<int>(p.tracks.size()) <= n) continue;
      std::vector<Entry> given(p.tracks.begin(), p.tracks.begin() + n);
      std::vector<Entry> hidden(p.tracks.begin() + n, p.tracks.end());
      std::vector<Entry> recommended;
      if (popular) {
        absl::flat_hash_set<std::string> seed_ids;
        for (const Entry& e : given) seed_ids.insert(e.id);
        for (const Entry& e : ranked_popular) {
          if (static_cast<int>(recommended.size()) >= k) break;
          if (!seed_ids.contains(e.id)) recommended.push_back(e);
        }
      } else {
        v1::RecommendRequest request;
        for (const Entry& e : given) request.add_track_ids(e.id);
        request.set_k(k);
        if (!strategy.empty()) request.mutable_options()->set_strategy(strategy);
        if (max_per_artist >= 0)
          request.mutable_options()->set_max_per_artist(max_per_artist);
        v1::RecommendResponse response;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
        grpc::Status status = stub->Recommend(&context, request, &response);
        if (!status.ok()) {
          if (++failures <= 5) {
            std::fprintf(stderr, "eval_recommend: playlist '%s' seeds %d: %s\n",
                         p.name.c_str(), n, status.error_message().c_str());
          }
          continue;
        }
        for (const v1::ScoredTrack& r : response.results()) {
          recommended.push_back({r.track().id(), cratedig::DuplicateKey(r.track())});
        }
      }
      for (size_t i = 0; i < recommended.size() && i < 100; ++i) {
        ++top;
        if (!playlisted.contains(recommended[i].id) &&
            !playlisted.contains(recommended[i].key)) {
          ++unplaylisted;
        }
      }
      mean.Add(ScorePlaylist(Relevance(hidden, recommended),
                             static_cast<int64_t>(hidden.size())));
    }
    const auto m = mean.Mean();
    const std::string share = train.empty() || top == 0
                                  ? "-"
                                  : absl::StrFormat("%.3f", 1.0 * unplaylisted / top);
    std::printf("| %s | %d | %lld | %.4f | %.4f | %.2f | %.4f | %s |\n", label.c_str(), n,
                static_cast<long long>(mean.playlists), m.r_precision, m.ndcg, m.clicks,
                m.recall_at_100, share.c_str());
    std::fflush(stdout);
  }
  if (failures > 0) {
    std::fprintf(stderr, "eval_recommend: %d requests failed\n", failures);
    return 1;
  }
  return 0;
}
