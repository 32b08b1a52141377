#include "ingest_service/catalog_reader.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest_service/test_util_internal.h"

namespace cratedig::ingest {
namespace {

using testing::CatalogFixture;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct Fixture {
  std::string format;
  TableKind kind = TableKind::kTracks;
  std::vector<CatalogRow> rows;
  CatalogReaderStats stats;
};

Fixture ReadFixture(const std::string& name) {
  Fixture f;
  absl::StatusOr<std::unique_ptr<CatalogReader>> reader =
      CatalogReader::Open(CatalogFixture(name));
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return f;
  f.format = (*reader)->format_name();
  f.kind = (*reader)->kind();
  CatalogRow row;
  for (;;) {
    absl::StatusOr<bool> more = (*reader)->Next(&row);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    f.rows.push_back(row);
  }
  f.stats = (*reader)->stats();
  return f;
}

// Returns "line:column" of every error row.
std::vector<std::string> ErrorPositions(const Fixture& f) {
  std::vector<std::string> out;
  for (const CatalogRow& r : f.rows) {
    if (r.kind == CatalogRow::Kind::kError) {
      out.push_back(std::to_string(r.error.line()) + ":" +
                    std::to_string(r.error.column()));
    }
  }
  return out;
}

std::vector<std::string> ArtistNames(const v1::Track& t) {
  std::vector<std::string> names;
  for (const v1::ArtistRef& a : t.artists()) names.push_back(a.name());
  return names;
}

std::vector<std::string> ArtistIds(const v1::Track& t) {
  std::vector<std::string> ids;
  for (const v1::ArtistRef& a : t.artists()) ids.push_back(a.id());
  return ids;
}

TEST(CatalogReaderTest, MaharshipandyaMapsEveryField) {
  Fixture f = ReadFixture("maharshipandya_tracks.csv");
  EXPECT_EQ(f.format, "maharshipandya-tracks");
  ASSERT_EQ(f.rows.size(), 9u);
  const v1::Track& t = f.rows[0].track;
  ASSERT_EQ(f.rows[0].kind, CatalogRow::Kind::kTrack);
  EXPECT_EQ(t.id(), "5SuOikwiRyPMVoIQDJUgSV");
  EXPECT_EQ(t.name(), "Comedy");
  EXPECT_THAT(ArtistNames(t), ElementsAre("Gen Hoshino"));
  EXPECT_THAT(ArtistIds(t), ElementsAre(""));
  EXPECT_EQ(t.album().name(), "Comedy");
  EXPECT_FALSE(t.album().has_release_date());
  EXPECT_THAT(t.genres(), ElementsAre("acoustic"));
  EXPECT_EQ(t.popularity(), 73);
  EXPECT_EQ(t.duration_ms(), 230666);
  ASSERT_TRUE(t.has_explicit_());
  EXPECT_FALSE(t.explicit_());
  const v1::AudioFeatures& a = t.audio_features();
  EXPECT_DOUBLE_EQ(a.danceability(), 0.676);
  EXPECT_DOUBLE_EQ(a.energy(), 0.461);
  EXPECT_EQ(a.key(), 1);
  EXPECT_DOUBLE_EQ(a.loudness(), -6.746);
  EXPECT_EQ(a.mode(), 0);
  EXPECT_DOUBLE_EQ(a.speechiness(), 0.143);
  EXPECT_DOUBLE_EQ(a.acousticness(), 0.0322);
  EXPECT_DOUBLE_EQ(a.instrumentalness(), 1.01e-06);
  EXPECT_DOUBLE_EQ(a.liveness(), 0.358);
  EXPECT_DOUBLE_EQ(a.valence(), 0.715);
  EXPECT_DOUBLE_EQ(a.tempo(), 87.917);
  EXPECT_EQ(a.time_signature(), 4);
}

TEST(CatalogReaderTest, MaharshipandyaQuotesEmojiEmbeddedNewlinesAndAbsentFeatures) {
  Fixture f = ReadFixture("maharshipandya_tracks.csv");
  ASSERT_EQ(f.rows.size(), 9u);
  const v1::Track& quoted = f.rows[1].track;
  EXPECT_THAT(ArtistNames(quoted), ElementsAre("Tyler, The Creator", "Frank Ocean"));
  EXPECT_EQ(quoted.album().name(), "Album \"Quoted\", Deluxe");
  EXPECT_EQ(quoted.name(), "Sweet \xF0\x9F\x8D\x93 Song");
  EXPECT_THAT(quoted.genres(), ElementsAre("hip-hop"));
  EXPECT_TRUE(quoted.explicit_());
  EXPECT_DOUBLE_EQ(quoted.audio_features().instrumentalness(), 5.56e-06);

  const v1::Track& sparse = f.rows[2].track;
  EXPECT_EQ(sparse.name(), "Line one\r\nline two");
  EXPECT_FALSE(sparse.has_audio_features());
  EXPECT_TRUE(sparse.has_explicit_());
  EXPECT_THAT(sparse.genres(), ElementsAre("k-pop"));

  EXPECT_EQ(f.rows[8].kind, CatalogRow::Kind::kTrack);
  EXPECT_EQ(f.rows[8].track.name(), "I'm Yours");
}

TEST(CatalogReaderTest, MaharshipandyaMalformedRowsGiveLineAndColumn) {
  Fixture f = ReadFixture("maharshipandya_tracks.csv");
  // popularity "abc"; too few fields (whole row); bad id; empty name; key 12.
  EXPECT_THAT(ErrorPositions(f), ElementsAre("6:6", "7:0", "8:2", "9:5", "10:11"));
  EXPECT_EQ(f.stats.rows, 9);
  EXPECT_EQ(f.stats.tracks, 4);
  EXPECT_EQ(f.stats.errors, 5);
  const v1::RowError& e = f.rows[3].error;
  EXPECT_THAT(e.file(), HasSubstr("maharshipandya_tracks.csv"));
  EXPECT_THAT(e.message(), HasSubstr("popularity"));
  EXPECT_THAT(e.message(), HasSubstr("'abc'"));
  EXPECT_THAT(f.rows[4].error.message(), HasSubstr("expected 21 fields"));
  EXPECT_THAT(f.rows[5].error.message(), HasSubstr("not a Spotify id"));
  EXPECT_THAT(f.rows[6].error.message(), HasSubstr("track_name"));
  EXPECT_THAT(f.rows[7].error.message(), HasSubstr("out of range"));
}

TEST(CatalogReaderTest, MaharshipandyaSampleHeaderAndInvalidUtf8) {
  Fixture f = ReadFixture("maharshipandya_unnamed_sample.csv");
  EXPECT_EQ(f.format, "maharshipandya-tracks");
  ASSERT_EQ(f.rows.size(), 2u);
  EXPECT_EQ(f.rows[0].track.id(), "4ChVFOiAIPwnKLgWGUcErS");
  EXPECT_EQ(f.rows[0].track.popularity(), 0);
  EXPECT_TRUE(f.rows[0].track.has_popularity());
  EXPECT_THAT(ErrorPositions(f), ElementsAre("3:4"));
  EXPECT_THAT(f.rows[1].error.message(), HasSubstr("invalid UTF-8"));
}

TEST(CatalogReaderTest, Yamaerenay600kTracks) {
  Fixture f = ReadFixture("yamaerenay600k_tracks.csv");
  EXPECT_EQ(f.format, "yamaerenay-600k-tracks");
  ASSERT_EQ(f.rows.size(), 5u);
  const v1::Track& t = f.rows[0].track;
  EXPECT_EQ(t.id(), "35iwgR4jXetI318WEWsa1Q");
  EXPECT_EQ(t.name(), "Carve");
  EXPECT_EQ(t.popularity(), 6);
  EXPECT_EQ(t.duration_ms(), 126903);
  EXPECT_FALSE(t.explicit_());
  EXPECT_THAT(ArtistNames(t), ElementsAre("Uli"));
  EXPECT_THAT(ArtistIds(t), ElementsAre("45tIt06XoI0Iio4LBEVpls"));
  EXPECT_EQ(t.album().release_date().year(), 1922);
  EXPECT_EQ(t.album().release_date().month(), 2);
  EXPECT_EQ(t.album().release_date().day(), 22);
  EXPECT_EQ(t.album().release_date().precision(), v1::RELEASE_DATE_PRECISION_DAY);
  EXPECT_THAT(t.genres(), IsEmpty());
  EXPECT_EQ(t.audio_features().time_signature(), 3);
  EXPECT_DOUBLE_EQ(t.audio_features().speechiness(), 0.451);

  const v1::Track& quoted = f.rows[1].track;
  EXPECT_EQ(quoted.name(), "Don't Cry");
  EXPECT_TRUE(quoted.explicit_());
  EXPECT_THAT(ArtistNames(quoted), ElementsAre("Guns N' Roses", "Slash \\ Friends"));
  EXPECT_THAT(ArtistIds(quoted),
              ElementsAre("3qm84nBOXUEQ2vnTfUTTFC", "0gnoLkvhjwbE4hZ5JfUTRq"));
  EXPECT_EQ(quoted.album().release_date().precision(), v1::RELEASE_DATE_PRECISION_YEAR);
  EXPECT_EQ(quoted.album().release_date().year(), 1991);

  EXPECT_THAT(ArtistNames(f.rows[2].track), ElementsAre("\xC3\x89"
                                                        "dith Piaf"));
  EXPECT_EQ(f.rows[2].track.album().release_date().precision(),
            v1::RELEASE_DATE_PRECISION_MONTH);
  // Two names for one id; month 13.
  EXPECT_THAT(ErrorPositions(f), ElementsAre("5:7", "6:8"));
}

TEST(CatalogReaderTest, Yamaerenay600kArtists) {
  Fixture f = ReadFixture("yamaerenay600k_artists.csv");
  EXPECT_EQ(f.format, "yamaerenay-600k-artists");
  EXPECT_EQ(f.kind, TableKind::kArtists);
  ASSERT_EQ(f.rows.size(), 5u);
  const v1::Artist& a = f.rows[1].artist;
  ASSERT_EQ(f.rows[1].kind, CatalogRow::Kind::kArtist);
  EXPECT_EQ(a.id(), "0DlhY15l3wsrnlfGio2bjU");
  EXPECT_EQ(a.name(),
            "\xE0\xB8\x9B\xE0\xB8\xB9\xE0\xB8\x99\xE0\xB8\xB2 "
            "\xE0\xB8\xA0\xE0\xB8\xB2\xE0\xB8\xA7\xE0\xB8\xB4\xE0\xB8\x93\xE0\xB8\xB5");
  EXPECT_THAT(a.genres(), ElementsAre("k-pop", "k-pop girl group"));
  EXPECT_EQ(a.followers(), 5);
  EXPECT_EQ(a.popularity(), 10);
  EXPECT_THAT(f.rows[0].artist.genres(), IsEmpty());
  EXPECT_TRUE(f.rows[0].artist.has_followers());
  EXPECT_FALSE(f.rows[2].artist.has_followers());
  EXPECT_FALSE(f.rows[2].artist.has_popularity());
  EXPECT_THAT(ErrorPositions(f), ElementsAre("5:1", "6:3"));
}

TEST(CatalogReaderTest, Yamaerenay160kData) {
  Fixture f = ReadFixture("yamaerenay160k_data.csv");
  EXPECT_EQ(f.format, "yamaerenay-160k-data");
  ASSERT_EQ(f.rows.size(), 3u);
  EXPECT_THAT(ErrorPositions(f), IsEmpty());
  const v1::Track& t = f.rows[0].track;
  EXPECT_EQ(t.id(), "4BJqT0PrAfrxzMOxytFOIz");
  EXPECT_EQ(t.name(), "Piano Concerto No.3 in D Minor, Op.30: III. Finale. Alla breve");
  EXPECT_THAT(ArtistNames(t), ElementsAre("Sergei Rachmaninoff", "James Levine",
                                          "Berliner Philharmoniker"));
  EXPECT_EQ(t.popularity(), 4);
  EXPECT_EQ(t.duration_ms(), 831667);
  EXPECT_FALSE(t.explicit_());
  EXPECT_EQ(t.album().release_date().year(), 1921);
  EXPECT_EQ(t.album().release_date().precision(), v1::RELEASE_DATE_PRECISION_YEAR);
  EXPECT_DOUBLE_EQ(t.audio_features().valence(), 0.0594);
  EXPECT_EQ(t.audio_features().key(), 10);
  EXPECT_FALSE(t.audio_features().has_time_signature());
  // Empty release_date falls back to the year column.
  EXPECT_EQ(f.rows[1].track.album().release_date().year(), 1921);
  EXPECT_EQ(f.rows[1].track.album().release_date().precision(),
            v1::RELEASE_DATE_PRECISION_YEAR);
  EXPECT_EQ(f.rows[2].track.album().release_date().day(), 15);
}

TEST(CatalogReaderTest, DataWithGenresBothColumnOrdersAndTwoColumnCopy) {
  for (const char* name : {"yamaerenay160k_data_w_genres_2020.csv",
                           "yamaerenay160k_data_w_genres_2021.csv"}) {
    Fixture f = ReadFixture(name);
    EXPECT_EQ(f.format, "yamaerenay-160k-artist-genres") << name;
    EXPECT_EQ(f.kind, TableKind::kArtists);
    ASSERT_GE(f.rows.size(), 2u);
    EXPECT_EQ(f.rows[0].artist.name(), "\"Cats\" 1981 Original London Cast") << name;
    EXPECT_THAT(f.rows[0].artist.genres(), ElementsAre("show tunes"));
    EXPECT_TRUE(f.rows[0].artist.id().empty());
    EXPECT_FALSE(f.rows[0].artist.has_popularity());
    EXPECT_THAT(f.rows.back().artist.genres(), IsEmpty());
    EXPECT_THAT(ErrorPositions(f), IsEmpty());
  }
  Fixture y2020 = ReadFixture("yamaerenay160k_data_w_genres_2020.csv");
  EXPECT_EQ(y2020.rows[1].artist.name(), "\"Weird Al\" Yankovic");
  EXPECT_THAT(y2020.rows[1].artist.genres(),
              ElementsAre("antiviral pop", "comedy rock", "comic", "parody"));

  Fixture two = ReadFixture("yamaerenay160k_artist_genres_2021.csv");
  EXPECT_EQ(two.format, "yamaerenay-160k-artist-genres");
  ASSERT_EQ(two.rows.size(), 3u);
  EXPECT_EQ(two.rows[0].artist.name(), "3");
  EXPECT_EQ(two.rows[0].artist.genres_size(), 5);
  EXPECT_THAT(two.rows[1].artist.genres(), IsEmpty());
  EXPECT_THAT(ErrorPositions(two), ElementsAre("4:1"));  // empty artist name
}

TEST(CatalogReaderTest, AggregatesAreRecognisedAndYieldNothing) {
  for (const auto& [name, format, reason] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"yamaerenay160k_data_by_genres.csv", "yamaerenay-160k-data-by-genres",
            "not a track or artist table (per-genre aggregates)"},
           {"yamaerenay160k_data_by_year.csv", "yamaerenay-160k-data-by-year",
            "not a track or artist table (per-year aggregates)"}}) {
    absl::StatusOr<std::unique_ptr<CatalogReader>> reader =
        CatalogReader::Open(CatalogFixture(name));
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_EQ((*reader)->format_name(), format);
    EXPECT_EQ((*reader)->kind(), TableKind::kAggregate);
    EXPECT_EQ((*reader)->skip_reason(), reason);
    CatalogRow row;
    EXPECT_FALSE(*(*reader)->Next(&row));
  }
}

