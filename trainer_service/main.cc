// trainerd: keeps the catalog, builds snapshots and publishes them to query daemons.

#include <algorithm>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/time.h"
#include "common/daemon.h"
#include "common/daemon_flags.h"
#include "common/logging.h"
#include "trainer_service/trainer.h"
#include "trainer_service/trainer_grpc_service.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50052",
          "Address to serve on (port 0: any free port)");
ABSL_FLAG(std::string, data_dir, "",
          "Directory for the catalog and the snapshots (required)");
ABSL_FLAG(int, keep_snapshots, 5, "Snapshots kept on disk (and available to rollback)");
ABSL_FLAG(absl::Duration, train_debounce, absl::Seconds(30),
          "Build and publish a snapshot by itself once new data has been quiet this long "
          "(at the latest 10 times this long after the first change); 0 turns it off");
ABSL_FLAG(std::string, text_vectors, "hashed",
          "What Search's name vectors are made of: hashed (words and trigrams), fasttext "
          "(word vectors learned from the catalog's titles and album names) or file "
          "(word vectors read from --word_vectors_file)");
ABSL_FLAG(int, text_dim, 128, "Width of the hashed track-name vectors");
ABSL_FLAG(
    std::string, word_vectors_file, "",
    "--text_vectors=file: a fastText model (.bin), fastText .vec or GloVe .txt word "
    "vectors file");
ABSL_FLAG(int64_t, word_vectors_max_words, 50000,
          "--text_vectors=file: the file's first (most frequent) words kept besides the "
          "words of the catalog's titles");
ABSL_FLAG(
    double, word_vectors_blend, 0.5,
    "--text_vectors=fasttext or file: share of the name vector given to the word "
    "vectors, the rest to the hashed words and trigrams (spelling); 1: word vectors "
    "alone");
ABSL_FLAG(int, word_vectors_dim, 64, "--text_vectors=fasttext: vector dimension");
ABSL_FLAG(int, word_vectors_epochs, 10, "--text_vectors=fasttext: training epochs");
ABSL_FLAG(
    int, word_vectors_buckets, 32768,
    "--text_vectors=fasttext: hash buckets of the character 3..5-gram vectors that "
    "give unseen query words a vector (0: none; buckets x dim floats per snapshot)");
ABSL_FLAG(double, min_genre_share, 0.01,
          "Genres held by a smaller share of tracks are left out of the feature vectors");
ABSL_FLAG(int, hnsw_m, 16, "hnswlib graph degree M of both indexes");
ABSL_FLAG(int, ef_construction, 64, "hnswlib construction breadth of both indexes");
ABSL_FLAG(int, ef_search, 256, "Search breadth the query daemons use (at least k)");
ABSL_FLAG(int64_t, recommend_exhaustive_below, 100000,
          "Recommendation indexes with at most this many tracks are searched exactly");
ABSL_FLAG(int, build_threads, 2, "Threads used to build the indexes");
ABSL_FLAG(bool, prototype_features, false,
          "Recommendation vectors exactly as the prototype built them (min-max audio, "
          "recency, one column per genre, no weights); the --weight_* and "
          "--genre_representation flags are then ignored");
ABSL_FLAG(double, weight_audio, 1.0, "Weight of the audio feature group");
ABSL_FLAG(double, weight_genre, 1.0, "Weight of the genre group");
ABSL_FLAG(double, weight_recency, 2.0, "Weight of the release recency");
ABSL_FLAG(double, weight_popularity, 1.0, "Weight of popularity (0: not a feature)");
ABSL_FLAG(std::string, genre_representation, "weighted_onehot",
          "How genres enter the vectors: onehot (the prototype's), weighted_onehot (the "
          "genre block of every track scaled to length 1) or embedding (a low-rank "
          "embedding of genres learnt from which genres tracks share)");
ABSL_FLAG(int, genre_dim, 16,
          "Width of the genre embedding (--genre_representation=embedding)");
ABSL_FLAG(double, cooccurrence_blend, 0.5,
          "Share of each recommendation vector learnt from playlist co-occurrence (0..1; "
          "0 ignores playlists; tracks in no playlist score on their content alone)");
ABSL_FLAG(
    bool, cooccurrence_artists, true,
    "When there are playlists, each artist's tracks also count as one in the "
    "co-occurrence, so tracks in no playlist learn from their artist's other tracks");
ABSL_FLAG(
    bool, cooccurrence_unit_fallback, false,
    "Tracks in no playlist keep their content vector at unit length instead of the "
    "blend's content scale, which favours them (the earlier design; for comparison)");
ABSL_FLAG(int, cooccurrence_dim, 32, "Width of the playlist co-occurrence embedding");
ABSL_FLAG(int, cooccurrence_window, 50,
          "Tracks further apart than this in a playlist do not count as co-occurring (0: "
          "the whole playlist)");

