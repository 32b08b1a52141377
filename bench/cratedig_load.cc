// cratedig_load: drives queryd's Search, Recommend or GetTracks over gRPC for a fixed
// time and reports throughput, errors by status code and latency percentiles.
//
//   cratedig_load --target=127.0.0.1:50053 --snapshot=DATA/snapshots/000001
//       --method=search|recommend|get_tracks [--duration=10s] [--connections=4]
//       [--concurrency=32 | --rate=5000] [--k=10] [--ids_per_request=100] [--json]
//
// Requests are drawn from the served catalog: a reservoir sample of the snapshot's track
// table (read as a stream, so a 10M-track table costs no more memory than the sample).
// Search sends track names, every other one cut to its first word; Recommend sends
// playlists of 1 to 10 tracks that have audio features; GetTracks sends --ids_per_request
// ids.
//
// Closed loop (default): --concurrency requests are always outstanding, a new one is sent
// as soon as one completes. Open loop (--rate > 0): requests are sent at fixed intervals
// whatever the server does, and latency counts from the moment a request was due, so a
// server that falls behind shows its queueing delay (no coordinated omission).
//
// Uses the asynchronous CompletionQueue API: one queue and one thread per --threads,
// --connections separate HTTP/2 connections.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/text.h"
#include "cratedig/v1/query_service.grpc.pb.h"
#include "cratedig/v1/snapshot.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/wire_format_lite.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50053", "queryd address");
ABSL_FLAG(
    std::string, snapshot, "",
    "Snapshot directory of the served snapshot (its tracks.binpb gives the queries)");
ABSL_FLAG(std::string, method, "search", "search, recommend or get_tracks");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "Measured time");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(1), "Time before measuring");
ABSL_FLAG(int, connections, 4, "Separate gRPC connections");
ABSL_FLAG(int, threads, 1, "Completion-queue threads of this client");
ABSL_FLAG(int, concurrency, 32, "Closed loop: requests outstanding at all times");
ABSL_FLAG(double, rate, 0, "Open loop: requests per second (0: closed loop)");
ABSL_FLAG(int, k, 10, "Results per Search / Recommend");
ABSL_FLAG(int, ids_per_request, 100, "Ids per GetTracks request");
ABSL_FLAG(int, playlist_max, 10,
          "Recommend: playlists of 1..N tracks; 0 sends none (knobs alone)");
ABSL_FLAG(std::string, recommend_options, "",
          "Recommend: RecommendOptions in protobuf text format, sent with every request, "
          "e.g. 'targets { feature: \"energy\" value: 0.8 }'");
ABSL_FLAG(int, sample, 20000, "Tracks sampled from the snapshot for the request sets");
ABSL_FLAG(int, seed, 1, "Random seed");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(5), "Deadline of each request");
ABSL_FLAG(bool, json, false, "Print one JSON object instead of text");

