#include "query_service/track_filter.h"

#include <random>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "common/testing/synthetic_catalog.h"
#include "gtest/gtest.h"

namespace cratedig::query {
namespace {

// A track's feature in its own units, read from the proto (the brute-force side).
std::optional<double> Value(const v1::Track& t, const std::string& feature) {
  const v1::AudioFeatures& a = t.audio_features();
  const bool audio = t.has_audio_features();
  if (feature == "popularity") {
    return t.has_popularity() ? std::optional<double>(t.popularity()) : std::nullopt;
  }
  if (feature == "duration_ms") {
    return t.has_duration_ms() ? std::optional<double>(t.duration_ms()) : std::nullopt;
  }
  if (!audio) return std::nullopt;
  const google::protobuf::Descriptor* d = a.GetDescriptor();
  const google::protobuf::FieldDescriptor* field = d->FindFieldByName(feature);
  if (field == nullptr) ADD_FAILURE() << "no audio feature " << feature;
  const google::protobuf::Reflection* r = a.GetReflection();
  if (field == nullptr || !r->HasField(a, field)) return std::nullopt;
  return field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_DOUBLE
             ? r->GetDouble(a, field)
             : r->GetInt32(a, field);
}

class TrackFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<v1::Track> tracks = testing::SyntheticTracks(3000);
    std::mt19937 rng(11);
    for (size_t i = 0; i < tracks.size(); ++i) {
      v1::Track& t = tracks[i];
      t.mutable_audio_features()->set_time_signature(3 + static_cast<int>(rng() % 3));
      if (i % 97 == 0) t.clear_audio_features();
      if (i % 89 == 0) t.clear_popularity();
      if (i % 83 == 0) t.mutable_album()->clear_release_date();
      if (i % 79 == 0) t.clear_explicit_();
      if (i % 73 == 0) t.clear_duration_ms();
      if (i % 71 == 0) t.mutable_audio_features()->clear_energy();
      *table_.add_tracks() = t;
    }
    columns_ = TrackColumns::Build(table_);
  }

  // Positions `filter` keeps, and those the brute-force predicate keeps.
  template <typename Pred>
  void ExpectSame(const v1::TrackFilter& proto, Pred pred, const std::string& what) {
    auto filter = TrackFilter::Create(proto, columns_);
    ASSERT_TRUE(filter.ok()) << what << ": " << filter.status();
    int64_t kept = 0;
    for (int i = 0; i < table_.tracks_size(); ++i) {
      const bool want = pred(table_.tracks(i));
      ASSERT_EQ(filter->Matches(i), want) << what << " track " << i;
      kept += want;
    }
    // A filter that keeps everything or nothing would not test much.
    EXPECT_GT(kept, 0) << what;
    EXPECT_LT(kept, table_.tracks_size()) << what;
  }

  v1::TrackTable table_;
  TrackColumns columns_;
};

TEST_F(TrackFilterTest, EveryFeatureBoundAgreesWithBruteForce) {
  std::mt19937 rng(5);
  for (const TrackFeature& feature : TrackFeatures()) {
    const std::string name = feature.name;
    // Bounds from values the catalog holds, so that they cut inside its range.
    std::vector<double> values;
    for (const v1::Track& t : table_.tracks()) {
      if (auto v = Value(t, name)) values.push_back(*v);
    }
    ASSERT_FALSE(values.empty()) << name;
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    // Halfway between two catalog values: columns hold floats (7 significant digits), so
    // a bound within a float's rounding of a value may fall either way.
    auto between = [&](size_t i) { return (values[i] + values[i + 1]) / 2; };
    const double lo = between(values.size() / 4);
    const double hi = between(values.size() * 3 / 4);
    for (int which = 0; which < 3; ++which) {
      v1::TrackFilter proto;
      v1::FeatureRange* range = proto.add_features();
      range->set_feature(name);
      if (which != 1) range->set_min(lo);
      if (which != 2) range->set_max(hi);
      if (name == "mode" || name == "time_signature") {
        // Integer features: inclusive bounds on whole values.
        range->clear_min();
        range->clear_max();
        if (which != 1) range->set_min(name == "mode" ? 1 : 4);
        if (which != 2) range->set_max(name == "mode" ? 1 : 4);
      }
      ExpectSame(
          proto,
          [&](const v1::Track& t) {
            std::optional<double> v = Value(t, name);
            if (!v) return false;
            if (range->has_min() && *v < range->min()) return false;
            if (range->has_max() && *v > range->max()) return false;
            return true;
          },
          name + " case " + std::to_string(which));
    }
  }
}

