#include "common/features.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cratedig {
namespace {

using ::testing::ElementsAre;

struct Audio {
  double danceability, key, loudness, mode, speechiness, acousticness, instrumentalness,
      liveness, tempo;
};

v1::Track MakeTrack(const Audio& a, int year, int month, int day,
                    std::vector<std::string> genres = {}) {
  v1::Track track;
  v1::AudioFeatures* f = track.mutable_audio_features();
  f->set_danceability(a.danceability);
  f->set_key(static_cast<int>(a.key));
  f->set_loudness(a.loudness);
  f->set_mode(static_cast<int>(a.mode));
  f->set_speechiness(a.speechiness);
  f->set_acousticness(a.acousticness);
  f->set_instrumentalness(a.instrumentalness);
  f->set_liveness(a.liveness);
  f->set_tempo(a.tempo);
  f->set_energy(0.5);  // not a model column
  if (year != 0) {
    v1::ReleaseDate* date = track.mutable_album()->mutable_release_date();
    date->set_year(year);
    date->set_month(month);
    date->set_day(day);
  }
  for (std::string& g : genres) track.add_genres(std::move(g));
  return track;
}

int64_t Day(int y, int m, int d) {
  return absl::CivilDay(y, m, d) - absl::CivilDay(1970, 1, 1);
}

std::vector<float> Unit(std::vector<double> row) {
  double norm = 0;
  for (double x : row) norm += x * x;
  norm = std::sqrt(norm);
  std::vector<float> out;
  for (double x : row) out.push_back(static_cast<float>(x / norm));
  return out;
}

void ExpectNear(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-6) << "at " << i;
}

class FeatureModelTest : public ::testing::Test {
 protected:
  FeatureModelTest() {
    tracks_.push_back(MakeTrack({0.2, 0, -10, 0, 0.1, 0.5, 0, 0.1, 100}, 2020, 1, 1));
    tracks_.push_back(MakeTrack({0.5, 6, -5, 1, 0.1, 0.5, 0, 0.1, 150}, 2021, 1, 1));
    tracks_.push_back(MakeTrack({0.8, 11, 0, 1, 0.1, 0.5, 0, 0.1, 200}, 2022, 1, 1));
    // Incomplete: ignored for min/max, but its release date is the newest.
    v1::Track incomplete = MakeTrack({5.0, 0, 0, 0, 0, 0, 0, 0, 0}, 2023, 6, 15);
    incomplete.mutable_audio_features()->clear_tempo();
    tracks_.push_back(incomplete);
  }
  std::vector<const v1::Track*> Pointers() const {
    std::vector<const v1::Track*> out;
    for (const v1::Track& t : tracks_) out.push_back(&t);
    return out;
  }
  std::vector<v1::Track> tracks_;
};

