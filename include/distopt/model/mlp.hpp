#pragma once
// Multilayer perceptron with one or two ReLU hidden layers and a softmax cross-entropy output:
//   H1 = relu(X W1ᵀ + 1 b1ᵀ),  [H2 = relu(H1 W2ᵀ + 1 b2ᵀ)],  Z = H Woutᵀ + 1 boutᵀ,
//   ℓ = logsumexp(z) − z_y per row.
// Layout (so PowerSGD sees the matrices): W1 (h1×d), b1, W2 (h2×h1 or C×h1), b2, [W3 (C×h2), b3].
// Forward and backward are GEMMs over the whole batch (in chunks of kMlpChunkRows rows, which
// bounds the activation scratch when a full dataset is evaluated):
//   dZ = P − Y,  G_out += dZᵀ H,  dH = (dZ Wout) ⊙ [H > 0],  G_1 += dH1ᵀ X,  biases: column sums.
// Nonconvex: smoothness() is +inf, strong_convexity() 0, no Hessian-vector product.
//
// Precision follows the data (--precision, model/precision.hpp). On float64 rows everything is
// float64. On float32 rows (Dataset::precision() == kFloat32) these are float32: the copy of the
// weights and biases made once per sum_loss/sum_correct call, the activations, logits, softmax
// probabilities and backpropagated gradients, every GEMM, and each chunk's gradient (summed in
// float32 over the ≤ kMlpChunkRows rows of one chunk). Float64 stay: x and the returned gradient g
// (each chunk's float32 gradient is widened and added into g), the loss (logsumexp of each row in
// double from float32 logits, summed in double), and everything the methods do with x and g.
#include <vector>

#include "distopt/model/objective.hpp"

namespace distopt {

/// The multilayer perceptron above (--problem `mlp:<h1>[,<h2>]`).
class Mlp final : public Objective {
 public:
  /// hidden: one or two positive layer widths (Error otherwise).
  Mlp(Index n_features, std::vector<Index> hidden, Index n_classes, Regularization reg = {});

  /// `mlp:<h1>` or `mlp:<h1>,<h2>`.
  std::string name() const override;
  /// Blocks W1, b1, W2, b2[, W3, b3] as in the file comment.
  const ParameterLayout& layout() const override { return layout_; }
  /// The hidden layer widths.
  const std::vector<Index>& hidden() const { return hidden_; }
  /// Number of classes C of the output layer.
  Index n_classes() const { return classes_; }
  double sum_loss(const Vector& x, const DataBlock& rows, Vector* g) const override;
  Index sum_correct(const Vector& x, const DataBlock& rows) const override;
  double smoothness(const DataBlock& rows) const override;
  double strong_convexity(const DataBlock& rows) const override;
  /// He initialisation (He et al. 2015): every weight ~ N(0, 2/fan_in), biases 0, drawn in layout
  /// order from RandomStream(seed, 0, 0, Purpose::kModelInit).
  Vector initial_point(std::uint64_t seed) const override;

  /// Multiply-adds ×2 of one forward+backward pass over `rows` rows (the GEMMs only): what the
  /// benchmark divides by time.
  double train_flops(Index rows) const;

  /// Rows per chunk of the forward/backward GEMMs (bounds the activation scratch).
  static constexpr Index kMlpChunkRows = 512;

 private:
  /// Forward pass over one chunk; leaves activations in h_[l] and logits in z_.
  template <class XC>
  void forward(const Vector& x, const XC& Xc) const;
  /// The same in float32 with the weights xf_ (already converted), into hf_ and zf_.
  template <class XC>
  void forward_f32(const XC& Xc) const;
  /// sum_loss and sum_correct on float32 rows (see the file comment).
  double sum_loss_f32(const Vector& x, const DataBlock& rows, Vector* g) const;
  Index sum_correct_f32(const Vector& x, const DataBlock& rows) const;
  /// Read-only / writable float32 views of block b of a float32 parameter vector.
  Eigen::Map<const RowMatrixF> block_f32(const VectorF& v, std::size_t b) const;
  Eigen::Map<RowMatrixF> block_f32(VectorF& v, std::size_t b) const;

  ParameterLayout layout_;
  Index features_, classes_;
  std::vector<Index> hidden_;
  // Per-layer activations H_l and their backpropagated gradients (chunk rows × width), and the
  // logits; row-major, grown on first use and reused (scratch).
  mutable std::vector<RowMatrix> h_, dh_;
  mutable RowMatrix z_;
  // The float32 path's scratch: weights, one chunk's gradient, activations and logits.
  mutable VectorF xf_, gf_;
  mutable std::vector<RowMatrixF> hf_, dhf_;
  mutable RowMatrixF zf_;
};

}  // namespace distopt
