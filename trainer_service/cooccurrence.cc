#include "trainer_service/cooccurrence.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "Eigen/Dense"
#include "Eigen/Sparse"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

namespace cratedig::trainer {
namespace {

using SparseMatrix = Eigen::SparseMatrix<double, Eigen::RowMajor>;

// An orthonormal basis of the columns of `y`.
Eigen::MatrixXd Orthonormal(const Eigen::MatrixXd& y) {
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(y);
  return qr.householderQ() * Eigen::MatrixXd::Identity(y.rows(), y.cols());
}

}  // namespace

CooccurrenceEmbedding FitCooccurrence(int64_t items,
                                      const std::vector<std::vector<int64_t>>& playlists,
                                      const CooccurrenceOptions& options) {
  CooccurrenceEmbedding out;
  out.dim = std::max(1, options.dim);
  out.rows.assign(static_cast<size_t>(items) * out.dim, 0.0f);
  out.has.assign(static_cast<size_t>(items), false);

  // Items that co-occur with something get a compact number.
  std::vector<int64_t> compact(static_cast<size_t>(items), -1);
  std::vector<int64_t> original;
  std::vector<Eigen::Triplet<double>> pairs;
  std::vector<int64_t> members;
  for (const std::vector<int64_t>& playlist : playlists) {
    members.clear();
    absl::flat_hash_set<int64_t> seen;
    for (int64_t item : playlist) {
      if (item >= 0 && item < items && seen.insert(item).second) members.push_back(item);
    }
    if (members.size() < 2) continue;
    ++out.playlists;
    for (int64_t item : members) {
      if (compact[item] < 0) {
        compact[item] = static_cast<int64_t>(original.size());
        original.push_back(item);
      }
    }
    const size_t n = members.size();
    const size_t window = options.window > 0 ? static_cast<size_t>(options.window) : n;
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = i + 1; j < n && j <= i + window; ++j) {
        const int64_t a = compact[members[i]];
        const int64_t b = compact[members[j]];
        pairs.emplace_back(a, b, 1.0);
        pairs.emplace_back(b, a, 1.0);
      }
    }
  }
  const int64_t m = static_cast<int64_t>(original.size());
  if (m < 2) return out;

  SparseMatrix counts(m, m);
  counts.setFromTriplets(pairs.begin(), pairs.end());  // Sums repeated pairs.
  pairs.clear();
  pairs.shrink_to_fit();

  // PPMI with the context distribution smoothed (counts^0.75).
  Eigen::VectorXd row_sum = Eigen::VectorXd::Zero(m);
  for (int64_t r = 0; r < m; ++r) {
    for (SparseMatrix::InnerIterator it(counts, r); it; ++it) row_sum(r) += it.value();
  }
  const double total = row_sum.sum();
  Eigen::VectorXd context = row_sum.array().pow(0.75);
  const double context_total = context.sum();
  std::vector<Eigen::Triplet<double>> positive;
  for (int64_t r = 0; r < m; ++r) {
    for (SparseMatrix::InnerIterator it(counts, r); it; ++it) {
      const double p_pair = it.value() / total;
      const double p_row = row_sum(r) / total;
      const double p_context = context(it.col()) / context_total;
      const double pmi = std::log(p_pair / (p_row * p_context));
      if (pmi > 0.0) positive.emplace_back(r, it.col(), pmi);
    }
  }
  SparseMatrix ppmi(m, m);
  ppmi.setFromTriplets(positive.begin(), positive.end());
  positive.clear();
  positive.shrink_to_fit();

  // Randomized truncated SVD: a Gaussian sketch of the range, sharpened by power
  // iterations, then the exact SVD of the small projected matrix.
  const int k = static_cast<int>(std::min<int64_t>(out.dim, m));
  const int sketch = static_cast<int>(std::min<int64_t>(k + 10, m));
  std::mt19937_64 rng(options.seed);
  std::normal_distribution<double> gauss(0.0, 1.0);
  Eigen::MatrixXd omega(m, sketch);
  for (int64_t r = 0; r < m; ++r) {
    for (int c = 0; c < sketch; ++c) omega(r, c) = gauss(rng);
  }
  Eigen::MatrixXd q = Orthonormal(ppmi * omega);
  for (int i = 0; i < options.power_iterations; ++i) {
    q = Orthonormal(ppmi.transpose() * q);
    q = Orthonormal(ppmi * q);
  }
  Eigen::MatrixXd b = q.transpose() * ppmi;  // sketch x m
  Eigen::BDCSVD<Eigen::MatrixXd> svd(b, Eigen::ComputeThinU);
  Eigen::MatrixXd u = q * svd.matrixU().leftCols(k);
  Eigen::VectorXd scale = svd.singularValues().head(k).cwiseSqrt();

  for (int64_t r = 0; r < m; ++r) {
    Eigen::VectorXd v = u.row(r).transpose().cwiseProduct(scale);
    const double norm = v.norm();
    if (!(norm > 0.0)) continue;
    const int64_t item = original[r];
    for (int c = 0; c < k; ++c) {
      out.rows[static_cast<size_t>(item) * out.dim + c] = static_cast<float>(v(c) / norm);
    }
    out.has[item] = true;
    ++out.items;
  }
  return out;
}

}  // namespace cratedig::trainer