TEST_F(FeatureModelTest, MinMaxOnKnownValues) {
  const FeatureModel model = FeatureModel::Fit(Pointers());
  EXPECT_EQ(model.dim(), 10);
  v1::Preprocessing p;
  model.ToProto(&p);
  ASSERT_EQ(p.columns_size(), 10);
  EXPECT_EQ(p.columns(0).name(), "danceability");
  EXPECT_DOUBLE_EQ(p.columns(0).min(), 0.2);
  EXPECT_DOUBLE_EQ(p.columns(0).max(), 0.8);
  EXPECT_DOUBLE_EQ(p.columns(0).fill(), 0.5);
  EXPECT_EQ(p.columns(8).name(), "tempo");
  EXPECT_DOUBLE_EQ(p.columns(8).min(), 100);
  EXPECT_DOUBLE_EQ(p.columns(8).max(), 200);
  EXPECT_EQ(p.reference_day(), Day(2023, 6, 15));
  EXPECT_EQ(p.columns(9).name(), "recency_days");
  EXPECT_DOUBLE_EQ(p.columns(9).min(), Day(2023, 6, 15) - Day(2022, 1, 1));
  EXPECT_DOUBLE_EQ(p.columns(9).max(), Day(2023, 6, 15) - Day(2020, 1, 1));

  // Constant columns (speechiness, acousticness, instrumentalness, liveness) scale to 0.
  // recency_days of 2021-01-01: 365 days above the minimum, in a range of 731.
  const double recency = 365.0 / 731.0;
  ExpectNear(model.Transform(tracks_[1]),
             Unit({0.5, 6.0 / 11.0, 0.5, 1, 0, 0, 0, 0, 0.5, recency}));
  ExpectNear(model.Transform(tracks_[0]), Unit({0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
}

TEST_F(FeatureModelTest, TransformRawIsTheUnnormalisedRow) {
  const FeatureModel model = FeatureModel::Fit(Pointers());
  const std::vector<float> raw = model.TransformRaw(tracks_[1]);
  ASSERT_EQ(raw.size(), 10u);
  EXPECT_FLOAT_EQ(raw[0], 0.5f);          // danceability
  EXPECT_FLOAT_EQ(raw[1], 6.0f / 11.0f);  // key
  EXPECT_FLOAT_EQ(raw[8], 0.5f);          // tempo
  std::vector<float> unit = raw;
  double norm = 0;
  for (float x : raw) norm += static_cast<double>(x) * x;
  for (float& x : unit) x = static_cast<float>(x / std::sqrt(norm));
  ExpectNear(model.Transform(tracks_[1]), unit);
}

TEST_F(FeatureModelTest, AudioColumns) {
  EXPECT_THAT(FeatureModel::AudioColumns(),
              ElementsAre("danceability", "key", "loudness", "mode", "speechiness",
                          "acousticness", "instrumentalness", "liveness", "tempo"));
}

TEST_F(FeatureModelTest, MissingReleaseDateUsesFill) {
  const FeatureModel model = FeatureModel::Fit(Pointers());
  v1::Preprocessing p;
  model.ToProto(&p);
  const v1::ScaledColumn& recency = p.columns(9);
  const double mean =
      ((Day(2023, 6, 15) - Day(2020, 1, 1)) + (Day(2023, 6, 15) - Day(2021, 1, 1)) +
       (Day(2023, 6, 15) - Day(2022, 1, 1))) /
      3.0;
  EXPECT_DOUBLE_EQ(recency.fill(), mean);

  const v1::Track undated = MakeTrack({0.5, 6, -5, 1, 0.1, 0.5, 0, 0.1, 150}, 0, 0, 0);
  const double scaled = (mean - recency.min()) / (recency.max() - recency.min());
  ExpectNear(model.Transform(undated),
             Unit({0.5, 6.0 / 11.0, 0.5, 1, 0, 0, 0, 0, 0.5, scaled}));
}

TEST(FeatureModelGenreTest, OnePercentCut) {
  std::vector<v1::Track> tracks;
  const Audio a{0.5, 1, -5, 1, 0.1, 0.2, 0.3, 0.4, 120};
  for (int i = 0; i < 200; ++i) {
    std::vector<std::string> genres = {"rock"};
    if (i < 2) genres.push_back("pop");                  // 2 of 200 = 1%: kept
    if (i == 5) genres = {"rock", "rare", "rare"};       // once, even if listed twice
    if (i == 6) genres = {"rock", "dup", "dup", "dup"};  // counted once per track
    tracks.push_back(MakeTrack(a, 2000 + i % 20, 1, 1, genres));
  }
  std::vector<const v1::Track*> pointers;
  for (const v1::Track& t : tracks) pointers.push_back(&t);
  const FeatureModel model = FeatureModel::Fit(pointers, 0.01);
  EXPECT_THAT(model.genres(), ElementsAre("pop", "rock"));
  EXPECT_EQ(model.dim(), 12);

  const std::vector<float> v = model.Transform(tracks[0]);
  ASSERT_EQ(v.size(), 12u);
  EXPECT_GT(v[10], 0.0f);  // pop
  EXPECT_GT(v[11], 0.0f);  // rock
  EXPECT_EQ(model.Transform(tracks[5])[10], 0.0f);
}

TEST_F(FeatureModelTest, ProtoRoundTripGivesIdenticalTransform) {
  tracks_[0].add_genres("pop");
  tracks_[1].add_genres("pop");
  tracks_[2].add_genres("jazz");
  const FeatureModel model = FeatureModel::Fit(Pointers());
  v1::Preprocessing p;
  p.set_text_dim(64);
  model.ToProto(&p);
  EXPECT_EQ(p.text_dim(), 64);  // text fields are left alone
  absl::StatusOr<FeatureModel> loaded = FeatureModel::FromProto(p);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->genres(), model.genres());
  EXPECT_EQ(loaded->dim(), model.dim());
  for (const v1::Track& t : tracks_) EXPECT_EQ(loaded->Transform(t), model.Transform(t));
  v1::Preprocessing again;
  loaded->ToProto(&again);
  p.clear_text_dim();
  EXPECT_EQ(again.SerializeAsString(), p.SerializeAsString());
}

TEST_F(FeatureModelTest, FromProtoValidates) {
  v1::Preprocessing good;
  FeatureModel::Fit(Pointers()).ToProto(&good);
  ASSERT_TRUE(FeatureModel::FromProto(good).ok());

  v1::Preprocessing p = good;
  p.mutable_columns()->RemoveLast();
  EXPECT_EQ(FeatureModel::FromProto(p).status().code(),
            absl::StatusCode::kInvalidArgument);
  p = good;
  p.mutable_columns(1)->set_name("energy");
  EXPECT_FALSE(FeatureModel::FromProto(p).ok());
  p = good;
  p.mutable_columns(2)->set_min(1e9);
  EXPECT_FALSE(FeatureModel::FromProto(p).ok());
  p = good;
  p.mutable_columns(3)->set_fill(std::numeric_limits<double>::quiet_NaN());
  EXPECT_FALSE(FeatureModel::FromProto(p).ok());
  p = good;
  p.add_genres("pop");
  p.add_genres("pop");
  EXPECT_FALSE(FeatureModel::FromProto(p).ok());
}

TEST_F(FeatureModelTest, HasCompleteAudio) {
  EXPECT_TRUE(FeatureModel::HasCompleteAudio(tracks_[0]));
  EXPECT_FALSE(FeatureModel::HasCompleteAudio(tracks_[3]));
  EXPECT_FALSE(FeatureModel::HasCompleteAudio(v1::Track()));
  const auto* descriptor = v1::AudioFeatures::descriptor();
  for (const std::string& column : FeatureModel::AudioColumns()) {
    v1::Track t = tracks_[0];
    const auto* field = descriptor->FindFieldByName(column);
    ASSERT_NE(field, nullptr) << column;
    t.mutable_audio_features()->GetReflection()->ClearField(t.mutable_audio_features(),
                                                            field);
    EXPECT_FALSE(FeatureModel::HasCompleteAudio(t)) << column;
  }
  v1::Track no_energy = tracks_[0];
  no_energy.mutable_audio_features()->clear_energy();
  EXPECT_TRUE(FeatureModel::HasCompleteAudio(no_energy));
}

TEST(FeatureModelEmptyTest, NoTracks) {
  const FeatureModel model = FeatureModel::Fit({});
  EXPECT_EQ(model.dim(), 10);
  const v1::Track t = MakeTrack({0.5, 1, -5, 1, 0.1, 0.2, 0.3, 0.4, 120}, 2000, 1, 1);
  EXPECT_EQ(model.Transform(t), std::vector<float>(10, 0.0f));
}

TEST(ReleaseDayTest, Dates) {
  EXPECT_EQ(ReleaseDay(MakeTrack({}, 1970, 1, 1)), 0);
  EXPECT_EQ(ReleaseDay(MakeTrack({}, 1970, 1, 2)), 1);
  EXPECT_EQ(ReleaseDay(MakeTrack({}, 2000, 0, 0)), 10957);  // year precision: Jan 1
  EXPECT_EQ(ReleaseDay(MakeTrack({}, 2000, 3, 0)), Day(2000, 3, 1));
  EXPECT_EQ(ReleaseDay(MakeTrack({}, 1960, 6, 30)), Day(1960, 6, 30));
  EXPECT_EQ(ReleaseDay(v1::Track()), -1);
  v1::Track year_zero;
  year_zero.mutable_album()->mutable_release_date()->set_month(5);
  EXPECT_EQ(ReleaseDay(year_zero), -1);
  EXPECT_FALSE(ReleaseDayIfKnown(year_zero).has_value());
  EXPECT_EQ(ReleaseDayIfKnown(MakeTrack({}, 1969, 12, 31)), -1);
}

}  // namespace
}  // namespace cratedig