TEST(CatalogReaderTest, TracksFeatures) {
  Fixture f = ReadFixture("tracks_features.csv");
  EXPECT_EQ(f.format, "rodolfofigueroa-tracks-features");
  ASSERT_EQ(f.rows.size(), 4u);
  const v1::Track& t = f.rows[0].track;
  EXPECT_EQ(t.id(), "7lmeHLHBe4nmXzuXc0HDjk");
  EXPECT_EQ(t.name(), "Testify");
  EXPECT_EQ(t.album().id(), "2eia0myWFgoHuttJytCxgX");
  EXPECT_EQ(t.album().name(), "The Battle Of Los Angeles");
  EXPECT_EQ(t.album().release_date().year(), 1999);
  EXPECT_EQ(t.album().release_date().month(), 11);
  EXPECT_EQ(t.album().release_date().day(), 2);
  EXPECT_THAT(ArtistNames(t), ElementsAre("Rage Against The Machine"));
  EXPECT_THAT(ArtistIds(t), ElementsAre("2d0hyoQ5ynDBnkvAbJKORj"));
  EXPECT_FALSE(t.explicit_());
  EXPECT_FALSE(t.has_popularity());
  EXPECT_EQ(t.duration_ms(), 210133);
  EXPECT_EQ(t.audio_features().time_signature(), 4);  // written "4.0"
  EXPECT_DOUBLE_EQ(t.audio_features().instrumentalness(), 1.09e-05);

  const v1::Track& live = f.rows[1].track;
  EXPECT_EQ(live.name(), "Guerrilla Radio, Live");
  EXPECT_EQ(live.album().name(), "Live & Rare, Vol. 1");
  EXPECT_THAT(ArtistNames(live),
              ElementsAre("Rage Against The Machine", "Zack de la Rocha's Band"));
  EXPECT_TRUE(live.explicit_());
  EXPECT_EQ(live.album().release_date().precision(), v1::RELEASE_DATE_PRECISION_YEAR);

  // year 0 / "0000" means unknown: no date, empty album id kept empty.
  const v1::Track& undated = f.rows[2].track;
  ASSERT_EQ(f.rows[2].kind, CatalogRow::Kind::kTrack);
  EXPECT_FALSE(undated.album().has_release_date());
  EXPECT_EQ(undated.album().name(), "Placeholder Album");
  EXPECT_TRUE(undated.album().id().empty());
  EXPECT_THAT(undated.artists(), IsEmpty());
  EXPECT_THAT(ErrorPositions(f), ElementsAre("5:6"));
}

