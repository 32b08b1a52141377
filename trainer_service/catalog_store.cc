#include "trainer_service/catalog_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/track_ids.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace cratedig::trainer {
namespace {

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

// A statement prepared once per connection and SQL text and reused by every later call
// (the upserts run one lookup and one write per row: preparing them anew each time cost
// more than the writes). Found again by its text among the connection's statements;
// reset and unbound on scope exit; finalized when the store closes.
class Reused {
 public:
  Reused(sqlite3* db, const char* sql) {
    for (sqlite3_stmt* s = sqlite3_next_stmt(db, nullptr); s != nullptr;
         s = sqlite3_next_stmt(db, s)) {
      if (!sqlite3_stmt_busy(s) && std::strcmp(sqlite3_sql(s), sql) == 0) {
        stmt_ = s;
        return;
      }
    }
    ok_ = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) ==
          SQLITE_OK;
  }
  ~Reused() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  bool ok() const { return ok_; }
  sqlite3_stmt* get() { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  bool ok_ = true;
};

absl::Status SqliteError(sqlite3* db, const std::string& what) {
  return absl::InternalError(
      absl::StrCat("catalog database: ", what, ": ", sqlite3_errmsg(db)));
}

void UniteGenres(const google::protobuf::RepeatedPtrField<std::string>& extra,
                 google::protobuf::RepeatedPtrField<std::string>* genres) {
  absl::flat_hash_set<std::string> seen(genres->begin(), genres->end());
  for (const std::string& g : extra) {
    if (!g.empty() && seen.insert(g).second) *genres->Add() = g;
  }
}

// Key of an artist row: its id when it has one, else its name.
std::string ArtistKey(const v1::Artist& a) {
  return a.id().empty() ? absl::StrCat("name:", a.name()) : absl::StrCat("id:", a.id());
}

// Returns the stored blob for `key` from `sql` (one ? parameter), or nullopt-like empty
// bool.
bool Lookup(sqlite3* db, const char* sql, const std::string& key, std::string* blob) {
  Reused st(db, sql);
  if (!st.ok()) return false;
  sqlite3_bind_text(st.get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  if (sqlite3_step(st.get()) != SQLITE_ROW) return false;
  const void* data = sqlite3_column_blob(st.get(), 0);
  int size = sqlite3_column_bytes(st.get(), 0);
  blob->assign(static_cast<const char*>(data), static_cast<size_t>(size));
  return true;
}

absl::Status Store(sqlite3* db, const char* sql, const std::string& key,
                   const std::string& blob) {
  Reused st(db, sql);
  if (!st.ok()) return SqliteError(db, "prepare");
  sqlite3_bind_text(st.get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  sqlite3_bind_blob(st.get(), 2, blob.data(), static_cast<int>(blob.size()),
                    SQLITE_STATIC);
  if (sqlite3_step(st.get()) != SQLITE_DONE) return SqliteError(db, "write");
  return absl::OkStatus();
}

std::string Serialize(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

// A playlist needs an id and Spotify track ids; the error names the field.
absl::Status ValidatePlaylist(const v1::Playlist& p, int i) {
  if (p.id().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("playlists[", i, "].id must not be empty"));
  }
  for (int j = 0; j < p.track_ids_size(); ++j) {
    if (!IsSpotifyId(p.track_ids(j))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "playlists[", i, "].track_ids[", j, "] '", p.track_ids(j).substr(0, 64),
          "' is not a 22-character Spotify id"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

v1::Track MergeTrack(const v1::Track& stored, const v1::Track& incoming) {
  v1::Track merged = stored;
  merged.clear_artists();
  merged.clear_genres();
  v1::Track fields = incoming;
  fields.clear_artists();
  fields.clear_genres();
  merged.MergeFrom(fields);  // Present fields of `incoming` replace stored ones.
  if (incoming.artists().empty()) {
    *merged.mutable_artists() = stored.artists();
  } else {
    *merged.mutable_artists() = incoming.artists();
    for (v1::ArtistRef& a : *merged.mutable_artists()) {
      if (!a.id().empty()) continue;
      for (const v1::ArtistRef& old : stored.artists()) {
        if (old.name() == a.name()) a.set_id(old.id());
      }
    }
  }
  *merged.mutable_genres() = stored.genres();
  UniteGenres(incoming.genres(), merged.mutable_genres());
  return merged;
}

v1::Artist MergeArtist(const v1::Artist& stored, const v1::Artist& incoming) {
  v1::Artist merged = stored;
  v1::Artist fields = incoming;
  fields.clear_genres();
  merged.MergeFrom(fields);
  UniteGenres(incoming.genres(), merged.mutable_genres());
  return merged;
}

CatalogStore::~CatalogStore() {
  while (sqlite3_stmt* s = sqlite3_next_stmt(db_, nullptr)) sqlite3_finalize(s);
  sqlite3_close(db_);
}

absl::StatusOr<std::unique_ptr<CatalogStore>> CatalogStore::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  std::string path = dir + "/catalog.sqlite";
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    absl::Status s = SqliteError(db, "open " + path);
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<CatalogStore> store(new CatalogStore(db, path));
  for (const char* sql : {
           "PRAGMA journal_mode=WAL",
           "PRAGMA synchronous=FULL",
           "CREATE TABLE IF NOT EXISTS tracks (id TEXT PRIMARY KEY, data BLOB NOT NULL)",
           "CREATE TABLE IF NOT EXISTS artists (key TEXT PRIMARY KEY, data BLOB NOT "
           "NULL)",
           "CREATE TABLE IF NOT EXISTS playlists (id TEXT PRIMARY KEY, data BLOB NOT "
           "NULL)",
       }) {
    if (auto s = store->Exec(sql); !s.ok()) return s;
  }
  return store;
}

absl::Status CatalogStore::Exec(const char* sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return absl::InternalError(absl::StrCat("catalog database: ", sql, ": ", msg));
  }
  return absl::OkStatus();
}

absl::Status CatalogStore::Upsert(const v1::IngestCatalogRequest& batch,
                                  v1::IngestCatalogResponse* ack) {
  for (const v1::Track& t : batch.tracks()) {
    if (!IsSpotifyId(t.id())) {
      return absl::InvalidArgumentError(
          absl::StrCat("tracks.id '", t.id(), "' is not a 22-character Spotify id"));
    }
  }
  for (int i = 0; i < batch.playlists_size(); ++i) {
    if (absl::Status s = ValidatePlaylist(batch.playlists(i), i); !s.ok()) return s;
  }
  absl::MutexLock lock(&mu_);
  if (auto s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  absl::Status status;
  for (const v1::Track& t : batch.tracks()) {
    if (status = UpsertTrack(t, ack); !status.ok()) break;
  }
  for (const v1::Artist& a : batch.artists()) {
    if (!status.ok()) break;
    status = UpsertArtist(a, ack);
  }
  for (const v1::Playlist& p : batch.playlists()) {
    if (!status.ok()) break;
    status = UpsertPlaylist(p, ack);
  }
  if (!status.ok()) {
    Exec("ROLLBACK").IgnoreError();
    return status;
  }
  if (auto s = Exec("COMMIT"); !s.ok()) return s;
  if (ack->tracks_inserted() + ack->tracks_updated() + ack->artists_upserted() +
          ack->playlists_upserted() >
      0) {
    ++generation_;
  }
  return absl::OkStatus();
}

absl::Status CatalogStore::UpsertTrack(const v1::Track& track,
                                       v1::IngestCatalogResponse* ack) {
  std::string blob;
  v1::Track merged = track;
  if (Lookup(db_, "SELECT data FROM tracks WHERE id = ?", track.id(), &blob)) {
    v1::Track stored;
    if (!stored.ParseFromString(blob)) {
      return absl::DataLossError(
          absl::StrCat("stored track ", track.id(), " is corrupt"));
    }
    merged = MergeTrack(stored, track);
    std::string next = Serialize(merged);
    if (next == Serialize(stored)) {
      ack->set_tracks_unchanged(ack->tracks_unchanged() + 1);
      return absl::OkStatus();
    }
    ack->set_tracks_updated(ack->tracks_updated() + 1);
    return Store(db_, "UPDATE tracks SET data = ?2 WHERE id = ?1", track.id(), next);
  }
  ack->set_tracks_inserted(ack->tracks_inserted() + 1);
  return Store(db_, "INSERT INTO tracks (id, data) VALUES (?1, ?2)", track.id(),
               Serialize(merged));
}

absl::Status CatalogStore::UpsertArtist(const v1::Artist& artist,
                                        v1::IngestCatalogResponse* ack) {
  if (artist.id().empty() && artist.name().empty()) {
    return absl::InvalidArgumentError("artists: an artist needs an id or a name");
  }
  std::string key = ArtistKey(artist);
  std::string blob;
  v1::Artist merged = artist;
  if (Lookup(db_, "SELECT data FROM artists WHERE key = ?", key, &blob)) {
    v1::Artist stored;
    if (!stored.ParseFromString(blob)) {
      return absl::DataLossError(absl::StrCat("stored artist ", key, " is corrupt"));
    }
    merged = MergeArtist(stored, artist);
    if (Serialize(merged) == Serialize(stored)) return absl::OkStatus();
  }
  ack->set_artists_upserted(ack->artists_upserted() + 1);
  return Store(db_, "INSERT OR REPLACE INTO artists (key, data) VALUES (?1, ?2)", key,
               Serialize(merged));
}

absl::Status CatalogStore::UpsertPlaylist(const v1::Playlist& playlist,
                                          v1::IngestCatalogResponse* ack) {
  std::string blob;
  const std::string next = Serialize(playlist);
  if (Lookup(db_, "SELECT data FROM playlists WHERE id = ?", playlist.id(), &blob)) {
    if (blob == next) return absl::OkStatus();
    ack->set_playlists_upserted(ack->playlists_upserted() + 1);
    return Store(db_, "UPDATE playlists SET data = ?2 WHERE id = ?1", playlist.id(),
                 next);
  }
  ack->set_playlists_upserted(ack->playlists_upserted() + 1);
  return Store(db_, "INSERT INTO playlists (id, data) VALUES (?1, ?2)", playlist.id(),
               next);
}

namespace {

// Steps `sql` (one blob column) on `db`, parsing each row into a `Message` for `fn`.
template <typename Message>
absl::Status ReadRows(sqlite3* db, const char* sql, const char* what,
                      const std::function<void(Message&&)>& fn) {
  Statement st(db, sql);
  if (!st.ok()) return SqliteError(db, "prepare");
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    Message m;
    if (!m.ParseFromArray(sqlite3_column_blob(st.get(), 0),
                          sqlite3_column_bytes(st.get(), 0))) {
      return absl::DataLossError(absl::StrCat("a stored ", what, " is corrupt"));
    }
    fn(std::move(m));
  }
  if (rc != SQLITE_DONE) return SqliteError(db, absl::StrCat("read ", what, "s"));
  return absl::OkStatus();
}

}  // namespace

absl::Status CatalogStore::ReadCatalog(
    const std::function<void(v1::Track&&)>& on_track,
    const std::function<void(v1::Artist&&)>& on_artist,
    const std::function<void(v1::Playlist&&)>& on_playlist) const {
  // A connection of its own, read-only: in WAL mode its transaction sees one consistent
  // state of the catalog while Upsert keeps committing on db_.
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> closer(db, &sqlite3_close);
  if (rc != SQLITE_OK) return SqliteError(db, "open for reading");
  sqlite3_busy_timeout(db, 10000);
  if (sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return SqliteError(db, "begin a read");
  }
  absl::Status status;
  if (on_track) {
    status = ReadRows<v1::Track>(db, "SELECT data FROM tracks ORDER BY rowid", "track",
                                 on_track);
  }
  if (status.ok() && on_artist) {
    status = ReadRows<v1::Artist>(db, "SELECT data FROM artists ORDER BY rowid", "artist",
                                  on_artist);
  }
  if (status.ok() && on_playlist) {
    status = ReadRows<v1::Playlist>(db, "SELECT data FROM playlists ORDER BY rowid",
                                    "playlist", on_playlist);
  }
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  return status;
}

absl::Status CatalogStore::ForEachPlaylist(
    const std::function<void(v1::Playlist&&)>& fn) const {
  return ReadCatalog(nullptr, nullptr, fn);
}

absl::Status CatalogStore::ForEachTrack(
    const std::function<void(v1::Track&&)>& fn) const {
  return ReadCatalog(fn, nullptr);
}

absl::Status CatalogStore::ForEachArtist(
    const std::function<void(v1::Artist&&)>& fn) const {
  return ReadCatalog(nullptr, fn);
}

int64_t CatalogStore::Count(const char* table) const {
  absl::MutexLock lock(&mu_);
  Statement st(db_, absl::StrCat("SELECT COUNT(*) FROM ", table).c_str());
  if (!st.ok() || sqlite3_step(st.get()) != SQLITE_ROW) return -1;
  return sqlite3_column_int64(st.get(), 0);
}

int64_t CatalogStore::track_count() const { return Count("tracks"); }
int64_t CatalogStore::artist_count() const { return Count("artists"); }
int64_t CatalogStore::playlist_count() const { return Count("playlists"); }
int64_t CatalogStore::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

}  // namespace cratedig::trainer
