#include "common/features.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "Eigen/Dense"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"

namespace cratedig {
namespace {

constexpr char kRecencyColumn[] = "recency_days";

// One audio column: its name and how to read it from the proto.
struct AudioColumn {
  std::string name;
  std::function<bool(const v1::AudioFeatures&)> has;
  std::function<double(const v1::AudioFeatures&)> get;
};

template <typename T>
AudioColumn Column(const char* name, bool (v1::AudioFeatures::*has)() const,
                   T (v1::AudioFeatures::*get)() const) {
  return {name, [has](const v1::AudioFeatures& a) { return (a.*has)(); },
          [get](const v1::AudioFeatures& a) { return static_cast<double>((a.*get)()); }};
}

// The prototype's columns, in its order (which is the vector order).
const std::vector<AudioColumn>& AudioColumnTable() {
  using A = v1::AudioFeatures;
  static const auto* const table = new std::vector<AudioColumn>{
      Column("danceability", &A::has_danceability, &A::danceability),
      Column("key", &A::has_key, &A::key),
      Column("loudness", &A::has_loudness, &A::loudness),
      Column("mode", &A::has_mode, &A::mode),
      Column("speechiness", &A::has_speechiness, &A::speechiness),
      Column("acousticness", &A::has_acousticness, &A::acousticness),
      Column("instrumentalness", &A::has_instrumentalness, &A::instrumentalness),
      Column("liveness", &A::has_liveness, &A::liveness),
      Column("tempo", &A::has_tempo, &A::tempo),
  };
  return *table;
}

v1::ScaledColumn FitColumn(const std::string& name, const std::vector<double>& values) {
  v1::ScaledColumn column;
  column.set_name(name);
  if (values.empty()) return column;  // min = max = fill = 0: the column scales to 0.
  double sum = 0.0;
  double lo = values.front();
  double hi = values.front();
  for (double v : values) {
    sum += v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  column.set_min(lo);
  column.set_max(hi);
  column.set_fill(sum / static_cast<double>(values.size()));
  return column;
}

// Clamped so that tracks outside the fitted range (say, released after the snapshot)
// still give vectors in the same box as the training rows.
double Scale(const v1::ScaledColumn& column, double x) {
  const double range = column.max() - column.min();
  if (!(range > 0.0)) return 0.0;
  return std::clamp((x - column.min()) / range, 0.0, 1.0);
}

// Genres held by at least `share` of the tracks (each counted once per track), by name.
std::vector<std::string> KeptGenres(const std::vector<const v1::Track*>& tracks,
                                    double share) {
  absl::flat_hash_map<std::string, int64_t> counts;
  for (const v1::Track* track : tracks) {
    if (track == nullptr) continue;
    absl::flat_hash_set<std::string> seen;
    for (const std::string& genre : track->genres()) {
      if (!genre.empty() && seen.insert(genre).second) ++counts[genre];
    }
  }
  const double cut = share * static_cast<double>(tracks.size());
  std::vector<std::string> kept;
  for (const auto& [genre, count] : counts) {
    if (static_cast<double>(count) >= cut) kept.push_back(genre);
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

absl::Status ValidateColumn(const v1::ScaledColumn& column, const std::string& want) {
  if (column.name() != want) {
    return absl::InvalidArgumentError(absl::StrCat(
        "preprocessing column '", column.name(), "', expected '", want, "'"));
  }
  if (!std::isfinite(column.min()) || !std::isfinite(column.max()) ||
      !std::isfinite(column.fill()) || column.min() > column.max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("preprocessing column '", want, "' has invalid min/max/fill"));
  }
  return absl::OkStatus();
}

absl::Status ValidateGenres(const v1::Preprocessing& p) {
  absl::flat_hash_set<std::string> seen;
  for (const std::string& genre : p.genres()) {
    if (genre.empty() || !seen.insert(genre).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("preprocessing genre '", genre, "' is empty or repeated"));
    }
  }
  if (!std::isfinite(p.min_genre_share()) || p.min_genre_share() < 0.0 ||
      p.min_genre_share() > 1.0) {
    return absl::InvalidArgumentError("preprocessing min_genre_share is not in [0, 1]");
  }
  return absl::OkStatus();
}

// Normalised in double: the float row must not depend on summation rounding.
std::vector<float> UnitRow(const std::vector<double>& row) {
  double norm = 0.0;
  for (double x : row) norm += x * x;
  norm = std::sqrt(norm);
  std::vector<float> out(row.size(), 0.0f);
  if (norm == 0.0) return out;
  for (size_t i = 0; i < row.size(); ++i) out[i] = static_cast<float>(row[i] / norm);
  return out;
}

// A low-rank genre embedding: the positive pointwise mutual information of two genres
// being held by the same track, factorised by its top eigenvectors (scaled by the square
// root of their eigenvalues). Genres that share tracks end up near each other, so a track
// labelled "dance pop" is close to one labelled "pop" instead of orthogonal to it.
std::vector<float> FitGenreEmbedding(const std::vector<const v1::Track*>& tracks,
                                     const absl::flat_hash_map<std::string, int>& index,
                                     int dim) {
  const int g = static_cast<int>(index.size());
  if (g == 0 || dim <= 0) return {};
  Eigen::MatrixXd counts = Eigen::MatrixXd::Zero(g, g);
  std::vector<int> held;
  for (const v1::Track* track : tracks) {
    held.clear();
    for (const std::string& genre : track->genres()) {
      auto it = index.find(genre);
      if (it != index.end() &&
          std::find(held.begin(), held.end(), it->second) == held.end()) {
        held.push_back(it->second);
      }
    }
    for (int a : held) {
      for (int b : held) counts(a, b) += 1.0;
    }
  }
  const double total = counts.sum();
  Eigen::VectorXd marginal = counts.rowwise().sum();
  Eigen::MatrixXd ppmi = Eigen::MatrixXd::Zero(g, g);
  for (int a = 0; a < g; ++a) {
    for (int b = 0; b < g; ++b) {
      if (counts(a, b) <= 0.0) continue;
      const double pmi = std::log(counts(a, b) * total / (marginal(a) * marginal(b)));
      ppmi(a, b) = std::max(0.0, pmi);
    }
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(ppmi);
  const int width = std::min(dim, g);
  std::vector<float> rows(static_cast<size_t>(g) * dim, 0.0f);
  // Eigenvalues come in increasing order: take the largest `width`.
  for (int c = 0; c < width; ++c) {
    const int e = g - 1 - c;
    const double scale = std::sqrt(std::max(0.0, solver.eigenvalues()(e)));
    for (int a = 0; a < g; ++a) {
      rows[static_cast<size_t>(a) * dim + c] =
          static_cast<float>(solver.eigenvectors()(a, e) * scale);
    }
  }
  return rows;
}

}  // namespace

const char* GenreRepresentationName(GenreRepresentation r) {
  switch (r) {
    case GenreRepresentation::kOneHot:
      return "onehot";
    case GenreRepresentation::kWeightedOneHot:
      return "weighted_onehot";
    case GenreRepresentation::kEmbedding:
      return "embedding";
  }
  return "onehot";
}

absl::StatusOr<GenreRepresentation> ParseGenreRepresentation(absl::string_view name) {
  if (name.empty() || name == "onehot") return GenreRepresentation::kOneHot;
  if (name == "weighted_onehot") return GenreRepresentation::kWeightedOneHot;
  if (name == "embedding") return GenreRepresentation::kEmbedding;
  return absl::InvalidArgumentError(
      absl::StrCat("genre representation '", name,
                   "' is not one of onehot, weighted_onehot, embedding"));
}

const std::vector<std::string>& FeatureModel::AudioColumns() {
  static const auto* const names = [] {
    auto* out = new std::vector<std::string>();
    for (const AudioColumn& column : AudioColumnTable()) out->push_back(column.name);
    return out;
  }();
  return *names;
}

FeatureModel FeatureModel::Fit(const std::vector<const v1::Track*>& tracks,
                               double min_genre_share) {
  FeatureOptions options;
  options.min_genre_share = min_genre_share;
  return Fit(tracks, options);
}

FeatureModel FeatureModel::Fit(const std::vector<const v1::Track*>& tracks,
                               const FeatureOptions& options) {
  const double min_genre_share = options.min_genre_share;
  std::vector<const v1::Track*> complete;
  std::optional<int64_t> newest;
  for (const v1::Track* track : tracks) {
    if (track == nullptr) continue;
    if (HasCompleteAudio(*track)) complete.push_back(track);
    const std::optional<int64_t> day = ReleaseDayIfKnown(*track);
    if (day.has_value()) newest = std::max(newest.value_or(*day), *day);
  }

  FeatureModel model;
  model.min_genre_share_ = min_genre_share;
  model.reference_day_ = newest.value_or(0);
  for (const AudioColumn& column : AudioColumnTable()) {
    std::vector<double> values;
    values.reserve(complete.size());
    for (const v1::Track* track : complete)
      values.push_back(column.get(track->audio_features()));
    model.columns_.push_back(FitColumn(column.name, values));
  }
  std::vector<double> recency;
  for (const v1::Track* track : complete) {
    const std::optional<int64_t> day = ReleaseDayIfKnown(*track);
    if (day.has_value())
      recency.push_back(static_cast<double>(model.reference_day_ - *day));
  }
  model.columns_.push_back(FitColumn(kRecencyColumn, recency));
  model.genres_ = KeptGenres(tracks, min_genre_share);
  model.IndexGenres();
  model.weights_ = options.weights;
  if (model.weights_.has_value()) {
    model.representation_ = options.genres;
    if (model.weights_->popularity() > 0.0) {
      std::vector<double> popularity;
      for (const v1::Track* track : complete) {
        if (track->has_popularity()) popularity.push_back(track->popularity());
      }
      model.popularity_ = FitColumn("popularity", popularity);
    }
    if (model.representation_ == GenreRepresentation::kEmbedding) {
      std::vector<const v1::Track*> valid;
      for (const v1::Track* track : tracks) {
        if (track != nullptr) valid.push_back(track);
      }
      model.genre_dim_ = std::max(1, options.genre_dim);
      model.genre_embedding_ =
          FitGenreEmbedding(valid, model.genre_index_, model.genre_dim_);
    }
  }
  return model;
}

absl::StatusOr<FeatureModel> FeatureModel::FromProto(const v1::Preprocessing& p) {
  const std::vector<std::string>& audio = AudioColumns();
  if (p.columns_size() != static_cast<int>(audio.size()) + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "preprocessing has ", p.columns_size(), " columns, expected ", audio.size() + 1));
  }
  for (size_t i = 0; i <= audio.size(); ++i) {
    const std::string want = i < audio.size() ? audio[i] : kRecencyColumn;
    if (absl::Status s = ValidateColumn(p.columns(static_cast<int>(i)), want); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = ValidateGenres(p); !s.ok()) return s;
  auto representation = ParseGenreRepresentation(p.genre_representation());
  if (!representation.ok()) return representation.status();
  if (*representation == GenreRepresentation::kEmbedding &&
      (p.genre_dim() <= 0 || p.genre_embedding_size() !=
                                 static_cast<int64_t>(p.genres_size()) * p.genre_dim())) {
    return absl::InvalidArgumentError(
        "preprocessing genre_embedding is not genres x genre_dim");
  }
  if (*representation != GenreRepresentation::kOneHot && !p.has_weights()) {
    return absl::InvalidArgumentError(
        "preprocessing genre_representation other than onehot needs weights");
  }
  if (p.has_weights() && p.weights().popularity() > 0.0) {
    if (absl::Status s = ValidateColumn(p.popularity(), "popularity"); !s.ok()) return s;
  }

  FeatureModel model;
  if (p.has_weights()) {
    model.weights_ = p.weights();
    model.representation_ = *representation;
    if (p.weights().popularity() > 0.0) model.popularity_ = p.popularity();
    if (model.representation_ == GenreRepresentation::kEmbedding) {
      model.genre_dim_ = p.genre_dim();
      model.genre_embedding_.assign(p.genre_embedding().begin(),
                                    p.genre_embedding().end());
    }
  }
  model.columns_.assign(p.columns().begin(), p.columns().end());
  model.genres_.assign(p.genres().begin(), p.genres().end());
  model.min_genre_share_ = p.min_genre_share();
  model.reference_day_ = p.reference_day();
  model.IndexGenres();
  return model;
}

void FeatureModel::ToProto(v1::Preprocessing* p) const {
  p->clear_columns();
  for (const v1::ScaledColumn& column : columns_) *p->add_columns() = column;
  p->clear_genres();
  for (const std::string& genre : genres_) p->add_genres(genre);
  p->set_min_genre_share(min_genre_share_);
  p->set_reference_day(reference_day_);
  p->clear_weights();
  p->clear_genre_representation();
  p->clear_genre_dim();
  p->clear_genre_embedding();
  p->clear_popularity();
  if (!weights_.has_value()) return;
  *p->mutable_weights() = *weights_;
  p->set_genre_representation(GenreRepresentationName(representation_));
  if (popularity_.has_value()) *p->mutable_popularity() = *popularity_;
  if (representation_ == GenreRepresentation::kEmbedding) {
    p->set_genre_dim(genre_dim_);
    *p->mutable_genre_embedding() = {genre_embedding_.begin(), genre_embedding_.end()};
  }
}

int FeatureModel::genre_width() const {
  return representation_ == GenreRepresentation::kEmbedding
             ? genre_dim_
             : static_cast<int>(genres_.size());
}

std::pair<int, int> FeatureModel::OneHotGenreColumns() const {
  if (representation_ == GenreRepresentation::kEmbedding) return {0, 0};
  return {dim() - genre_width(), dim()};
}

int FeatureModel::dim() const {
  return static_cast<int>(columns_.size()) + (popularity_.has_value() ? 1 : 0) +
         genre_width();
}

bool FeatureModel::HasCompleteAudio(const v1::Track& track) {
  if (!track.has_audio_features()) return false;
  for (const AudioColumn& column : AudioColumnTable()) {
    if (!column.has(track.audio_features())) return false;
  }
  return true;
}

std::vector<float> FeatureModel::Transform(const v1::Track& track) const {
  return UnitRow(ScaledRow(track));
}

std::vector<float> FeatureModel::TransformRaw(const v1::Track& track) const {
  const std::vector<double> row = ScaledRow(track);
  return std::vector<float>(row.begin(), row.end());
}

std::vector<double> FeatureModel::ScaledRow(const v1::Track& track) const {
  std::vector<double> row(dim(), 0.0);
  const std::vector<AudioColumn>& audio = AudioColumnTable();
  if (columns_.size() != audio.size() + 1) return row;
  for (size_t i = 0; i < audio.size(); ++i) {
    // Missing values take the fill so that the function is total; callers only send
    // complete tracks.
    const bool has = audio[i].has(track.audio_features());
    const double raw = has ? audio[i].get(track.audio_features()) : columns_[i].fill();
    row[i] = Scale(columns_[i], raw);
  }
  const v1::ScaledColumn& recency = columns_.back();
  const std::optional<int64_t> day = ReleaseDayIfKnown(track);
  row[audio.size()] =
      Scale(recency, day.has_value() ? static_cast<double>(reference_day_ - *day)
                                     : recency.fill());
  size_t genre_start = columns_.size();
  if (popularity_.has_value()) {
    row[genre_start] = Scale(*popularity_, track.has_popularity()
                                               ? static_cast<double>(track.popularity())
                                               : popularity_->fill());
    ++genre_start;
  }
  FillGenres(track, row.data() + genre_start);
  if (!weights_.has_value()) return row;

  // Weighted groups: centre the numeric columns on their mean, give the audio block at
  // most unit length, and weigh each group.
  const double audio_scale =
      weights_->audio() / std::sqrt(static_cast<double>(audio.size()));
  for (size_t i = 0; i < audio.size(); ++i) {
    row[i] = (row[i] - Scale(columns_[i], columns_[i].fill())) * audio_scale;
  }
  row[audio.size()] =
      (row[audio.size()] - Scale(recency, recency.fill())) * weights_->recency();
  if (popularity_.has_value()) {
    row[columns_.size()] =
        (row[columns_.size()] - Scale(*popularity_, popularity_->fill())) *
        weights_->popularity();
  }
  for (int g = 0; g < genre_width(); ++g) row[genre_start + g] *= weights_->genre();
  return row;
}

void FeatureModel::FillGenres(const v1::Track& track, double* block) const {
  std::vector<int> held;
  for (const std::string& genre : track.genres()) {
    auto it = genre_index_.find(genre);
    if (it != genre_index_.end() &&
        std::find(held.begin(), held.end(), it->second) == held.end()) {
      held.push_back(it->second);
    }
  }
  if (held.empty()) return;
  switch (representation_) {
    case GenreRepresentation::kOneHot:
      for (int g : held) block[g] = 1.0;
      return;
    case GenreRepresentation::kWeightedOneHot: {
      const double value = 1.0 / std::sqrt(static_cast<double>(held.size()));
      for (int g : held) block[g] = value;
      return;
    }
    case GenreRepresentation::kEmbedding: {
      double norm = 0.0;
      for (int c = 0; c < genre_dim_; ++c) {
        double sum = 0.0;
        for (int g : held)
          sum += genre_embedding_[static_cast<size_t>(g) * genre_dim_ + c];
        block[c] = sum;
        norm += sum * sum;
      }
      norm = std::sqrt(norm);
      if (norm > 0.0) {
        for (int c = 0; c < genre_dim_; ++c) block[c] /= norm;
      }
      return;
    }
  }
}

void FeatureModel::IndexGenres() {
  genre_index_.clear();
  for (size_t i = 0; i < genres_.size(); ++i) {
    genre_index_[genres_[i]] = static_cast<int>(i);
  }
}

std::optional<int64_t> ReleaseDayIfKnown(const v1::Track& track) {
  if (!track.has_album() || !track.album().has_release_date()) return std::nullopt;
  const v1::ReleaseDate& date = track.album().release_date();
  if (date.year() == 0) return std::nullopt;
  // Year- or month-precision dates count from the first day of the period.
  const int month = date.month() >= 1 && date.month() <= 12 ? date.month() : 1;
  const int day = date.day() >= 1 && date.day() <= 31 ? date.day() : 1;
  return absl::CivilDay(date.year(), month, day) - absl::CivilDay(1970, 1, 1);
}

int64_t ReleaseDay(const v1::Track& track) {
  return ReleaseDayIfKnown(track).value_or(-1);
}

}  // namespace cratedig