TEST(CatalogReaderTest, HitPredictor) {
  Fixture f = ReadFixture("hit_predictor_dataset-of-60s.csv");
  EXPECT_EQ(f.format, "hit-predictor");
  ASSERT_EQ(f.rows.size(), 4u);
  const v1::Track& t = f.rows[0].track;
  EXPECT_EQ(t.id(), "1dtKN6wwlolkM8XZy2y9C1");
  EXPECT_EQ(t.name(), "Jealous Kind Of Fella");
  EXPECT_THAT(ArtistNames(t), ElementsAre("Garland Green"));
  EXPECT_FALSE(t.has_album());
  EXPECT_FALSE(t.has_popularity());
  EXPECT_FALSE(t.has_explicit_());
  EXPECT_THAT(t.genres(), IsEmpty());
  EXPECT_EQ(t.duration_ms(), 173533);
  EXPECT_EQ(t.audio_features().time_signature(), 3);
  EXPECT_DOUBLE_EQ(t.audio_features().tempo(), 185.655);

  const v1::Track& quoted = f.rows[1].track;
  EXPECT_EQ(quoted.name(), "Hey, \"Little\" Girl");
  EXPECT_THAT(quoted.artists(), IsEmpty());  // empty artist
  EXPECT_DOUBLE_EQ(quoted.audio_features().instrumentalness(), 0.107);
  // An album uri; "1.2.3" valence.
  EXPECT_THAT(ErrorPositions(f), ElementsAre("4:3", "5:13"));
}

