#include "tests/integration/brute_force.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"

namespace cratedig::subprocess {
namespace {

bool AllZero(const std::vector<float>& v) {
  for (float x : v) {
    if (x != 0.0f) return false;
  }
  return true;
}

double Scale(const v1::ScaledColumn& column, double x) {
  const double range = column.max() - column.min();
  if (!(range > 0.0)) return 0.0;
  return std::clamp((x - column.min()) / range, 0.0, 1.0);
}

// Days since 1970-01-01 of the album's release (missing month and day count as the 1st).
std::optional<int64_t> ReleaseDay(const v1::Track& track) {
  const v1::ReleaseDate& date = track.album().release_date();
  if (date.year() == 0) return std::nullopt;
  const int month = date.month() >= 1 && date.month() <= 12 ? date.month() : 1;
  const int day = date.day() >= 1 && date.day() <= 31 ? date.day() : 1;
  return absl::CivilDay(date.year(), month, day) - absl::CivilDay(1970, 1, 1);
}

}  // namespace

std::optional<double> AudioValue(const v1::AudioFeatures& features,
                                 const std::string& name) {
  const google::protobuf::FieldDescriptor* field =
      v1::AudioFeatures::descriptor()->FindFieldByName(name);
  const google::protobuf::Reflection* reflection = v1::AudioFeatures::GetReflection();
  if (field == nullptr || !reflection->HasField(features, field)) return std::nullopt;
  if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_DOUBLE) {
    return reflection->GetDouble(features, field);
  }
  return reflection->GetInt32(features, field);
}

std::vector<float> Normalized(const std::vector<float>& row) {
  double norm = 0.0;
  for (float x : row) norm += static_cast<double>(x) * x;
  norm = std::sqrt(norm);
  std::vector<float> out(row.size(), 0.0f);
  if (norm == 0.0) return out;
  for (size_t i = 0; i < row.size(); ++i) out[i] = static_cast<float>(row[i] / norm);
  return out;
}

bool BruteForce::HasCompleteAudio(const v1::Track& track) const {
  const v1::Preprocessing& p = snapshot_.manifest().preprocessing();
  for (int i = 0; i + 1 < p.columns_size(); ++i) {
    if (!AudioValue(track.audio_features(), p.columns(i).name())) return false;
  }
  return true;
}

std::vector<float> BruteForce::FeatureRow(const v1::Track& track) const {
  const v1::Preprocessing& p = snapshot_.manifest().preprocessing();
  const int audio = p.columns_size() - 1;  // then recency_days
  std::vector<float> row(p.columns_size() + p.genres_size(), 0.0f);
  for (int i = 0; i < audio; ++i) {
    const v1::ScaledColumn& column = p.columns(i);
    std::optional<double> x = AudioValue(track.audio_features(), column.name());
    row[i] = static_cast<float>(Scale(column, x.value_or(column.fill())));
  }
  const v1::ScaledColumn& recency = p.columns(audio);
  std::optional<int64_t> day = ReleaseDay(track);
  row[audio] = static_cast<float>(Scale(
      recency, day ? static_cast<double>(p.reference_day() - *day) : recency.fill()));
  for (const std::string& genre : track.genres()) {
    auto it = genre_index_.find(genre);
    if (it != genre_index_.end()) row[p.columns_size() + it->second] = 1.0f;
  }
  return row;
}

BruteForce::BruteForce(const query::Snapshot& snapshot) : snapshot_(snapshot) {
  const v1::Preprocessing& p = snapshot.manifest().preprocessing();
  for (int i = 0; i < p.genres_size(); ++i) genre_index_[p.genres(i)] = i;
  for (int64_t i = 0; i < snapshot.size(); ++i) {
    if (snapshot.representative(i) == i) {
      absl::StatusOr<std::vector<float>> v =
          snapshot.embedder().Embed(snapshot.track(i).name());
      if (v.ok() && !AllZero(*v)) {
        text_labels_.push_back(i);
        text_rows_.insert(text_rows_.end(), v->begin(), v->end());
      }
    }
    if (snapshot.recommendable(i)) {
      std::vector<float> v = Normalized(FeatureRow(snapshot.track(i)));
      audio_labels_.push_back(i);
      audio_rows_.insert(audio_rows_.end(), v.begin(), v.end());
    }
  }
}

absl::StatusOr<std::vector<Neighbor>> BruteForce::RankForSearch(
    const std::string& query) const {
  absl::StatusOr<std::vector<float>> v = snapshot_.embedder().Embed(query);
  if (!v.ok()) return v.status();
  if (AllZero(*v)) return absl::InvalidArgumentError("the query has no letter or digit");
  return ExactSearch(v->data(), text_rows_, snapshot_.embedder().dim(),
                     static_cast<int>(text_labels_.size()), nullptr, &text_labels_);
}

absl::StatusOr<std::vector<Neighbor>> BruteForce::RankForRecommend(
    const std::vector<int64_t>& playlist) const {
  const int dim = snapshot_.audio_index().dim();
  std::vector<double> sum(dim, 0.0);
  absl::flat_hash_set<int64_t> excluded;
  int used = 0;
  for (int64_t p : playlist) {
    excluded.insert(snapshot_.representative(p));
    if (!HasCompleteAudio(snapshot_.track(p))) continue;
    std::vector<float> row = FeatureRow(snapshot_.track(p));
    for (int d = 0; d < dim; ++d) sum[d] += row[d];
    ++used;
  }
  if (used == 0)
    return absl::FailedPreconditionError("no playlist track has audio features");
  std::vector<float> mean(sum.begin(), sum.end());
  if (!NormalizeInPlace(&mean)) return absl::FailedPreconditionError("zero mean vector");
  return ExactSearch(
      mean.data(), audio_rows_, dim, static_cast<int>(audio_labels_.size()),
      [&excluded](int64_t label) { return !excluded.contains(label); }, &audio_labels_);
}

std::string CompareWithExact(const std::vector<Returned>& returned,
                             const std::vector<Neighbor>& exact, int k, float tolerance) {
  const size_t want = std::min(static_cast<size_t>(k), exact.size());
  if (returned.size() != want) {
    return absl::StrCat("returned ", returned.size(), " results, expected ", want);
  }
  absl::flat_hash_map<int64_t, float> exact_distance;
  for (const Neighbor& n : exact) exact_distance[n.label] = n.distance;
  absl::flat_hash_set<int64_t> seen;
  for (size_t i = 0; i < want; ++i) {
    const Returned& r = returned[i];
    const std::string at = absl::StrCat("rank ", i, " (position ", r.position, "): ");
    if (!seen.insert(r.position).second) return at + "returned twice";
    auto it = exact_distance.find(r.position);
    if (it == exact_distance.end()) return at + "not an eligible result";
    if (std::fabs(r.distance - exact[i].distance) > tolerance) {
      return absl::StrCat(at, "distance ", r.distance, ", exact rank ", i, " has ",
                          exact[i].distance, " (position ", exact[i].label, ")");
    }
    if (std::fabs(it->second - exact[i].distance) > tolerance) {
      return absl::StrCat(at, "its exact distance is ", it->second, ", but rank ", i,
                          " is position ", exact[i].label, " at ", exact[i].distance);
    }
  }
  return "";
}

}  // namespace cratedig::subprocess
