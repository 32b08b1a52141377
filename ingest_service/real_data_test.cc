// Reads every real catalog in ../shared/data (see CATALOGS.md there) when it is present.

#include <dirent.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "ingest_service/catalog_reader.h"

namespace cratedig::ingest {
namespace {

std::string SharedDataDir() {
  return std::string(CRATEDIG_SOURCE_DIR) + "/../shared/data";
}

std::vector<std::string> CatalogFiles(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (absl::StrContains(name, ".csv")) names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

struct Expected {
  std::string format;
  int64_t rows;  // data rows as CATALOGS.md / PLAYLISTS.md count them (Python csv)
};

const std::map<std::string, Expected>& KnownFiles() {
  static const auto* const kFiles = new std::map<std::string, Expected>{
      {"spotify_tracks_maharshipandya_sample10k.csv.xz",
       {"maharshipandya-tracks", 10000}},
      {"hit_predictor_dataset-of-60s.csv.xz", {"hit-predictor", 8642}},
      {"hit_predictor_dataset-of-70s.csv.xz", {"hit-predictor", 7766}},
      {"hit_predictor_dataset-of-80s.csv.xz", {"hit-predictor", 6908}},
      {"hit_predictor_dataset-of-90s.csv.xz", {"hit-predictor", 5520}},
      {"hit_predictor_dataset-of-00s.csv.xz", {"hit-predictor", 5872}},
      {"hit_predictor_dataset-of-10s.csv.xz", {"hit-predictor", 6398}},
      {"yamaerenay160k_data_by_genres.csv.xz", {"yamaerenay-160k-data-by-genres", 0}},
      {"yamaerenay160k_data_by_year.csv.xz", {"yamaerenay-160k-data-by-year", 0}},
      {"yamaerenay160k_data_w_genres_2020-09.csv.xz",
       {"yamaerenay-160k-artist-genres", 22727}},
      {"yamaerenay160k_artist_genres_2021.csv.xz",
       {"yamaerenay-160k-artist-genres", 32539}},
      {"tidytuesday_spotify_songs_2020-01-21.csv.xz",
       {"tidytuesday-spotify-songs", 32833}},
  };
  return *kFiles;
}

// Rows known to be unreadable, by file: CATALOGS.md notes the sample's row with original
// index 65900, whose artists, album and track name are empty (as in the Kaggle original).
const std::map<std::string, std::vector<int64_t>>& KnownBadLines() {
  static const auto* const kLines = new std::map<std::string, std::vector<int64_t>>{
      {"spotify_tracks_maharshipandya_sample10k.csv.xz", {686}},
  };
  return *kLines;
}

TEST(RealDataTest, EveryCatalogIsRecognisedAndReadsWithoutUnexpectedErrors) {
  std::vector<std::string> files = CatalogFiles(SharedDataDir());
  if (files.empty()) GTEST_SKIP() << "no catalogs in " << SharedDataDir();
  for (const std::string& name : files) {
    SCOPED_TRACE(name);
    absl::StatusOr<std::unique_ptr<CatalogReader>> reader =
        CatalogReader::Open(SharedDataDir() + "/" + name);
    ASSERT_TRUE(reader.ok()) << reader.status();
    CatalogRow row;
    std::vector<int64_t> bad_lines;
    for (;;) {
      absl::StatusOr<bool> more = (*reader)->Next(&row);
      ASSERT_TRUE(more.ok()) << more.status();
      if (!*more) break;
      if (row.kind == CatalogRow::Kind::kError) {
        bad_lines.push_back(row.error.line());
        std::cout << "  row error " << row.error.ShortDebugString() << "\n";
      }
    }
    const CatalogReaderStats& s = (*reader)->stats();
    std::cout << name << ": format=" << (*reader)->format_name() << " rows=" << s.rows
              << " tracks=" << s.tracks << " artists=" << s.artists
              << " errors=" << s.errors
              << ((*reader)->skip_reason().empty() ? "" : " skipped: ")
              << (*reader)->skip_reason() << std::endl;
    auto known = KnownFiles().find(name);
    if (known != KnownFiles().end()) {
      EXPECT_EQ((*reader)->format_name(), known->second.format);
      EXPECT_EQ(s.rows, known->second.rows);
    }
    auto bad = KnownBadLines().find(name);
    EXPECT_EQ(bad_lines,
              bad == KnownBadLines().end() ? std::vector<int64_t>{} : bad->second);
  }
}

}  // namespace
}  // namespace cratedig::ingest