int main(int argc, char** argv) {
  cratedig::WatchShutdownSignals();
  absl::SetProgramUsageMessage("trainerd --listen=ADDR --data_dir=DIR");
  absl::ParseCommandLine(argc, argv);
  cratedig::SetLogProgramName("trainerd");
  absl::StatusOr<cratedig::DaemonFlags> flags = cratedig::DaemonFlagsFromCommandLine();
  if (!flags.ok()) {
    CD_LOG(ERROR) << flags.status();
    return 2;
  }
  cratedig::trainer::TrainerOptions options;
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.keep_snapshots = absl::GetFlag(FLAGS_keep_snapshots);
  options.train_debounce =
      std::max(absl::GetFlag(FLAGS_train_debounce), absl::ZeroDuration());
  options.build.text_dim = absl::GetFlag(FLAGS_text_dim);
  const std::string text_vectors = absl::GetFlag(FLAGS_text_vectors);
  if (text_vectors == "hashed") {
    options.build.text_vectors = cratedig::trainer::TextVectors::kHashed;
  } else if (text_vectors == "fasttext") {
    options.build.text_vectors = cratedig::trainer::TextVectors::kFastText;
  } else if (text_vectors == "file") {
    options.build.text_vectors = cratedig::trainer::TextVectors::kFile;
  } else {
    CD_LOG(ERROR) << "--text_vectors must be hashed, fasttext or file, got '"
                  << text_vectors << "'";
    return 2;
  }
  options.build.word_vectors_file = absl::GetFlag(FLAGS_word_vectors_file);
  if ((text_vectors == "file") == options.build.word_vectors_file.empty()) {
    CD_LOG(ERROR)
        << "--word_vectors_file goes with --text_vectors=file, and only with it";
    return 2;
  }
  options.build.word_vectors_max_words = absl::GetFlag(FLAGS_word_vectors_max_words);
  options.build.word_vectors_blend = absl::GetFlag(FLAGS_word_vectors_blend);
  options.build.word_vectors.dim = absl::GetFlag(FLAGS_word_vectors_dim);
  options.build.word_vectors.epochs = absl::GetFlag(FLAGS_word_vectors_epochs);
  options.build.word_vectors.buckets = absl::GetFlag(FLAGS_word_vectors_buckets);
  if (options.build.word_vectors.buckets == 0) options.build.word_vectors.max_n = 0;
  options.build.word_vectors.threads = absl::GetFlag(FLAGS_build_threads);
  options.build.min_genre_share = absl::GetFlag(FLAGS_min_genre_share);
  options.build.threads = absl::GetFlag(FLAGS_build_threads);
  options.build.m = absl::GetFlag(FLAGS_hnsw_m);
  options.build.ef_construction = absl::GetFlag(FLAGS_ef_construction);
  options.build.ef_search = absl::GetFlag(FLAGS_ef_search);
  options.build.recommend_exhaustive_below =
      absl::GetFlag(FLAGS_recommend_exhaustive_below);
  if (!absl::GetFlag(FLAGS_prototype_features)) {
    cratedig::v1::FeatureWeights weights;
    weights.set_audio(absl::GetFlag(FLAGS_weight_audio));
    weights.set_genre(absl::GetFlag(FLAGS_weight_genre));
    weights.set_recency(absl::GetFlag(FLAGS_weight_recency));
    weights.set_popularity(absl::GetFlag(FLAGS_weight_popularity));
    for (double w :
         {weights.audio(), weights.genre(), weights.recency(), weights.popularity()}) {
      if (!(w >= 0.0)) {
        CD_LOG(ERROR) << "--weight_* must be >= 0";
        return 2;
      }
    }
    options.build.features.weights = weights;
    auto representation =
        cratedig::ParseGenreRepresentation(absl::GetFlag(FLAGS_genre_representation));
    if (!representation.ok()) {
      CD_LOG(ERROR) << "--genre_representation: " << representation.status().message();
      return 2;
    }
    options.build.features.genres = *representation;
    options.build.features.genre_dim = absl::GetFlag(FLAGS_genre_dim);
  }
  options.build.cooccurrence_blend = absl::GetFlag(FLAGS_cooccurrence_blend);
  options.build.cooccurrence.dim = absl::GetFlag(FLAGS_cooccurrence_dim);
  options.build.cooccurrence_artists = absl::GetFlag(FLAGS_cooccurrence_artists);
  options.build.cooccurrence_unit_fallback =
      absl::GetFlag(FLAGS_cooccurrence_unit_fallback);
  options.build.cooccurrence.window = absl::GetFlag(FLAGS_cooccurrence_window);
  if (!(options.build.cooccurrence_blend >= 0.0 &&
        options.build.cooccurrence_blend <= 1.0)) {
    CD_LOG(ERROR) << "--cooccurrence_blend must be in 0..1";
    return 2;
  }
  if (options.data_dir.empty()) {
    CD_LOG(ERROR) << "--data_dir is required";
    return 2;
  }
  auto trainer = cratedig::trainer::Trainer::Create(options);
  if (!trainer.ok()) {
    CD_LOG(ERROR) << "cannot start: " << trainer.status();
    return 1;
  }
  cratedig::trainer::CatalogGrpcService catalog(trainer->get());
  cratedig::trainer::SnapshotGrpcService snapshots(trainer->get(),
                                                   &cratedig::ShutdownNotification());
  cratedig::DaemonOptions daemon;
  daemon.name = "trainerd";
  daemon.listen = absl::GetFlag(FLAGS_listen);
  daemon.services = {&catalog, &snapshots};
  daemon.access = flags->server;
  daemon.max_concurrent_calls = flags->max_concurrent_calls;
  absl::Status s = cratedig::RunDaemon(daemon);
  if (!s.ok()) {
    CD_LOG(ERROR) << s;
    return 1;
  }
  return 0;
}