TEST_F(TrackFilterTest, GenresYearExplicitAndArtistsAgreeWithBruteForce) {
  v1::TrackFilter genres;
  genres.add_genres("Jazz");  // Case does not matter.
  genres.add_genres("metal");
  genres.add_genres("no such genre");
  ExpectSame(
      genres,
      [](const v1::Track& t) {
        for (const std::string& g : t.genres()) {
          if (g == "jazz" || g == "metal") return true;
        }
        return false;
      },
      "genres");

  v1::TrackFilter years;
  years.set_year_min(1975);
  years.set_year_max(1990);
  ExpectSame(
      years,
      [](const v1::Track& t) {
        const int y = t.album().release_date().year();
        return y >= 1975 && y <= 1990;
      },
      "years");
  v1::TrackFilter from;
  from.set_year_min(2000);
  ExpectSame(
      from, [](const v1::Track& t) { return t.album().release_date().year() >= 2000; },
      "year_min only");

  for (bool value : {true, false}) {
    v1::TrackFilter flag;
    flag.set_explicit_(value);
    ExpectSame(
        flag,
        [value](const v1::Track& t) {
          return t.has_explicit_() && t.explicit_() == value;
        },
        "explicit");
  }

  v1::TrackFilter artists;
  artists.add_exclude_artists(table_.tracks(3).artists(0).id());
  artists.add_exclude_artists("ARTIST 7");  // By name, any case.
  const std::string id3 = table_.tracks(3).artists(0).id();
  ExpectSame(
      artists,
      [&](const v1::Track& t) {
        return t.artists(0).id() != id3 && t.artists(0).name() != "Artist 7";
      },
      "exclude_artists");

  v1::TrackFilter all;
  all.add_genres("pop");
  all.set_year_min(1970);
  all.set_explicit_(false);
  v1::FeatureRange* energy = all.add_features();
  energy->set_feature("energy");
  energy->set_min(0.3);
  v1::FeatureRange* tempo = all.add_features();
  tempo->set_feature("tempo");
  tempo->set_max(140);
  ExpectSame(
      all,
      [](const v1::Track& t) {
        const auto& a = t.audio_features();
        return std::find(t.genres().begin(), t.genres().end(), "pop") !=
                   t.genres().end() &&
               t.album().release_date().year() >= 1970 && t.has_explicit_() &&
               !t.explicit_() && a.has_energy() && a.energy() >= 0.3 && a.has_tempo() &&
               a.tempo() <= 140;
      },
      "all together");
}

TEST_F(TrackFilterTest, AnEmptyFilterKeepsEverything) {
  auto filter = TrackFilter::Create(v1::TrackFilter(), columns_);
  ASSERT_TRUE(filter.ok());
  EXPECT_TRUE(filter->empty());
  for (int i = 0; i < table_.tracks_size(); ++i) EXPECT_TRUE(filter->Matches(i));
}

TEST_F(TrackFilterTest, BadBoundsAreRejectedNamingTheKnob) {
  auto error = [&](const v1::TrackFilter& proto) {
    auto filter = TrackFilter::Create(proto, columns_);
    EXPECT_EQ(filter.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(filter.status().message());
  };
  auto range = [](const char* feature, std::optional<double> min,
                  std::optional<double> max) {
    v1::TrackFilter proto;
    v1::FeatureRange* r = proto.add_features();
    r->set_feature(feature);
    if (min) r->set_min(*min);
    if (max) r->set_max(*max);
    return proto;
  };
  EXPECT_NE(error(range("energetic", 0.1, {})).find("'energetic' is not a feature"),
            std::string::npos);
  EXPECT_NE(error(range("energy", 1.5, {})).find("min_energy = 1.5 is outside 0..1"),
            std::string::npos);
  EXPECT_NE(error(range("tempo", {}, -3)).find("max_tempo"), std::string::npos);
  EXPECT_NE(error(range("energy", 0.8, 0.2)).find("min_energy = 0.8 is above max_energy"),
            std::string::npos);
  EXPECT_NE(error(range("energy", {}, {})).find("needs a min or a max"),
            std::string::npos);
  EXPECT_NE(error(range("energy", std::nan(""), {})).find("min_energy"),
            std::string::npos);
  v1::TrackFilter twice = range("energy", 0.1, {});
  *twice.add_features() = twice.features(0);
  EXPECT_NE(error(twice).find("bounded twice"), std::string::npos);
  v1::TrackFilter years;
  years.set_year_min(2000);
  years.set_year_max(1990);
  EXPECT_NE(error(years).find("filter.year_min 2000 is after filter.year_max 1990"),
            std::string::npos);
  years.set_year_min(-5);
  EXPECT_NE(error(years).find("filter.year_min = -5"), std::string::npos);
}

TEST_F(TrackFilterTest, PostingsListMostPopularFirst) {
  auto jazz = columns_.FindGenre("jazz");
  ASSERT_TRUE(jazz.has_value());
  auto tracks = columns_.tracks_of_genre(*jazz);
  int64_t expected = 0;
  for (const v1::Track& t : table_.tracks()) {
    expected += std::count(t.genres().begin(), t.genres().end(), "jazz");
  }
  EXPECT_EQ(static_cast<int64_t>(tracks.size()), expected);
  const int popularity = *FindTrackFeature("popularity");
  for (size_t i = 1; i < tracks.size(); ++i) {
    float a = columns_.feature(popularity, tracks[i - 1]);
    float b = columns_.feature(popularity, tracks[i]);
    if (!std::isnan(b)) {
      EXPECT_GE(a, b);
    }
  }
  auto artist = columns_.FindArtists(table_.tracks(0).artists(0).id());
  ASSERT_EQ(artist.size(), 1u);
  EXPECT_EQ(columns_.tracks_of_artist(artist[0]).size(), 60u);  // 3000 tracks, 50 artists
  EXPECT_EQ(columns_.FindArtists("artist 0"), artist);
  EXPECT_TRUE(columns_.FindArtists("nobody").empty());
}

}  // namespace
}  // namespace cratedig::query