namespace {

namespace v1 = cratedig::v1;
using google::protobuf::internal::WireFormatLite;

int64_t NowNs() { return absl::GetCurrentTimeNanos(); }

struct Sample {
  std::vector<std::string> names;
  std::vector<std::string> ids;
  std::vector<std::string> with_audio;  // ids of tracks with audio features
  int64_t tracks = 0;
};

// A reservoir sample of the track table, read one track at a time.
bool ReadSample(const std::string& path, int size, std::mt19937_64& rng, Sample* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  google::protobuf::io::IstreamInputStream stream(&in);
  std::vector<v1::Track> kept;
  const uint32_t tracks_tag =
      WireFormatLite::MakeTag(1, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
  // A CodedInputStream reads at most 2 GiB, and a large table is bigger: a fresh one
  // every 100,000 fields continues where the last stopped (its destructor backs up the
  // stream).
  for (bool more = true; more;) {
    google::protobuf::io::CodedInputStream coded(&stream);
    coded.SetTotalBytesLimit(std::numeric_limits<int>::max());
    more = false;
    for (int field = 0; field < 100000; ++field) {
      const uint32_t tag = coded.ReadTag();
      if (tag == 0) break;
      more = true;
      if (tag != tracks_tag) {
        if (!WireFormatLite::SkipField(&coded, tag)) return false;
        continue;
      }
      uint32_t length;
      if (!coded.ReadVarint32(&length)) return false;
      const int64_t seen = out->tracks++;
      const int64_t slot =
          seen < size ? seen
                      : static_cast<int64_t>(rng() % static_cast<uint64_t>(seen + 1));
      if (slot >= size) {
        if (!coded.Skip(static_cast<int>(length))) return false;
        continue;
      }
      auto limit = coded.PushLimit(static_cast<int>(length));
      v1::Track t;
      if (!t.ParseFromCodedStream(&coded)) return false;
      coded.PopLimit(limit);
      if (slot == static_cast<int64_t>(kept.size())) {
        kept.push_back(std::move(t));
      } else {
        kept[slot] = std::move(t);
      }
    }
  }
  // Search takes a query with a word (a letter or a digit), as queryd reads it.
  auto has_word = [](const std::string& s) {
    auto words = cratedig::TextWords(s);
    return words.ok() && !words->empty();
  };
  for (size_t i = 0; i < kept.size(); ++i) {
    const v1::Track& t = kept[i];
    std::string name = t.name();
    if (i % 2 == 1) {  // The first word alone, when it is one.
      std::string first = name.substr(0, name.find(' '));
      if (has_word(first)) name = first;
    }
    if (has_word(name)) out->names.push_back(name);
    out->ids.push_back(t.id());
    if (t.has_audio_features()) out->with_audio.push_back(t.id());
  }
  return !kept.empty();
}

enum class Method { kSearch, kRecommend, kGetTracks };

// --recommend_options, parsed once in main().
v1::RecommendOptions& RecommendOptionsToSend() {
  static v1::RecommendOptions* options = new v1::RecommendOptions();
  return *options;
}

// One outstanding request.
struct Call {
  virtual ~Call() = default;
  grpc::ClientContext context;
  grpc::Status status;
  int64_t due_ns = 0;
  int ids = 0;
};

template <typename Response>
struct TypedCall : Call {
  Response response;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
};

// What one completion-queue thread has measured.
struct Tally {
  std::vector<int64_t> latencies_ns;
  std::map<int, int64_t> errors;
  std::map<int, std::string> first_error;
  int64_t ok = 0, ids = 0;
};

class Load {
 public:
  Load(Method method, const Sample& sample) : method_(method), sample_(sample) {
    const std::string target = absl::GetFlag(FLAGS_target);
    for (int c = 0; c < std::max(1, absl::GetFlag(FLAGS_connections)); ++c) {
      grpc::ChannelArguments args;
      args.SetInt("cratedig.load.connection", c);  // distinct args: distinct connections
      args.SetMaxReceiveMessageSize(64 << 20);
      stubs_.push_back(v1::QueryService::NewStub(
          grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args)));
    }
    for (int t = 0; t < std::max(1, absl::GetFlag(FLAGS_threads)); ++t) {
      queues_.push_back(std::make_unique<grpc::CompletionQueue>());
      tallies_.emplace_back();
    }
  }

  // Runs the whole load; returns the measured wall time.
  absl::Duration Run() {
    const absl::Duration warmup = absl::GetFlag(FLAGS_warmup);
    const absl::Duration duration = absl::GetFlag(FLAGS_duration);
    start_ns_ = NowNs();
    measure_from_ns_ = start_ns_ + absl::ToInt64Nanoseconds(warmup);
    stop_ns_ = measure_from_ns_ + absl::ToInt64Nanoseconds(duration);
    std::vector<std::thread> pollers;
    for (size_t q = 0; q < queues_.size(); ++q)
      pollers.emplace_back([this, q] { Poll(q); });
    const double rate = absl::GetFlag(FLAGS_rate);
    if (rate > 0) {
      Pace(rate);
    } else {
      const int concurrency = std::max(1, absl::GetFlag(FLAGS_concurrency));
      for (int i = 0; i < concurrency; ++i) Issue(i % queues_.size(), NowNs());
    }
    for (auto& p : pollers) p.join();
    return absl::Nanoseconds(std::min(NowNs(), last_completion_ns_.load()) -
                             measure_from_ns_);
  }

  const std::vector<Tally>& tallies() const { return tallies_; }
  int64_t late() const { return late_; }

 private:
  // Open loop: one request every 1/rate seconds, round robin over the queues.
  void Pace(double rate) {
    const double interval_ns = 1e9 / rate;
    int64_t sent = 0;
    for (;;) {
      const int64_t due = start_ns_ + static_cast<int64_t>(sent * interval_ns);
      if (due >= stop_ns_) break;
      int64_t now = NowNs();
      if (due > now) {
        absl::SleepFor(absl::Nanoseconds(due - now));
      } else if (now - due > 1000000) {
        ++late_;  // this client could not send on time (> 1 ms late)
      }
      Issue(sent % queues_.size(), due);
      ++sent;
    }
    done_sending_ = true;
  }

  void Issue(size_t queue, int64_t due_ns) {
    const uint64_t n = counter_.fetch_add(1);
    grpc::CompletionQueue* cq = queues_[queue].get();
    v1::QueryService::Stub* stub = stubs_[n % stubs_.size()].get();
    const auto deadline = absl::ToChronoTime(absl::Now() + deadline_);
    const int k = k_;
    std::mt19937_64 rng(n * 0x9E3779B97F4A7C15ULL + seed_);
    outstanding_.fetch_add(1);
    switch (method_) {
      case Method::kSearch: {
        auto* call = new TypedCall<v1::SearchResponse>;
        call->context.set_deadline(deadline);
        call->due_ns = due_ns;
        v1::SearchRequest request;
        request.set_query(sample_.names[rng() % sample_.names.size()]);
        request.set_k(k);
        call->reader = stub->PrepareAsyncSearch(&call->context, request, cq);
        call->reader->StartCall();
        call->reader->Finish(&call->response, &call->status, call);
        break;
      }
      case Method::kRecommend: {
        auto* call = new TypedCall<v1::RecommendResponse>;
        call->context.set_deadline(deadline);
        call->due_ns = due_ns;
        v1::RecommendRequest request;
        *request.mutable_options() = RecommendOptionsToSend();
        const int most = absl::GetFlag(FLAGS_playlist_max);
        for (int i = most > 0 ? 1 + static_cast<int>(rng() % most) : 0; i > 0; --i) {
          request.add_track_ids(sample_.with_audio[rng() % sample_.with_audio.size()]);
        }
        request.set_k(k);
        call->reader = stub->PrepareAsyncRecommend(&call->context, request, cq);
        call->reader->StartCall();
        call->reader->Finish(&call->response, &call->status, call);
        break;
      }
      case Method::kGetTracks: {
        auto* call = new TypedCall<v1::GetTracksResponse>;
        call->context.set_deadline(deadline);
        call->due_ns = due_ns;
        v1::GetTracksRequest request;
        const int ids = ids_per_request_;
        for (int i = 0; i < ids; ++i) {
          request.add_track_ids(sample_.ids[rng() % sample_.ids.size()]);
        }
        call->ids = ids;
        call->reader = stub->PrepareAsyncGetTracks(&call->context, request, cq);
        call->reader->StartCall();
        call->reader->Finish(&call->response, &call->status, call);
        break;
      }
    }
  }

  void Poll(size_t queue) {
    grpc::CompletionQueue* cq = queues_[queue].get();
    Tally& tally = tallies_[queue];
    const bool closed = absl::GetFlag(FLAGS_rate) <= 0;
    for (;;) {
      void* tag;
      bool ok;
      auto status = cq->AsyncNext(
          &tag, &ok, std::chrono::system_clock::now() + std::chrono::milliseconds(50));
      if (status == grpc::CompletionQueue::SHUTDOWN) return;
      if (status == grpc::CompletionQueue::TIMEOUT) {
        if ((closed || done_sending_) && outstanding_.load() == 0) return;
        continue;
      }
      std::unique_ptr<Call> call(static_cast<Call*>(tag));
      const int64_t now = NowNs();
      last_completion_ns_ = now;
      if (call->due_ns >= measure_from_ns_ && call->due_ns < stop_ns_) {
        if (call->status.ok()) {
          tally.latencies_ns.push_back(now - call->due_ns);
          ++tally.ok;
          tally.ids += call->ids;
        } else {
          const int code = call->status.error_code();
          if (tally.errors[code]++ == 0) {
            tally.first_error[code] = call->status.error_message();
          }
        }
      }
      outstanding_.fetch_sub(1);
      if (closed && now < stop_ns_) Issue(queue, NowNs());
    }
  }

  Method method_;
  const Sample& sample_;
  const absl::Duration deadline_ = absl::GetFlag(FLAGS_deadline);
  const int k_ = absl::GetFlag(FLAGS_k);
  const uint64_t seed_ = absl::GetFlag(FLAGS_seed);
  const int ids_per_request_ = std::max(1, absl::GetFlag(FLAGS_ids_per_request));
  std::vector<std::unique_ptr<v1::QueryService::Stub>> stubs_;
  std::vector<std::unique_ptr<grpc::CompletionQueue>> queues_;
  std::vector<Tally> tallies_;
  std::atomic<uint64_t> counter_{0};
  std::atomic<int64_t> outstanding_{0};
  std::atomic<bool> done_sending_{false};
  std::atomic<int64_t> last_completion_ns_{0};
  int64_t start_ns_ = 0, measure_from_ns_ = 0, stop_ns_ = 0;
  int64_t late_ = 0;
};

const char* CodeName(int code) {
  static const char* kNames[] = {"OK",
                                 "CANCELLED",
                                 "UNKNOWN",
                                 "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED",
                                 "NOT_FOUND",
                                 "ALREADY_EXISTS",
                                 "PERMISSION_DENIED",
                                 "RESOURCE_EXHAUSTED",
                                 "FAILED_PRECONDITION",
                                 "ABORTED",
                                 "OUT_OF_RANGE",
                                 "UNIMPLEMENTED",
                                 "INTERNAL",
                                 "UNAVAILABLE",
                                 "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  return code >= 0 && code <= 16 ? kNames[code] : "?";
}

double Percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return static_cast<double>(sorted[std::min(i, sorted.size() - 1)]) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "cratedig_load --target=ADDR --snapshot=DIR --method=search|recommend|get_tracks");
  absl::ParseCommandLine(argc, argv);
  const std::string method_name = absl::GetFlag(FLAGS_method);
  if (!google::protobuf::TextFormat::ParseFromString(
          absl::GetFlag(FLAGS_recommend_options), &RecommendOptionsToSend())) {
    std::fprintf(stderr,
                 "cratedig_load: --recommend_options is not a RecommendOptions\n");
    return 2;
  }
  Method method;
  if (method_name == "search") {
    method = Method::kSearch;
  } else if (method_name == "recommend") {
    method = Method::kRecommend;
  } else if (method_name == "get_tracks") {
    method = Method::kGetTracks;
  } else {
    std::fprintf(stderr,
                 "cratedig_load: --method must be search, recommend or get_tracks\n");
    return 2;
  }
  if (absl::GetFlag(FLAGS_snapshot).empty()) {
    std::fprintf(stderr, "cratedig_load: --snapshot is required\n");
    return 2;
  }
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed));
  Sample sample;
  const std::string table = absl::GetFlag(FLAGS_snapshot) + "/tracks.binpb";
  if (!ReadSample(table, std::max(1, absl::GetFlag(FLAGS_sample)), rng, &sample) ||
      (method == Method::kRecommend && sample.with_audio.empty()) ||
      (method == Method::kSearch && sample.names.empty())) {
    std::fprintf(stderr, "cratedig_load: cannot sample tracks from %s\n", table.c_str());
    return 1;
  }

  Load load(method, sample);
  const absl::Duration elapsed = load.Run();
  std::vector<int64_t> latencies;
  std::map<int, int64_t> errors;
  std::map<int, std::string> first_error;
  int64_t ok = 0, ids = 0;
  for (const Tally& t : load.tallies()) {
    latencies.insert(latencies.end(), t.latencies_ns.begin(), t.latencies_ns.end());
    for (const auto& [code, n] : t.errors) errors[code] += n;
    for (const auto& [code, m] : t.first_error) first_error.emplace(code, m);
    ok += t.ok;
    ids += t.ids;
  }
  std::sort(latencies.begin(), latencies.end());
  const double seconds = std::max(1e-9, absl::ToDoubleSeconds(elapsed));
  int64_t failed = 0;
  for (const auto& [code, n] : errors) failed += n;
  const double rate = absl::GetFlag(FLAGS_rate);
  const std::string mode = rate > 0 ? absl::StrCat("open loop at ", rate, "/s")
                                    : absl::StrCat("closed loop, concurrency ",
                                                   absl::GetFlag(FLAGS_concurrency));
  if (absl::GetFlag(FLAGS_json)) {
    std::vector<std::string> errs;
    for (const auto& [code, n] : errors)
      errs.push_back(absl::StrCat("\"", CodeName(code), "\":", n));
    std::printf(
        "{\"method\":\"%s\",\"catalog_tracks\":%lld,\"connections\":%d,\"rate\":%g,"
        "\"concurrency\":%d,\"seconds\":%.3f,\"ok\":%lld,\"per_second\":%.1f,"
        "\"ids_per_second\":%.1f,\"errors\":{%s},\"late_sends\":%lld,"
        "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f}\n",
        method_name.c_str(), (long long)sample.tracks, absl::GetFlag(FLAGS_connections),
        rate, rate > 0 ? 0 : absl::GetFlag(FLAGS_concurrency), seconds, (long long)ok,
        ok / seconds, ids / seconds, absl::StrJoin(errs, ",").c_str(),
        (long long)load.late(), Percentile(latencies, 0.5), Percentile(latencies, 0.99),
        Percentile(latencies, 0.999), Percentile(latencies, 1.0));
    return failed > 0 ? 3 : 0;
  }
  std::printf("%s against %s (%lld tracks), %d connections, %s, %.1f s measured\n",
              method_name.c_str(), absl::GetFlag(FLAGS_target).c_str(),
              (long long)sample.tracks, absl::GetFlag(FLAGS_connections), mode.c_str(),
              seconds);
  std::printf("  ok %lld (%.1f/s", (long long)ok, ok / seconds);
  if (method == Method::kGetTracks) std::printf(", %.1f ids/s", ids / seconds);
  std::printf(")  errors %lld\n", (long long)failed);
  for (const auto& [code, n] : errors) {
    std::printf("    %s: %lld (first: %s)\n", CodeName(code), (long long)n,
                first_error[code].c_str());
  }
  if (load.late() > 0) {
    std::printf("  %lld requests were sent more than 1 ms late by this client\n",
                (long long)load.late());
  }
  std::printf("  latency ms: p50 %.3f  p99 %.3f  p999 %.3f  max %.3f\n",
              Percentile(latencies, 0.5), Percentile(latencies, 0.99),
              Percentile(latencies, 0.999), Percentile(latencies, 1.0));
  return failed > 0 ? 3 : 0;
}