TEST(CatalogReaderTest, TidyTuesday) {
  Fixture f = ReadFixture("tidytuesday_spotify_songs.csv");
  EXPECT_EQ(f.format, "tidytuesday-spotify-songs");
  ASSERT_EQ(f.rows.size(), 4u);
  EXPECT_THAT(ErrorPositions(f), IsEmpty());
  const v1::Track& t = f.rows[0].track;
  EXPECT_EQ(t.id(), "6f807x0ima9a1j3VPbc7VN");
  EXPECT_EQ(t.name(), "I Don't Care (with Justin Bieber) - Loud Luxury Remix");
  EXPECT_THAT(ArtistNames(t), ElementsAre("Ed Sheeran"));
  EXPECT_EQ(t.popularity(), 66);
  EXPECT_EQ(t.album().id(), "2oCs0DGTsRO98Gh5ZSl2Cx");
  EXPECT_EQ(t.album().name(), "I Don't Care (with Justin Bieber) [Loud Luxury Remix]");
  EXPECT_EQ(t.album().release_date().day(), 14);
  EXPECT_THAT(t.genres(), ElementsAre("pop", "dance pop"));
  EXPECT_EQ(t.duration_ms(), 194754);
  EXPECT_FALSE(t.audio_features().has_time_signature());
  EXPECT_DOUBLE_EQ(t.audio_features().loudness(), -2.634);
  // The same track again from another playlist: same id, that playlist's genres.
  EXPECT_EQ(f.rows[1].track.id(), t.id());
  EXPECT_THAT(f.rows[1].track.genres(), ElementsAre("edm", "pop edm"));
  EXPECT_EQ(f.rows[2].track.album().release_date().precision(),
            v1::RELEASE_DATE_PRECISION_MONTH);
  // R's NA popularity is absent; R's 2.33e-5 exponent.
  EXPECT_FALSE(f.rows[3].track.has_popularity());
  EXPECT_DOUBLE_EQ(f.rows[3].track.audio_features().instrumentalness(), 2.33e-5);
  EXPECT_EQ(f.rows[3].track.album().release_date().precision(),
            v1::RELEASE_DATE_PRECISION_YEAR);
}

