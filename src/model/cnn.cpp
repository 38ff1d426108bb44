#include "distopt/model/cnn.hpp"

#include <cmath>
#include <limits>
#include <type_traits>

#include "cnn_kernels.hpp"
#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"
#include "distopt/model/row_chunks.hpp"
#include "softmax_rows.hpp"

namespace distopt {
namespace {

using ConstMap = Eigen::Map<const RowMatrix>;
using MutMap = Eigen::Map<RowMatrix>;

std::string block_name(char kind, std::size_t layer) {
  std::string s(1, kind);
  s += std::to_string(layer);
  return s;
}

/// Rows of a layer's output matrix per image: pixels (convolution, pooling) or 1 (dense).
Index pixels(const CnnShape& s) {
  return s.h * s.w;
}

Index patch_cols(const CnnLayerSpec& l) {
  return l.kernel * l.kernel * l.in.c;
}

}  // namespace

Cnn::Cnn(CnnSpec spec, Regularization reg) : Objective(reg), spec_(std::move(spec)) {
  if (spec_.layers.empty() || spec_.layers.back().kind != CnnLayerKind::kDense) {
    throw Error("Cnn: the spec must end with the dense output layer (use parse_cnn_spec)");
  }
  std::size_t convs = 0, denses = 0;
  Index per_image = 0, max_dcols = 0;
  const std::size_t L = spec_.layers.size();
  weight_block_.assign(L, 0);
  for (std::size_t l = 0; l < L; ++l) {
    const auto& s = spec_.layers[l];
    per_image += 2 * s.output.size();  // activation and its gradient
    if (s.kind == CnnLayerKind::kConv) {
      weight_block_[l] = layout_.blocks().size();
      layout_.add(block_name('C', ++convs), s.out, patch_cols(s));
      layout_.add(block_name('c', convs), s.out);
      per_image += pixels(s.output) * patch_cols(s);
      if (l > 0) max_dcols = std::max(max_dcols, pixels(s.output) * patch_cols(s));
    } else if (s.kind == CnnLayerKind::kDense) {
      weight_block_[l] = layout_.blocks().size();
      layout_.add(block_name('W', ++denses), s.out, s.in.size());
      layout_.add(block_name('b', denses), s.out);
    }
  }
  per_image += max_dcols + spec_.input.size();
  const Index bytes = static_cast<Index>(sizeof(double)) * std::max<Index>(per_image, 1);
  chunk_rows_ = std::clamp<Index>(kCnnScratchBytes / bytes, 1, kCnnMaxChunkRows);
  out_.resize(L);
  dout_.resize(L);
  cols_.resize(L);
  arg_.resize(L);
}

void Cnn::reserve(Index n, bool grad) const {
  for (std::size_t l = 0; l < spec_.layers.size(); ++l) {
    const auto& s = spec_.layers[l];
    chunks::reserve_rows(out_[l], n * s.output.size());
    if (grad) chunks::reserve_rows(dout_[l], n * s.output.size());
    if (s.kind == CnnLayerKind::kConv) {
      chunks::reserve_rows(cols_[l], n * pixels(s.output) * patch_cols(s));
      if (grad && l > 0) chunks::reserve_rows(dcols_, n * pixels(s.output) * patch_cols(s));
    }
    if (s.kind == CnnLayerKind::kMaxPool) {
      const auto m = static_cast<std::size_t>(n * s.output.size());
      if (arg_[l].size() < m) arg_[l].resize(m);
    }
  }
}

void Cnn::forward(const Vector& x, Index n, const double* x0) const {
  const auto& blocks = layout_.blocks();
  const double* in = x0;
  for (std::size_t l = 0; l < spec_.layers.size(); ++l) {
    const auto& s = spec_.layers[l];
    double* out = out_[l].data();
    switch (s.kind) {
      case CnnLayerKind::kConv: {
        const Index m = n * pixels(s.output);
        detail::im2col(s, n, in, cols_[l].data());
        MutMap Y(out, m, s.out);
        Y.noalias() = ConstMap(cols_[l].data(), m, patch_cols(s)) *
                      layout_.block_matrix(x, weight_block_[l]).transpose();
        Y.rowwise() += x.segment(blocks[weight_block_[l] + 1].offset, s.out).transpose();
        break;
      }
      case CnnLayerKind::kDense: {
        MutMap Y(out, n, s.out);
        Y.noalias() =
            ConstMap(in, n, s.in.size()) * layout_.block_matrix(x, weight_block_[l]).transpose();
        Y.rowwise() += x.segment(blocks[weight_block_[l] + 1].offset, s.out).transpose();
        break;
      }
      case CnnLayerKind::kMaxPool:
        detail::max_pool(s, n, in, out, arg_[l]);
        break;
      case CnnLayerKind::kAvgPool:
        detail::avg_pool(s, n, in, out);
        break;
    }
    if (s.relu) {
      auto Y = Eigen::Map<Vector>(out, n * s.output.size());
      Y = Y.cwiseMax(0.0);
    }
    in = out;
  }
}

void Cnn::backward(const Vector& x, Index n, const double* x0, Vector& g) const {
  const auto& blocks = layout_.blocks();
  const std::size_t L = spec_.layers.size();
  for (std::size_t l = L; l-- > 0;) {
    const auto& s = spec_.layers[l];
    // dℓ/d(output of l): the softmax gradient for the last layer (left in out_ by the loss).
    double* d = l + 1 == L ? out_[l].data() : dout_[l].data();
    const Index m = n * s.output.size();
    if (s.relu) {
      // ReLU'(pre-activation) = [output > 0].
      Eigen::Map<Vector>(d, m).array() *=
          (Eigen::Map<const Vector>(out_[l].data(), m).array() > 0.0).template cast<double>();
    }
    const double* in = l == 0 ? x0 : out_[l - 1].data();
    double* din = l == 0 ? nullptr : dout_[l - 1].data();
    const Index in_size = n * s.in.size();
    switch (s.kind) {
      case CnnLayerKind::kConv: {
        const Index rows = n * pixels(s.output);
        const ConstMap D(d, rows, s.out);
        const ConstMap P(cols_[l].data(), rows, patch_cols(s));
        layout_.block_matrix(g, weight_block_[l]).noalias() += D.transpose() * P;
        g.segment(blocks[weight_block_[l] + 1].offset, s.out) += D.colwise().sum().transpose();
        if (din) {
          MutMap dP(dcols_.data(), rows, patch_cols(s));
          dP.noalias() = D * layout_.block_matrix(x, weight_block_[l]);
          Eigen::Map<Vector>(din, in_size).setZero();
          detail::col2im_add(s, n, dcols_.data(), din);
        }
        break;
      }
      case CnnLayerKind::kDense: {
        const ConstMap D(d, n, s.out);
        layout_.block_matrix(g, weight_block_[l]).noalias() +=
            D.transpose() * ConstMap(in, n, s.in.size());
        g.segment(blocks[weight_block_[l] + 1].offset, s.out) += D.colwise().sum().transpose();
        if (din) {
          MutMap(din, n, s.in.size()).noalias() = D * layout_.block_matrix(x, weight_block_[l]);
        }
        break;
      }
      case CnnLayerKind::kMaxPool:
        if (din) {
          Eigen::Map<Vector>(din, in_size).setZero();
          detail::max_pool_backward_add(m, d, arg_[l], din);
        }
        break;
      case CnnLayerKind::kAvgPool:
        if (din) {
          Eigen::Map<Vector>(din, in_size).setZero();
          detail::avg_pool_backward_add(s, n, d, din);
        }
        break;
    }
  }
}

namespace {

/// Calls f(first, n, pointer to n images) per chunk; CSR chunks are made dense in `dense`.
template <class F>
void for_each_image_chunk(const DataBlock& rows, Index chunk, Vector& dense, F&& f) {
  chunks::for_each_chunk(rows, chunk, [&](Index s, const auto& Xc) {
    using XC = std::decay_t<decltype(Xc)>;
    const Index n = Xc.rows();
    if constexpr (std::is_base_of_v<Eigen::SparseMatrixBase<XC>, XC>) {
      chunks::reserve_rows(dense, n * Xc.cols());
      MutMap D(dense.data(), n, Xc.cols());
      D = Xc;
      f(s, n, static_cast<const double*>(dense.data()));
    } else {
      // middleRows of a row-major matrix: n contiguous rows of n_features values.
      f(s, n, Xc.data());
    }
  });
}

}  // namespace

double Cnn::sum_loss(const Vector& x, const DataBlock& rows, Vector* g) const {
  if (rows.cols() != spec_.input.size()) {
    throw Error("Cnn: the rows have " + std::to_string(rows.cols()) + " features, the network " +
                std::to_string(spec_.input.size()));
  }
  reserve(chunks::max_chunk_rows(rows, chunk_rows_), g != nullptr);
  const auto y = rows.labels();
  const auto& last = spec_.layers.back();
  double loss = 0.0;
  for_each_image_chunk(rows, chunk_rows_, dense_x_, [&](Index s, Index n, const double* x0) {
    forward(x, n, x0);
    MutMap Z(out_.back().data(), n, last.out);
    loss += detail::softmax_xent_rows(Z, y.segment(s, n), g != nullptr);
    if (g) backward(x, n, x0, *g);
  });
  return loss;
}

Index Cnn::sum_correct(const Vector& x, const DataBlock& rows) const {
  if (rows.cols() != spec_.input.size()) {
    throw Error("Cnn: the rows have " + std::to_string(rows.cols()) + " features, the network " +
                std::to_string(spec_.input.size()));
  }
  reserve(chunks::max_chunk_rows(rows, chunk_rows_), false);
  const auto y = rows.labels();
  const auto& last = spec_.layers.back();
  Index correct = 0;
  for_each_image_chunk(rows, chunk_rows_, dense_x_, [&](Index s, Index n, const double* x0) {
    forward(x, n, x0);
    correct += detail::argmax_correct(ConstMap(out_.back().data(), n, last.out), y.segment(s, n));
  });
  return correct;
}

double Cnn::smoothness(const DataBlock& /*rows*/) const {
  return std::numeric_limits<double>::infinity();
}

double Cnn::strong_convexity(const DataBlock& /*rows*/) const {
  return 0.0;
}

Vector Cnn::initial_point(std::uint64_t seed) const {
  Vector x = Vector::Zero(dim());
  RandomStream rng(seed, 0, 0, Purpose::kModelInit);
  for (const auto& blk : layout_.blocks()) {
    if (blk.name[0] == 'b' || blk.name[0] == 'c') continue;  // biases start at 0
    // He et al. 2015: Var = 2/fan_in keeps the variance of ReLU activations constant by depth;
    // a kernel's fan-in is its row, K*K*Cin.
    const double sd = std::sqrt(2.0 / static_cast<double>(blk.cols));
    for (Index j = 0; j < blk.size(); ++j) x[blk.offset + j] = sd * rng.normal();
  }
  return x;
}

double Cnn::train_flops(Index rows) const {
  // Per layer with weights: forward GEMM, weight-gradient GEMM, and (not for the first layer,
  // nothing flows into X) the input-gradient GEMM, each of mk multiply-adds per image.
  double total = 0.0;
  for (std::size_t l = 0; l < spec_.layers.size(); ++l) {
    const auto& s = spec_.layers[l];
    double mk = 0.0;
    if (s.kind == CnnLayerKind::kConv) {
      mk = static_cast<double>(pixels(s.output)) * static_cast<double>(s.out) *
           static_cast<double>(patch_cols(s));
    } else if (s.kind == CnnLayerKind::kDense) {
      mk = static_cast<double>(s.out) * static_cast<double>(s.in.size());
    }
    total += (l == 0 ? 2.0 : 3.0) * mk;
  }
  return 2.0 * static_cast<double>(rows) * total;
}

}  // namespace distopt
