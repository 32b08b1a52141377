#include "ingest_service/decompress.h"

#include <lzma.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace cratedig::ingest {
namespace {

constexpr size_t kInputBufferSize = 1 << 16;

absl::Status OpenError(const std::string& path) {
  int err = errno;
  std::string message = absl::StrCat("cannot open '", path, "': ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  if (err == EACCES) return absl::PermissionDeniedError(message);
  return absl::FailedPreconditionError(message);
}

// Closes a FILE* on destruction.
struct FileCloser {
  void operator()(FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

class PlainSource : public ByteSource {
 public:
  PlainSource(std::string path, FilePtr file)
      : path_(std::move(path)), file_(std::move(file)) {}
  absl::StatusOr<size_t> Read(char* buffer, size_t size) override {
    size_t n = std::fread(buffer, 1, size, file_.get());
    if (n == 0 && std::ferror(file_.get())) {
      return absl::DataLossError(absl::StrCat("cannot read '", path_, "'"));
    }
    return n;
  }

 private:
  std::string path_;
  FilePtr file_;
};

class GzipSource : public ByteSource {
 public:
  GzipSource(std::string path, gzFile file) : path_(std::move(path)), file_(file) {}
  ~GzipSource() override { gzclose(file_); }
  absl::StatusOr<size_t> Read(char* buffer, size_t size) override {
    int n = gzread(file_, buffer, static_cast<unsigned>(size));
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(file_, &code);
      return absl::DataLossError(
          absl::StrCat("cannot decompress gzip file '", path_, "': ", message));
    }
    return static_cast<size_t>(n);
  }

 private:
  std::string path_;
  gzFile file_;
};

class XzSource : public ByteSource {
 public:
  XzSource(std::string path, FilePtr file)
      : path_(std::move(path)), file_(std::move(file)), input_(kInputBufferSize) {}
  ~XzSource() override { lzma_end(&stream_); }

  absl::Status Init() {
    lzma_ret ret = lzma_stream_decoder(&stream_, UINT64_MAX, LZMA_CONCATENATED);
    if (ret != LZMA_OK) {
      return absl::InternalError(absl::StrCat("cannot start xz decoder (", ret, ")"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> Read(char* buffer, size_t size) override {
    if (finished_) return 0;
    stream_.next_out = reinterpret_cast<uint8_t*>(buffer);
    stream_.avail_out = size;
    while (stream_.avail_out == size) {
      lzma_action action = LZMA_RUN;
      if (stream_.avail_in == 0 && !input_done_) {
        stream_.next_in = input_.data();
        stream_.avail_in = std::fread(input_.data(), 1, input_.size(), file_.get());
        if (std::ferror(file_.get())) return Corrupt("read error");
        if (stream_.avail_in == 0) input_done_ = true;
      }
      if (input_done_) action = LZMA_FINISH;
      lzma_ret ret = lzma_code(&stream_, action);
      if (ret == LZMA_STREAM_END) {
        finished_ = true;
        break;
      }
      if (ret != LZMA_OK) return Corrupt(absl::StrCat("liblzma error ", ret));
      if (input_done_ && stream_.avail_out == size) return Corrupt("truncated data");
    }
    return size - stream_.avail_out;
  }

 private:
  absl::Status Corrupt(const std::string& why) const {
    return absl::DataLossError(
        absl::StrCat("cannot decompress xz file '", path_, "': ", why));
  }

  std::string path_;
  FilePtr file_;
  std::vector<uint8_t> input_;
  lzma_stream stream_ = LZMA_STREAM_INIT;
  bool input_done_ = false;
  bool finished_ = false;
};

enum class Compression { kNone, kGzip, kXz };

Compression Sniff(FILE* file) {
  unsigned char magic[6] = {0};
  size_t n = std::fread(magic, 1, sizeof(magic), file);
  std::rewind(file);
  if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) return Compression::kGzip;
  static constexpr unsigned char kXzMagic[6] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
  if (n == 6 && std::memcmp(magic, kXzMagic, 6) == 0) return Compression::kXz;
  return Compression::kNone;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ByteSource>> OpenByteSource(const std::string& path) {
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) return OpenError(path);
  switch (Sniff(file.get())) {
    case Compression::kNone:
      return std::make_unique<PlainSource>(path, std::move(file));
    case Compression::kGzip: {
      file.reset();
      gzFile gz = gzopen(path.c_str(), "rb");
      if (gz == nullptr) return OpenError(path);
      gzbuffer(gz, kInputBufferSize);
      return std::make_unique<GzipSource>(path, gz);
    }
    case Compression::kXz: {
      auto source = std::make_unique<XzSource>(path, std::move(file));
      absl::Status status = source->Init();
      if (!status.ok()) return status;
      return source;
    }
  }
  return absl::InternalError("unreachable");
}

}  // namespace cratedig::ingest
