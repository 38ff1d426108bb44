#include "distopt/model/mlp.hpp"

#include <cmath>
#include <limits>

#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"
#include "distopt/model/row_chunks.hpp"
#include "softmax_rows.hpp"

namespace distopt {
namespace {

// Appending (rather than "W" + std::to_string(...)) also avoids a GCC 12 -Wrestrict false positive.
std::string block_name(char kind, std::size_t layer) {
  std::string s(1, kind);
  s += std::to_string(layer);
  return s;
}

}  // namespace

Mlp::Mlp(Index n_features, std::vector<Index> hidden, Index n_classes, Regularization reg)
    : Objective(reg), features_(n_features), classes_(n_classes), hidden_(std::move(hidden)) {
  if (hidden_.empty() || hidden_.size() > 2) throw Error("Mlp: one or two hidden layers");
  Index fan_in = n_features;
  for (std::size_t l = 0; l < hidden_.size(); ++l) {
    if (hidden_[l] <= 0) throw Error("Mlp: hidden layer widths must be positive");
    layout_.add(block_name('W', l + 1), hidden_[l], fan_in);
    layout_.add(block_name('b', l + 1), hidden_[l]);
    fan_in = hidden_[l];
  }
  layout_.add(block_name('W', hidden_.size() + 1), n_classes, fan_in);
  layout_.add(block_name('b', hidden_.size() + 1), n_classes);
  h_.resize(hidden_.size());
  dh_.resize(hidden_.size());
  hf_.resize(hidden_.size());
  dhf_.resize(hidden_.size());
}

std::string Mlp::name() const {
  std::string s = "mlp:";
  s += std::to_string(hidden_[0]);
  if (hidden_.size() > 1) {
    s += ',';
    s += std::to_string(hidden_[1]);
  }
  return s;
}

template <class XC>
void Mlp::forward(const Vector& x, const XC& Xc) const {
  const Index c = Xc.rows();
  const std::size_t L = hidden_.size();
  const auto& blocks = layout_.blocks();
  for (std::size_t l = 0; l < L; ++l) {
    auto H = h_[l].topRows(c);
    const auto W = layout_.block_matrix(x, 2 * l);
    const auto b = x.segment(blocks[2 * l + 1].offset, hidden_[l]);
    if (l == 0) {
      H.noalias() = Xc * W.transpose();
    } else {
      H.noalias() = h_[l - 1].topRows(c) * W.transpose();
    }
    H = (H.rowwise() + b.transpose()).cwiseMax(0.0);  // ReLU
  }
  auto Z = z_.topRows(c);
  Z.noalias() = h_[L - 1].topRows(c) * layout_.block_matrix(x, 2 * L).transpose();
  Z.rowwise() += x.segment(blocks[2 * L + 1].offset, classes_).transpose();
}

double Mlp::sum_loss(const Vector& x, const DataBlock& rows, Vector* g) const {
  if (rows.rows() > 0 && rows.precision() == Precision::kFloat32) return sum_loss_f32(x, rows, g);
  const Index chunk = chunks::max_chunk_rows(rows, kMlpChunkRows);
  const std::size_t L = hidden_.size();
  for (std::size_t l = 0; l < L; ++l) {
    chunks::reserve_rows(h_[l], chunk, hidden_[l]);
    if (g) chunks::reserve_rows(dh_[l], chunk, hidden_[l]);
  }
  chunks::reserve_rows(z_, chunk, classes_);
  const auto& blocks = layout_.blocks();
  const auto y = rows.labels();
  double loss = 0.0;
  chunks::for_each_chunk(rows, kMlpChunkRows, [&](Index s, const auto& Xc) {
    const Index c = Xc.rows();
    forward(x, Xc);
    auto Z = z_.topRows(c);
    loss += detail::softmax_xent_rows(Z, y.segment(s, c), g != nullptr);
    if (!g) return;
    // Output layer: Z holds dℓ/dz = P − Y.
    {
      const auto H = h_[L - 1].topRows(c);
      layout_.block_matrix(*g, 2 * L).noalias() += Z.transpose() * H;
      g->segment(blocks[2 * L + 1].offset, classes_) += Z.colwise().sum().transpose();
      auto D = dh_[L - 1].topRows(c);
      D.noalias() = Z * layout_.block_matrix(x, 2 * L);
      D.array() *= (H.array() > 0.0).template cast<double>();  // ReLU'(pre-activation) = [H > 0]
    }
    // Hidden layers, top down: D_l holds dℓ/d(pre-activation of layer l).
    for (std::size_t l = L; l-- > 0;) {
      const auto D = dh_[l].topRows(c);
      auto G = layout_.block_matrix(*g, 2 * l);
      if (l == 0) {
        G.noalias() += D.transpose() * Xc;
      } else {
        const auto Hprev = h_[l - 1].topRows(c);
        G.noalias() += D.transpose() * Hprev;
        auto Dprev = dh_[l - 1].topRows(c);
        Dprev.noalias() = D * layout_.block_matrix(x, 2 * l);
        Dprev.array() *= (Hprev.array() > 0.0).template cast<double>();
      }
      g->segment(blocks[2 * l + 1].offset, hidden_[l]) += D.colwise().sum().transpose();
    }
  });
  return loss;
}

Index Mlp::sum_correct(const Vector& x, const DataBlock& rows) const {
  if (rows.rows() > 0 && rows.precision() == Precision::kFloat32) return sum_correct_f32(x, rows);
  const Index chunk = chunks::max_chunk_rows(rows, kMlpChunkRows);
  for (std::size_t l = 0; l < hidden_.size(); ++l) chunks::reserve_rows(h_[l], chunk, hidden_[l]);
  chunks::reserve_rows(z_, chunk, classes_);
  const auto y = rows.labels();
  Index correct = 0;
  chunks::for_each_chunk(rows, kMlpChunkRows, [&](Index s, const auto& Xc) {
    forward(x, Xc);
    correct += detail::argmax_correct(z_.topRows(Xc.rows()), y.segment(s, Xc.rows()));
  });
  return correct;
}

Eigen::Map<const RowMatrixF> Mlp::block_f32(const VectorF& v, std::size_t b) const {
  const auto& blk = layout_.blocks().at(b);
  return Eigen::Map<const RowMatrixF>(v.data() + blk.offset, blk.rows, blk.cols);
}

Eigen::Map<RowMatrixF> Mlp::block_f32(VectorF& v, std::size_t b) const {
  const auto& blk = layout_.blocks().at(b);
  return Eigen::Map<RowMatrixF>(v.data() + blk.offset, blk.rows, blk.cols);
}

// The float32 path mirrors the float64 one above operation for operation, on xf_ (x rounded to
// float32 once per call) and the float32 scratch; see the header for what stays float64.
template <class XC>
void Mlp::forward_f32(const XC& Xc) const {
  const Index c = Xc.rows();
  const std::size_t L = hidden_.size();
  const auto& blocks = layout_.blocks();
  for (std::size_t l = 0; l < L; ++l) {
    auto H = hf_[l].topRows(c);
    const auto W = block_f32(xf_, 2 * l);
    const auto b = xf_.segment(blocks[2 * l + 1].offset, hidden_[l]);
    if (l == 0) {
      H.noalias() = Xc * W.transpose();
    } else {
      H.noalias() = hf_[l - 1].topRows(c) * W.transpose();
    }
    H = (H.rowwise() + b.transpose()).cwiseMax(0.0f);  // ReLU
  }
  auto Z = zf_.topRows(c);
  Z.noalias() = hf_[L - 1].topRows(c) * block_f32(xf_, 2 * L).transpose();
  Z.rowwise() += xf_.segment(blocks[2 * L + 1].offset, classes_).transpose();
}

double Mlp::sum_loss_f32(const Vector& x, const DataBlock& rows, Vector* g) const {
  const Index chunk = chunks::max_chunk_rows(rows, kMlpChunkRows);
  const std::size_t L = hidden_.size();
  for (std::size_t l = 0; l < L; ++l) {
    chunks::reserve_rows(hf_[l], chunk, hidden_[l]);
    if (g) chunks::reserve_rows(dhf_[l], chunk, hidden_[l]);
  }
  chunks::reserve_rows(zf_, chunk, classes_);
  xf_ = x.cast<float>();
  if (g) gf_.resize(x.size());
  const auto& blocks = layout_.blocks();
  const auto y = rows.labels();
  double loss = 0.0;
  chunks::for_each_chunk_f32(rows, kMlpChunkRows, [&](Index s, const auto& Xc) {
    const Index c = Xc.rows();
    forward_f32(Xc);
    auto Z = zf_.topRows(c);
    loss += detail::softmax_xent_rows(Z, y.segment(s, c), g != nullptr);
    if (!g) return;
    gf_.setZero();
    {
      const auto H = hf_[L - 1].topRows(c);
      block_f32(gf_, 2 * L).noalias() += Z.transpose() * H;
      gf_.segment(blocks[2 * L + 1].offset, classes_) += Z.colwise().sum().transpose();
      auto D = dhf_[L - 1].topRows(c);
      D.noalias() = Z * block_f32(xf_, 2 * L);
      D.array() *= (H.array() > 0.0f).template cast<float>();
    }
    for (std::size_t l = L; l-- > 0;) {
      const auto D = dhf_[l].topRows(c);
      auto G = block_f32(gf_, 2 * l);
      if (l == 0) {
        G.noalias() += D.transpose() * Xc;
      } else {
        const auto Hprev = hf_[l - 1].topRows(c);
        G.noalias() += D.transpose() * Hprev;
        auto Dprev = dhf_[l - 1].topRows(c);
        Dprev.noalias() = D * block_f32(xf_, 2 * l);
        Dprev.array() *= (Hprev.array() > 0.0f).template cast<float>();
      }
      gf_.segment(blocks[2 * l + 1].offset, hidden_[l]) += D.colwise().sum().transpose();
    }
    // The chunk's float32 gradient joins the float64 sum: no float32 accumulation across chunks.
    *g += gf_.cast<double>();
  });
  return loss;
}

Index Mlp::sum_correct_f32(const Vector& x, const DataBlock& rows) const {
  const Index chunk = chunks::max_chunk_rows(rows, kMlpChunkRows);
  for (std::size_t l = 0; l < hidden_.size(); ++l) chunks::reserve_rows(hf_[l], chunk, hidden_[l]);
  chunks::reserve_rows(zf_, chunk, classes_);
  xf_ = x.cast<float>();
  const auto y = rows.labels();
  Index correct = 0;
  chunks::for_each_chunk_f32(rows, kMlpChunkRows, [&](Index s, const auto& Xc) {
    forward_f32(Xc);
    correct += detail::argmax_correct(zf_.topRows(Xc.rows()), y.segment(s, Xc.rows()));
  });
  return correct;
}

double Mlp::smoothness(const DataBlock& /*rows*/) const {
  return std::numeric_limits<double>::infinity();
}

double Mlp::strong_convexity(const DataBlock& /*rows*/) const {
  return 0.0;
}

Vector Mlp::initial_point(std::uint64_t seed) const {
  Vector x = Vector::Zero(dim());
  RandomStream rng(seed, 0, 0, Purpose::kModelInit);
  for (const auto& blk : layout_.blocks()) {
    if (blk.name[0] == 'b') continue;  // biases start at 0
    // He et al. 2015: Var = 2/fan_in keeps the variance of ReLU activations constant by depth.
    const double sd = std::sqrt(2.0 / static_cast<double>(blk.cols));
    for (Index j = 0; j < blk.size(); ++j) x[blk.offset + j] = sd * rng.normal();
  }
  return x;
}

double Mlp::train_flops(Index rows) const {
  // Forward: one GEMM per layer. Backward: the weight gradient of every layer, and the
  // backpropagated gradient of every layer but the first (nothing flows into X).
  double fwd = 0.0, bwd = 0.0;
  Index fan_in = features_;
  std::vector<Index> widths(hidden_);
  widths.push_back(classes_);
  for (std::size_t l = 0; l < widths.size(); ++l) {
    const double mk = static_cast<double>(widths[l]) * static_cast<double>(fan_in);
    fwd += mk;
    bwd += l == 0 ? mk : 2.0 * mk;
    fan_in = widths[l];
  }
  return 2.0 * static_cast<double>(rows) * (fwd + bwd);
}

}  // namespace distopt
