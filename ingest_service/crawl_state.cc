#include "ingest_service/crawl_state.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace cratedig::ingest {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS queries(query TEXT PRIMARY KEY, next_offset INTEGER NOT NULL DEFAULT 0,
  pages_done INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0, error TEXT, active INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS artists(id TEXT PRIMARY KEY, name TEXT,
  done INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0, error TEXT);
CREATE TABLE IF NOT EXISTS albums(id TEXT PRIMARY KEY, ref BLOB NOT NULL,
  done INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0, error TEXT,
  tracks INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS playlists(id TEXT PRIMARY KEY, done INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0, error TEXT, tracks INTEGER NOT NULL DEFAULT 0,
  active INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, payload BLOB NOT NULL);
)sql";

// One prepared statement; binds by position from 1.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement& Bind(int i, const std::string& text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  Statement& BindBlob(int i, const std::string& blob) {
    sqlite3_bind_blob(stmt_, i, blob.data(), static_cast<int>(blob.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int i, int64_t value) {
    sqlite3_bind_int64(stmt_, i, value);
    return *this;
  }
  // Returns true for a row, false when done; sets the error otherwise.
  bool Step() {
    if (rc_ != SQLITE_OK && rc_ != SQLITE_ROW && rc_ != SQLITE_DONE) return false;
    rc_ = sqlite3_step(stmt_);
    return rc_ == SQLITE_ROW;
  }
  absl::Status Run() {
    while (Step()) {
    }
    return status();
  }
  absl::Status status() const {
    if (rc_ == SQLITE_OK || rc_ == SQLITE_ROW || rc_ == SQLITE_DONE)
      return absl::OkStatus();
    return absl::InternalError(
        absl::StrCat("crawl state (SQLite): ", sqlite3_errmsg(db_)));
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) {
    const void* data = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return data == nullptr ? std::string()
                           : std::string(static_cast<const char*>(data), n);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<CrawlState>> CrawlState::Open(const std::string& dir) {
  mkdir(dir.c_str(), 0755);
  std::string path = dir + "/crawl.sqlite";
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::string error = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::UnavailableError(
        absl::StrCat("cannot open crawl state ", path, ": ", error));
  }
  sqlite3_busy_timeout(db, 10000);
  std::unique_ptr<CrawlState> state(new CrawlState(db));
  absl::MutexLock lock(&state->mu_);
  for (const char* sql :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", kSchema}) {
    absl::Status status = state->Exec(sql);
    if (!status.ok()) return status;
  }
  return state;
}

CrawlState::~CrawlState() {
  absl::MutexLock lock(&mu_);
  sqlite3_close(db_);
}

absl::Status CrawlState::Exec(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    return absl::InternalError(absl::StrCat("crawl state (SQLite): ", message));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> CrawlState::Int(const std::string& sql) {
  Statement s(db_, sql);
  int64_t value = s.Step() ? s.Int(0) : 0;
  absl::Status status = s.status();
  if (!status.ok()) return status;
  return value;
}

absl::Status CrawlState::InTransaction(const std::function<absl::Status()>& body) {
  absl::Status status = Exec("BEGIN IMMEDIATE");
  if (!status.ok()) return status;
  status = body();
  if (!status.ok()) {
    Exec("ROLLBACK").IgnoreError();
    return status;
  }
  return Exec("COMMIT");
}

absl::Status CrawlState::ExecAll(const std::vector<std::string>& statements) {
  for (const std::string& sql : statements) {
    absl::Status s = Exec(sql);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CrawlState::SetActive(const std::string& table, const std::string& column,
                                   const std::vector<std::string>& keys) {
  absl::Status s = Exec(absl::StrCat("UPDATE ", table, " SET active=0"));
  for (const std::string& key : keys) {
    if (s.ok()) {
      s = Statement(db_, absl::StrCat("INSERT OR IGNORE INTO ", table, "(", column,
                                      ") VALUES(?)"))
              .Bind(1, key)
              .Run();
    }
    if (s.ok()) {
      s = Statement(db_,
                    absl::StrCat("UPDATE ", table, " SET active=1 WHERE ", column, "=?"))
              .Bind(1, key)
              .Run();
    }
  }
  return s;
}

absl::StatusOr<int64_t> CrawlState::BeginRun(const std::vector<std::string>& queries,
                                             const std::vector<std::string>& playlists) {
  absl::MutexLock lock(&mu_);
  int64_t run = 0;
  absl::Status status = InTransaction([&]() -> absl::Status {
    absl::StatusOr<int64_t> current = Int("SELECT value FROM meta WHERE key='run'");
    absl::StatusOr<int64_t> running = Int("SELECT value FROM meta WHERE key='running'");
    if (!current.ok()) return current.status();
    if (!running.ok()) return running.status();
    run = *current;
    absl::Status s;
    if (run == 0 ||
        *running == 0) {  // the last run completed: everything is pending again
      ++run;
      s = ExecAll({"UPDATE queries SET next_offset=0, pages_done=0, done=0",
                   "UPDATE artists SET done=0", "UPDATE albums SET done=0, tracks=0",
                   "UPDATE playlists SET done=0, tracks=0"});
    }
    if (s.ok()) {  // failed items are retried by every start
      s = ExecAll({"UPDATE queries SET failed=0, error=NULL",
                   "UPDATE artists SET failed=0, error=NULL",
                   "UPDATE albums SET failed=0, error=NULL",
                   "UPDATE playlists SET failed=0, error=NULL"});
    }
    if (s.ok()) s = SetActive("queries", "query", queries);
    if (s.ok()) s = SetActive("playlists", "id", playlists);
    if (!s.ok()) return s;
    return Statement(
               db_,
               "INSERT OR REPLACE INTO meta(key, value) VALUES('run', ?), ('running', 1)")
        .Bind(1, run)
        .Run();
  });
  if (!status.ok()) return status;
  return run;
}

absl::StatusOr<int64_t> CrawlState::FinishRun() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<int64_t> failed =
      Int("SELECT (SELECT count(*) FROM queries WHERE failed=1 AND active=1) + "
          "(SELECT count(*) FROM artists WHERE failed=1) + "
          "(SELECT count(*) FROM albums WHERE failed=1) + "
          "(SELECT count(*) FROM playlists WHERE failed=1 AND active=1)");
  if (!failed.ok() || *failed > 0) return failed;
  absl::Status status =
      Statement(db_,
                "INSERT OR REPLACE INTO meta(key, value) VALUES('running', 0), "
                "('completed_at', ?)")
          .Bind(1, absl::ToUnixSeconds(absl::Now()))
          .Run();
  if (!status.ok()) return status;
  return 0;
}

absl::StatusOr<int64_t> CrawlState::LastCompletion() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<int64_t> running = Int("SELECT value FROM meta WHERE key='running'");
  if (!running.ok()) return running.status();
  if (*running != 0) return 0;
  return Int("SELECT value FROM meta WHERE key='completed_at'");
}

absl::StatusOr<std::optional<QueryCursor>> CrawlState::NextQuery() {
  absl::MutexLock lock(&mu_);
  Statement s(db_,
              "SELECT query, next_offset, pages_done FROM queries "
              "WHERE active=1 AND done=0 AND failed=0 ORDER BY rowid LIMIT 1");
  std::optional<QueryCursor> cursor;
  if (s.Step()) cursor = QueryCursor{s.Text(0), s.Int(1), s.Int(2)};
  absl::Status status = s.status();
  if (!status.ok()) return status;
  return cursor;
}

absl::Status CrawlState::SaveSearchPage(const QueryCursor& next, bool last,
                                        const std::vector<v1::Artist>& artists) {
  absl::MutexLock lock(&mu_);
  return InTransaction([&]() -> absl::Status {
    for (const v1::Artist& a : artists) {
      absl::Status s =
          Statement(db_, "INSERT OR IGNORE INTO artists(id, name) VALUES(?, ?)")
              .Bind(1, a.id())
              .Bind(2, a.name())
              .Run();
      if (!s.ok()) return s;
    }
    return Statement(
               db_,
               "UPDATE queries SET next_offset=?, pages_done=?, done=? WHERE query=?")
        .Bind(1, next.next_offset)
        .Bind(2, next.pages_done)
        .Bind(3, int64_t{last ? 1 : 0})
        .Bind(4, next.query)
        .Run();
  });
}

absl::StatusOr<std::vector<std::string>> CrawlState::NextArtists(int limit) {
  absl::MutexLock lock(&mu_);
  Statement s(db_,
              "SELECT id FROM artists WHERE done=0 AND failed=0 ORDER BY rowid LIMIT ?");
  s.Bind(1, int64_t{limit});
  std::vector<std::string> ids;
  while (s.Step()) ids.push_back(s.Text(0));
  absl::Status status = s.status();
  if (!status.ok()) return status;
  return ids;
}

absl::Status CrawlState::SaveArtist(const std::string& artist_id,
                                    const std::vector<v1::AlbumRef>& albums,
                                    const std::optional<v1::Artist>& details,
                                    const std::string& source) {
  absl::MutexLock lock(&mu_);
  return InTransaction([&]() -> absl::Status {
    for (const v1::AlbumRef& album : albums) {
      absl::Status s =
          Statement(db_, "INSERT OR IGNORE INTO albums(id, ref) VALUES(?, ?)")
              .Bind(1, album.id())
              .BindBlob(2, album.SerializeAsString())
              .Run();
      if (!s.ok()) return s;
    }
    if (details.has_value()) {
      v1::IngestCatalogRequest batch;
      *batch.add_artists() = *details;
      batch.set_source(source);
      absl::Status s = PutOutbox(batch);
      if (!s.ok()) return s;
    }
    return Statement(db_, "UPDATE artists SET done=1 WHERE id=?")
        .Bind(1, artist_id)
        .Run();
  });
}

absl::StatusOr<std::vector<v1::AlbumRef>> CrawlState::NextAlbums(int limit) {
  absl::MutexLock lock(&mu_);
  Statement s(db_,
              "SELECT ref FROM albums WHERE done=0 AND failed=0 ORDER BY rowid LIMIT ?");
  s.Bind(1, int64_t{limit});
  std::vector<v1::AlbumRef> albums;
  while (s.Step()) {
    albums.emplace_back();
    if (!albums.back().ParseFromString(s.Text(0))) {
      return absl::DataLossError("bad album in the crawl state");
    }
  }
  absl::Status status = s.status();
  if (!status.ok()) return status;
  return albums;
}

absl::Status CrawlState::SaveAlbums(const std::vector<AlbumTracks>& albums,
                                    const std::string& source) {
  absl::MutexLock lock(&mu_);
  return InTransaction([&]() -> absl::Status {
    for (const auto& [album_id, tracks] : albums) {
      if (!tracks.empty()) {
        v1::IngestCatalogRequest batch;
        for (const v1::Track& t : tracks) *batch.add_tracks() = t;
        batch.set_source(source);
        absl::Status s = PutOutbox(batch);
        if (!s.ok()) return s;
      }
      absl::Status s = Statement(db_, "UPDATE albums SET done=1, tracks=? WHERE id=?")
                           .Bind(1, static_cast<int64_t>(tracks.size()))
                           .Bind(2, album_id)
                           .Run();
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::optional<std::string>> CrawlState::NextPlaylist() {
  absl::MutexLock lock(&mu_);
  Statement s(db_,
              "SELECT id FROM playlists WHERE active=1 AND done=0 AND failed=0 "
              "ORDER BY rowid LIMIT 1");
  std::optional<std::string> id;
  if (s.Step()) id = s.Text(0);
  absl::Status status = s.status();
  if (!status.ok()) return status;
  return id;
}

absl::Status CrawlState::SavePlaylist(const v1::Playlist& playlist,
                                      const std::vector<v1::Track>& tracks,
                                      const std::string& source) {
  absl::MutexLock lock(&mu_);
  return InTransaction([&]() -> absl::Status {
    v1::IngestCatalogRequest batch;
    for (const v1::Track& t : tracks) *batch.add_tracks() = t;
    *batch.add_playlists() = playlist;
    batch.set_source(source);
    absl::Status s = PutOutbox(batch);
    if (!s.ok()) return s;
    return Statement(db_, "UPDATE playlists SET done=1, tracks=? WHERE id=?")
        .Bind(1, static_cast<int64_t>(tracks.size()))
        .Bind(2, playlist.id())
        .Run();
  });
}

absl::Status CrawlState::MarkFailed(const std::string& table, const std::string& key,
                                    const std::string& error) {
  if (table != "queries" && table != "artists" && table != "albums" &&
      table != "playlists") {
    return absl::InvalidArgumentError(absl::StrCat("no crawl table ", table));
  }
  absl::MutexLock lock(&mu_);
  std::string column = table == "queries" ? "query" : "id";
  return Statement(db_, absl::StrCat("UPDATE ", table, " SET failed=1, error=? WHERE ",
                                     column, "=?"))
      .Bind(1, error)
      .Bind(2, key)
      .Run();
}

absl::Status CrawlState::PutOutbox(const v1::IngestCatalogRequest& batch) {
  return Statement(db_, "INSERT INTO outbox(payload) VALUES(?)")
      .BindBlob(1, batch.SerializeAsString())
      .Run();
}

absl::StatusOr<std::vector<v1::IngestCatalogRequest>> CrawlState::PeekOutbox(int limit) {
  absl::MutexLock lock(&mu_);
  Statement s(db_, "SELECT seq, payload FROM outbox ORDER BY seq LIMIT ?");
  s.Bind(1, int64_t{limit});
  std::vector<v1::IngestCatalogRequest> batches;
  while (s.Step()) {
    batches.emplace_back();
    if (!batches.back().ParseFromString(s.Text(1))) {
      return absl::DataLossError("bad batch in the outbox");
    }
    batches.back().set_batch_id(s.Int(0));
  }
  absl::Status status = s.status();
  if (!status.ok()) return status;
  return batches;
}

absl::Status CrawlState::AckOutbox(int64_t batch_id) {
  absl::MutexLock lock(&mu_);
  return Statement(db_, "DELETE FROM outbox WHERE seq=?").Bind(1, batch_id).Run();
}

absl::StatusOr<CrawlCounts> CrawlState::Counts() {
  absl::MutexLock lock(&mu_);
  Statement s(db_, R"sql(SELECT
    (SELECT value FROM meta WHERE key='run'),
    (SELECT count(*) FROM queries WHERE active=1 AND done=1),
    (SELECT count(*) FROM queries WHERE active=1),
    (SELECT count(*) FROM artists WHERE done=1), (SELECT count(*) FROM artists),
    (SELECT count(*) FROM albums WHERE done=1), (SELECT count(*) FROM albums),
    (SELECT coalesce(sum(tracks), 0) FROM albums WHERE done=1) +
      (SELECT coalesce(sum(tracks), 0) FROM playlists WHERE done=1 AND active=1),
    (SELECT count(*) FROM queries WHERE failed=1 AND active=1) +
      (SELECT count(*) FROM artists WHERE failed=1) +
      (SELECT count(*) FROM albums WHERE failed=1) +
      (SELECT count(*) FROM playlists WHERE failed=1 AND active=1),
    (SELECT count(*) FROM outbox),
    (SELECT count(*) FROM playlists WHERE active=1 AND done=1),
    (SELECT count(*) FROM playlists WHERE active=1))sql");
  CrawlCounts c;
  if (s.Step()) {
    c = CrawlCounts{s.Int(0), s.Int(1), s.Int(2), s.Int(3), s.Int(4),  s.Int(5),
                    s.Int(6), s.Int(7), s.Int(8), s.Int(9), s.Int(10), s.Int(11)};
  }
  absl::Status status = s.status();
  if (!status.ok()) return status;
  return c;
}

}  // namespace cratedig::ingest
