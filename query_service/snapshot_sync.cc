#include "query_service/snapshot_sync.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/daemon.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/snapshot.h"

namespace cratedig::query {
namespace fs = std::filesystem;

SnapshotSync::SnapshotSync(SnapshotSyncOptions options, SnapshotHolder* holder,
                           std::function<void(const Snapshot&)> on_installed)
    : options_(std::move(options)),
      holder_(holder),
      on_installed_(std::move(on_installed)) {
  std::error_code ec;
  fs::create_directories(root(), ec);
  if (!options_.trainer.empty()) {
    channel_ = options_.trainer_channel != nullptr ? options_.trainer_channel
                                                   : MakeChannel(options_.trainer);
    stub_ = v1::SnapshotService::NewStub(channel_);
  }
}

SnapshotSync::~SnapshotSync() { Stop(); }

absl::Status SnapshotSync::LoadLocal() {
  auto current = ReadCurrent(root());
  if (!current.ok()) return current.status();
  absl::Status loaded =
      LoadAndInstall(absl::StrCat(root(), "/", *current), /*point_current=*/false);
  if (!loaded.ok()) RecordRefusal(*current, loaded);
  return loaded;
}

void SnapshotSync::Start() {
  if (stub_ == nullptr || thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void SnapshotSync::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  {
    absl::MutexLock lock(&mu_);
    if (watch_context_ != nullptr) watch_context_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

void SnapshotSync::Run() {
  absl::Duration backoff = absl::Milliseconds(200);
  while (!stop_.HasBeenNotified()) {
    absl::Time started = absl::Now();
    WatchOnce();
    if (absl::Now() - started > absl::Seconds(10)) backoff = absl::Milliseconds(200);
    stop_.WaitForNotificationWithTimeout(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

void SnapshotSync::WatchOnce() {
  grpc::ClientContext context;
  {
    absl::MutexLock lock(&mu_);
    if (stop_.HasBeenNotified()) return;
    watch_context_ = &context;
  }
  v1::WatchSnapshotsRequest request;
  if (auto current = holder_->Get()) request.set_known_version(current->version());
  auto reader = stub_->WatchSnapshots(&context, request);
  v1::WatchSnapshotsResponse response;
  while (reader->Read(&response)) {
    if (auto s = Sync(response.manifest()); !s.ok()) {
      RecordRefusal(response.manifest().version(), s);
    }
  }
  grpc::Status status = reader->Finish();
  {
    absl::MutexLock lock(&mu_);
    watch_context_ = nullptr;
  }
  if (!stop_.HasBeenNotified() && !status.ok()) {
    CD_LOG(WARNING) << "trainer " << options_.trainer
                    << " watch ended: " << FromGrpcStatus(status) << "; retrying";
  }
}

absl::Status SnapshotSync::Sync(const v1::SnapshotManifest& manifest) {
  auto current = holder_->Get();
  if (current != nullptr && current->version() == manifest.version())
    return absl::OkStatus();
  if (!IsSnapshotVersion(manifest.version())) {
    return absl::DataLossError(absl::StrCat("published manifest has no valid version ('",
                                            manifest.version(), "')"));
  }
  if (manifest.format_version() != kSnapshotFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("snapshot ", manifest.version(), " has format ",
                     manifest.format_version(), " (written by '", manifest.builder(),
                     "'); this queryd reads format ", kSnapshotFormatVersion));
  }
  absl::Time start = absl::Now();
  const std::string dir = absl::StrCat(root(), "/", manifest.version());
  std::error_code ec;
  if (!VerifySnapshotFiles(dir, manifest).ok()) {
    const std::string tmp = absl::StrCat(root(), "/.tmp-", manifest.version());
    fs::create_directories(tmp, ec);
    for (const v1::SnapshotFile& file : manifest.files()) {
      if (auto s = FetchFile(manifest.version(), file, tmp + "/" + file.name());
          !s.ok()) {
        return s;
      }
    }
    if (auto installed = InstallFetchedSnapshot(root(), tmp, manifest); !installed.ok()) {
      fs::remove_all(tmp, ec);  // Corrupt: fetch afresh next time.
      return installed.status();
    }
    CD_LOG(INFO) << "snapshot fetched version=" << manifest.version()
                 << " ms=" << absl::ToInt64Milliseconds(absl::Now() - start);
    // Partial fetches of versions never to be fetched again (left by a crash) go too.
    RemoveTemporaryDirs(root());
  }
  // Either check above verified every file (present, or fetched and installed).
  if (auto s = LoadAndInstall(dir, /*point_current=*/true, /*verified=*/true); !s.ok()) {
    fs::remove_all(dir, ec);  // CURRENT still names the snapshot being served.
    return s;
  }
  PruneSnapshots(root(), options_.keep_snapshots);
  return absl::OkStatus();
}

void SnapshotSync::RecordRefusal(const std::string& version, const absl::Status& status) {
  auto serving = holder_->Get();
  CD_LOG(ERROR) << "snapshot " << version << " refused ("
                << (serving ? "snapshot " + serving->version() + " keeps serving"
                            : "nothing to serve")
                << "): " << status;
  absl::MutexLock lock(&mu_);
  refused_version_ = version;
  refused_error_ = status.ToString();
  refused_at_ms_ = absl::ToUnixMillis(absl::Now());
}

void SnapshotSync::DescribeTo(v1::GetQueryStatusResponse* status) const {
  if (auto snapshot = holder_->Get()) {
    status->set_snapshot_created_at_ms(snapshot->manifest().created_at_ms());
    status->set_snapshot_builder(snapshot->manifest().builder());
  }
  status->set_trainer(options_.trainer);
  if (channel_ != nullptr) {
    switch (channel_->GetState(/*try_to_connect=*/false)) {
      case GRPC_CHANNEL_IDLE:
        status->set_trainer_connection("IDLE");
        break;
      case GRPC_CHANNEL_CONNECTING:
        status->set_trainer_connection("CONNECTING");
        break;
      case GRPC_CHANNEL_READY:
        status->set_trainer_connection("READY");
        break;
      case GRPC_CHANNEL_TRANSIENT_FAILURE:
        status->set_trainer_connection("TRANSIENT_FAILURE");
        break;
      case GRPC_CHANNEL_SHUTDOWN:
        status->set_trainer_connection("SHUTDOWN");
        break;
    }
  }
  absl::MutexLock lock(&mu_);
  status->set_snapshot_loaded_at_ms(loaded_at_ms_);
  status->set_last_refused_version(refused_version_);
  status->set_last_refused_error(refused_error_);
  status->set_last_refused_at_ms(refused_at_ms_);
}

absl::Status SnapshotSync::FetchFile(const std::string& version,
                                     const v1::SnapshotFile& file,
                                     const std::string& path) {
  std::error_code ec;
  int64_t have = fs::exists(path, ec) ? static_cast<int64_t>(fs::file_size(path, ec)) : 0;
  if (have > file.size_bytes()) {
    fs::remove(path, ec);
    have = 0;
  }
  if (have == file.size_bytes()) return absl::OkStatus();
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(path.c_str(), "ab"),
                                                      &std::fclose);
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  v1::FetchSnapshotFileRequest request;
  request.set_version(version);
  request.set_name(file.name());
  request.set_offset(have);  // Resume a transfer cut off earlier.
  auto reader = stub_->FetchSnapshotFile(&context, request);
  v1::FetchSnapshotFileResponse chunk;
  while (reader->Read(&chunk)) {
    if (chunk.offset() != have) {
      context.TryCancel();
      reader->Finish();
      return absl::DataLossError(absl::StrCat("file ", file.name(), ": chunk at offset ",
                                              chunk.offset(), ", expected ", have));
    }
    if (std::fwrite(chunk.data().data(), 1, chunk.data().size(), out.get()) !=
        chunk.data().size()) {
      context.TryCancel();
      reader->Finish();
      return absl::InternalError(absl::StrCat("cannot write ", path));
    }
    have += static_cast<int64_t>(chunk.data().size());
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return FromGrpcStatus(status);
  if (std::fflush(out.get()) != 0)
    return absl::InternalError(absl::StrCat("cannot write ", path));
  // On disk before InstallFetchedSnapshot renames it into place and CURRENT names it.
  if (::fsync(::fileno(out.get())) != 0)
    return absl::InternalError(absl::StrCat("cannot sync ", path));
  return absl::OkStatus();
}

absl::Status SnapshotSync::LoadAndInstall(const std::string& dir, bool point_current,
                                          bool verified) {
  absl::Time start = absl::Now();
  auto snapshot = Snapshot::Load(dir, /*verify_checksums=*/!verified);
  if (!snapshot.ok()) return snapshot.status();
  const absl::Duration read = absl::Now() - start;
  std::shared_ptr<const Snapshot> loaded = *snapshot;
  // A snapshot replacing another one serves once its exact blocks are built (about 1 s
  // at 1.2M tracks): until then the previous one answers, so that Recommend's default
  // stays exact. The first one serves at once, the graph answering until they are.
  const bool replacing = holder_->Get() != nullptr;
  if (replacing) loaded->audio_blocks();
  const absl::Time durable_from = absl::Now();
  if (point_current) {
    if (auto s = WriteCurrent(root(), loaded->version()); !s.ok()) {
      CD_LOG(WARNING) << "snapshot " << loaded->version()
                      << " serves but a restart would load the previous one: " << s;
    }
  }
  const absl::Duration durable = absl::Now() - durable_from;
  // Health first: once GetQueryStatus names the new version, everything else says so too.
  if (on_installed_) on_installed_(*loaded);
  {
    absl::MutexLock lock(&mu_);
    loaded_at_ms_ = absl::ToUnixMillis(absl::Now());
  }
  holder_->Install(loaded);
  ReleaseFreedMemory();  // the load's buffers, and the previous snapshot once released
  CD_LOG(INFO) << "snapshot swapped version=" << loaded->version()
               << " tracks=" << loaded->size()
               << " load_ms=" << absl::ToInt64Milliseconds(absl::Now() - start)
               << " read_ms=" << absl::ToInt64Milliseconds(read)
               << " current_ms=" << absl::ToInt64Milliseconds(durable)
               << " exact_blocks=" << (replacing ? "ready" : "building");
  return absl::OkStatus();
}

}  // namespace cratedig::query