TEST(CatalogReaderTest, UnknownHeaderNamesFileAndColumns) {
  absl::StatusOr<std::unique_ptr<CatalogReader>> reader =
      CatalogReader::Open(CatalogFixture("unknown_header.csv"));
  ASSERT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(reader.status().message(), HasSubstr("unknown_header.csv"));
  EXPECT_THAT(reader.status().message(), HasSubstr("[title, performer, spotify_link]"));
  EXPECT_THAT(reader.status().message(),
              HasSubstr("known formats: maharshipandya-tracks"));
}

TEST(CatalogReaderTest, BinaryFileErrorShowsEscapedBytes) {
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  absl::StatusOr<std::unique_ptr<CatalogReader>> reader =
      CatalogReader::Open(testing::WriteTempFile("image.csv", png));
  ASSERT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(reader.status().message(), HasSubstr("[\\x89png]"));
}

TEST(CatalogReaderTest, EmptyAndMissingFiles) {
  absl::StatusOr<std::unique_ptr<CatalogReader>> empty =
      CatalogReader::Open(testing::WriteTempFile("empty.csv", ""));
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.status().message(), HasSubstr("empty"));
  EXPECT_EQ(CatalogReader::Open(CatalogFixture("missing.csv")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(CatalogReaderTest, UnterminatedQuoteIsARowError) {
  Fixture f = ReadFixture("unterminated_quote.csv");
  ASSERT_EQ(f.rows.size(), 2u);
  EXPECT_EQ(f.rows[0].artist.name(), "Good Artist");
  EXPECT_THAT(ErrorPositions(f), ElementsAre("3:1"));
  EXPECT_THAT(f.rows[1].error.message(), HasSubstr("not closed"));
}

TEST(CatalogReaderTest, RecognisesEveryPublishedHeader) {
  // Headers as FORMATS.md and CATALOGS.md give them.
  const std::vector<std::pair<std::string, std::string>> headers = {
      {",track_id,artists,album_name,track_name,popularity,duration_ms,explicit,"
       "danceability,"
       "energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,"
       "valence,"
       "tempo,time_signature,track_genre",
       "maharshipandya-tracks"},
      {"id,name,popularity,duration_ms,explicit,artists,id_artists,release_date,"
       "danceability,"
       "energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,"
       "valence,"
       "tempo,time_signature",
       "yamaerenay-600k-tracks"},
      {"id,followers,genres,name,popularity", "yamaerenay-600k-artists"},
      {"valence,year,acousticness,artists,danceability,duration_ms,energy,explicit,id,"
       "instrumentalness,key,liveness,loudness,mode,name,popularity,release_date,"
       "speechiness,"
       "tempo",
       "yamaerenay-160k-data"},
      {"genres,artists,acousticness,danceability,duration_ms,energy,instrumentalness,"
       "liveness,"
       "loudness,speechiness,tempo,valence,popularity,key,mode,count",
       "yamaerenay-160k-artist-genres"},
      {"mode,genres,acousticness,danceability,duration_ms,energy,instrumentalness,"
       "liveness,"
       "loudness,speechiness,tempo,valence,popularity,key",
       "yamaerenay-160k-data-by-genres"},
      {"mode,year,acousticness,danceability,duration_ms,energy,instrumentalness,liveness,"
       "loudness,speechiness,tempo,valence,popularity,key",
       "yamaerenay-160k-data-by-year"},
      {"mode,count,acousticness,artists,danceability,duration_ms,energy,instrumentalness,"
       "liveness,loudness,speechiness,tempo,valence,popularity,key",
       "yamaerenay-160k-data-by-artist"},
      {"id,name,album,album_id,artists,artist_ids,track_number,disc_number,explicit,"
       "danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,"
       "liveness,valence,tempo,duration_ms,time_signature,year,release_date",
       "rodolfofigueroa-tracks-features"},
      {"track,artist,uri,danceability,energy,key,loudness,mode,speechiness,acousticness,"
       "instrumentalness,liveness,valence,tempo,duration_ms,time_signature,chorus_hit,"
       "sections,target",
       "hit-predictor"},
      {"track_id,track_name,track_artist,track_popularity,track_album_id,track_album_"
       "name,"
       "track_album_release_date,playlist_name,playlist_id,playlist_genre,playlist_"
       "subgenre,"
       "danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,"
       "liveness,valence,tempo,duration_ms",
       "tidytuesday-spotify-songs"},
  };
  for (const auto& [header, format] : headers) {
    absl::StatusOr<std::unique_ptr<CatalogReader>> reader =
        CatalogReader::Open(testing::WriteTempFile("header.csv", header + "\r\n"));
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_EQ((*reader)->format_name(), format) << header;
    CatalogRow row;
    EXPECT_FALSE(*(*reader)->Next(&row));
  }
}

TEST(CatalogReaderTest, HeaderMatchIgnoresOrderCaseAndExtraColumns) {
  std::string path =
      testing::WriteTempFile("reordered.csv",
                             "Decade,URI,Track,Artist,danceability,energy,key,loudness,"
                             "mode,speechiness,acousticness,"
                             "instrumentalness,liveness,valence,tempo,duration_ms,time_"
                             "signature,chorus_hit,sections,"
                             "target\n60s,spotify:track:1dtKN6wwlolkM8XZy2y9C1,Song,Band,"
                             "0.4,0.6,3,-7.7,1,0.04,0.49,0,"
                             "0.07,0.8,185.6,173533,3,32.9,9,1\n");
  absl::StatusOr<std::unique_ptr<CatalogReader>> reader = CatalogReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->format_name(), "hit-predictor");
  CatalogRow row;
  ASSERT_TRUE(*(*reader)->Next(&row));
  ASSERT_EQ(row.kind, CatalogRow::Kind::kTrack) << row.error.message();
  EXPECT_EQ(row.track.name(), "Song");
  EXPECT_EQ(row.track.id(), "1dtKN6wwlolkM8XZy2y9C1");
}

}  // namespace
}  // namespace cratedig::ingest