namespace cratedig {
namespace {

v1::Track GenreTrack(double danceability, std::vector<std::string> genres) {
  v1::Track track;
  v1::AudioFeatures* f = track.mutable_audio_features();
  f->set_danceability(danceability);
  f->set_key(5);
  f->set_loudness(-6);
  f->set_mode(1);
  f->set_speechiness(0.1);
  f->set_acousticness(0.2);
  f->set_instrumentalness(0.0);
  f->set_liveness(0.1);
  f->set_tempo(120);
  for (auto& g : genres) track.add_genres(g);
  return track;
}

double Norm(const std::vector<float>& v, size_t from, size_t to) {
  double sum = 0.0;
  for (size_t i = from; i < to; ++i) sum += double(v[i]) * v[i];
  return std::sqrt(sum);
}

FeatureOptions Weighted(GenreRepresentation genres) {
  FeatureOptions options;
  options.min_genre_share = 0.0;
  options.weights.emplace();
  options.weights->set_audio(1.0);
  options.weights->set_genre(1.0);
  options.weights->set_recency(0.5);
  options.genres = genres;
  options.genre_dim = 2;
  return options;
}

TEST(FeatureWeightsTest, WeightedOneHotGivesEveryTrackAGenreBlockOfTheGenreWeight) {
  std::vector<v1::Track> tracks = {
      GenreTrack(0.1, {"pop"}),
      GenreTrack(0.9, {"pop", "dance pop", "edm", "electropop"})};
  std::vector<const v1::Track*> fit = {&tracks[0], &tracks[1]};
  FeatureModel onehot = FeatureModel::Fit(fit, 0.0);
  FeatureModel weighted =
      FeatureModel::Fit(fit, Weighted(GenreRepresentation::kWeightedOneHot));
  ASSERT_EQ(weighted.dim(), 10 + 4);
  auto raw_many = onehot.TransformRaw(tracks[1]);
  EXPECT_DOUBLE_EQ(Norm(raw_many, 10, 14), 2.0);  // the prototype: sqrt(4 genres)
  auto w_one = weighted.TransformRaw(tracks[0]);
  auto w_many = weighted.TransformRaw(tracks[1]);
  EXPECT_NEAR(Norm(w_one, 10, 14), 1.0, 1e-6);
  EXPECT_NEAR(Norm(w_many, 10, 14), 1.0, 1e-6);
  // Audio is centred: the two tracks' danceability lies either side of the mean.
  EXPECT_LT(w_one[0], 0.0f);
  EXPECT_GT(w_many[0], 0.0f);
  // Round trip through the snapshot's preprocessing.
  v1::Preprocessing p;
  weighted.ToProto(&p);
  EXPECT_EQ(p.genre_representation(), "weighted_onehot");
  auto back = FeatureModel::FromProto(p);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->Transform(tracks[1]), weighted.Transform(tracks[1]));
}

TEST(FeatureWeightsTest, GenreEmbeddingPutsGenresThatShareTracksTogether) {
  std::vector<v1::Track> tracks;
  for (int i = 0; i < 10; ++i) tracks.push_back(GenreTrack(0.5, {"pop", "dance pop"}));
  for (int i = 0; i < 10; ++i)
    tracks.push_back(GenreTrack(0.5, {"metal", "thrash metal"}));
  tracks.push_back(GenreTrack(0.5, {"pop"}));
  tracks.push_back(GenreTrack(0.5, {"dance pop"}));
  tracks.push_back(GenreTrack(0.5, {"thrash metal"}));
  std::vector<const v1::Track*> fit;
  for (const auto& t : tracks) fit.push_back(&t);
  FeatureModel model = FeatureModel::Fit(fit, Weighted(GenreRepresentation::kEmbedding));
  ASSERT_EQ(model.dim(), 10 + 2);
  auto pop = model.Transform(tracks[20]);
  auto dance_pop = model.Transform(tracks[21]);
  auto thrash = model.Transform(tracks[22]);
  auto dot = [](const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0.0;
    for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
    return s;
  };
  EXPECT_GT(dot(pop, dance_pop), dot(pop, thrash) + 0.5);
  v1::Preprocessing p;
  model.ToProto(&p);
  EXPECT_EQ(p.genre_embedding_size(), 4 * 2);
  auto back = FeatureModel::FromProto(p);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->Transform(tracks[21]), dance_pop);
  p.mutable_genre_embedding()->RemoveLast();
  EXPECT_FALSE(FeatureModel::FromProto(p).ok());
}

TEST(FeatureWeightsTest, UnknownRepresentationIsRefused) {
  EXPECT_FALSE(ParseGenreRepresentation("tfidf").ok());
  EXPECT_EQ(*ParseGenreRepresentation(""), GenreRepresentation::kOneHot);
}

}  // namespace
}  // namespace cratedig
