#include "ingest_service/decompress.h"

#include <lzma.h>
#include <zlib.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest_service/catalog_reader.h"
#include "ingest_service/test_util_internal.h"

namespace cratedig::ingest {
namespace {

using testing::CatalogFixture;
using ::testing::HasSubstr;
using testing::ReadWholeFile;
using testing::WriteTempFile;

// gzip in memory: deflate with a gzip wrapper (windowBits 15 + 16).
std::string GzipCompress(const std::string& data) {
  z_stream z = {};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string XzCompress(const std::string& data) {
  std::string out(lzma_stream_buffer_bound(data.size()), '\0');
  size_t out_pos = 0;
  lzma_ret ret = lzma_easy_buffer_encode(
      6, LZMA_CHECK_CRC64, nullptr, reinterpret_cast<const uint8_t*>(data.data()),
      data.size(), reinterpret_cast<uint8_t*>(out.data()), &out_pos, out.size());
  EXPECT_EQ(ret, LZMA_OK);
  out.resize(out_pos);
  return out;
}

absl::StatusOr<std::string> ReadThrough(const std::string& path, size_t buffer_size) {
  absl::StatusOr<std::unique_ptr<ByteSource>> source = OpenByteSource(path);
  if (!source.ok()) return source.status();
  std::string out;
  std::string buffer(buffer_size, '\0');
  for (;;) {
    absl::StatusOr<size_t> n = (*source)->Read(buffer.data(), buffer.size());
    if (!n.ok()) return n.status();
    if (*n == 0) return out;
    out.append(buffer.data(), *n);
  }
}

// Bigger than every internal buffer, so that refills happen.
std::string LargeText() {
  std::string text;
  for (int i = 0; i < 40000; ++i)
    text += "line " + std::to_string(i) + ",\xF0\x9F\x8E\xB5\n";
  return text;
}

TEST(DecompressTest, ReadsPlainGzipAndXzIdentically) {
  const std::string text = LargeText();
  std::string plain = WriteTempFile("large.csv", text);
  std::string gz = WriteTempFile("large.csv.gz", GzipCompress(text));
  std::string xz = WriteTempFile("large.csv.xz", XzCompress(text));
  for (const std::string& path : {plain, gz, xz}) {
    for (size_t buffer : {size_t{1000}, size_t{1} << 16}) {
      absl::StatusOr<std::string> got = ReadThrough(path, buffer);
      ASSERT_TRUE(got.ok()) << path << ": " << got.status();
      EXPECT_EQ(*got, text) << path;
    }
  }
}

TEST(DecompressTest, DetectsCompressionByContentNotName) {
  std::string xz_named_csv = WriteTempFile("really_xz.csv", XzCompress("a,b\n"));
  EXPECT_EQ(*ReadThrough(xz_named_csv, 100), "a,b\n");
}

TEST(DecompressTest, MissingFileIsNotFound) {
  absl::StatusOr<std::unique_ptr<ByteSource>> source =
      OpenByteSource("/nonexistent/x.csv");
  EXPECT_EQ(source.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(source.status().message(), HasSubstr("/nonexistent/x.csv"));
}

TEST(DecompressTest, TruncatedXzIsDataLoss) {
  std::string xz = XzCompress(LargeText());
  std::string path = WriteTempFile("truncated.csv.xz", xz.substr(0, xz.size() / 2));
  absl::StatusOr<std::string> got = ReadThrough(path, 1 << 16);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(got.status().message(), HasSubstr("truncated.csv.xz"));
}

TEST(DecompressTest, CorruptXzIsDataLoss) {
  std::string xz = XzCompress(LargeText());
  for (size_t i = 100; i < 200; ++i) xz[i] = static_cast<char>(xz[i] ^ 0x5a);
  absl::StatusOr<std::string> got =
      ReadThrough(WriteTempFile("corrupt.csv.xz", xz), 4096);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
}

TEST(DecompressTest, CorruptGzipIsDataLoss) {
  std::string gz = GzipCompress(LargeText());
  for (size_t i = 100; i < 200; ++i) gz[i] = static_cast<char>(gz[i] ^ 0x5a);
  absl::StatusOr<std::string> got =
      ReadThrough(WriteTempFile("corrupt.csv.gz", gz), 4096);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
}

// Reads every row of a catalog, returning the tracks' ids and the errors' lines.
std::vector<std::string> Summarize(const std::string& path) {
  absl::StatusOr<std::unique_ptr<CatalogReader>> reader = CatalogReader::Open(path);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return {};
  std::vector<std::string> out;
  CatalogRow row;
  while (*(*reader)->Next(&row)) {
    out.push_back(row.kind == CatalogRow::Kind::kTrack
                      ? row.track.ShortDebugString()
                      : "error line " + std::to_string(row.error.line()));
  }
  return out;
}

TEST(DecompressTest, CatalogReaderReadsCompressedFixturesLikePlainOnes) {
  const std::string text = ReadWholeFile(CatalogFixture("maharshipandya_tracks.csv"));
  ASSERT_FALSE(text.empty());
  std::vector<std::string> expected =
      Summarize(CatalogFixture("maharshipandya_tracks.csv"));
  ASSERT_EQ(expected.size(), 9u);
  EXPECT_EQ(Summarize(WriteTempFile("m.csv.gz", GzipCompress(text))), expected);
  EXPECT_EQ(Summarize(WriteTempFile("m.csv.xz", XzCompress(text))), expected);
}

}  // namespace
}  // namespace cratedig::ingest
