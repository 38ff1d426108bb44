#pragma once
// Convolutional network with ReLU convolutions, max/average pooling, ReLU dense layers and a
// softmax cross-entropy output (--problem `cnn:SPEC`, grammar and presets in cnn_spec.hpp).
//
// A row is one image, H x W x C stored row-major in HWC order (Fashion-MNIST: 28x28x1, pixels row
// by row). A chunk of n rows is therefore already a batch in NHWC, and every activation stays
// NHWC: an (n*H*W) x C row-major matrix whose rows are pixels. A convolution is a GEMM on the
// im2col patch matrix P ((n*Ho*Wo) x (K*K*Cin), columns in (ky, kx, cin) order):
//   Y = relu(P Kᵀ + 1 bᵀ),   dK += dYᵀ P,  db += 1ᵀ dY,  dP = dY K,  dX = col2im(dP);
// a dense layer flattens its NHWC input image by image (n x H*W*C) and is the MLP's layer.
//
// Layout (so PowerSGD sees each kernel as the out x in·k·k matrix of the GEMM): per convolution a
// kernel block C1, C2, ... (out x K*K*Cin, row-major, columns in im2col order) with bias c1, c2,
// ...; per dense layer, the output layer last, W1, W2, ... (units x fan-in) and b1, b2, ....
// Nonconvex: smoothness() is +inf, strong_convexity() 0, no Hessian-vector product.
#include <vector>

#include "distopt/model/cnn_spec.hpp"
#include "distopt/model/objective.hpp"

namespace distopt {

/// The convolutional network above.
class Cnn final : public Objective {
 public:
  /// A network of the parsed and shape-checked `spec` (parse_cnn_spec).
  explicit Cnn(CnnSpec spec, Regularization reg = {});

  /// The --problem spelling, "cnn:lenet5".
  std::string name() const override { return spec_.problem; }
  /// Blocks C1, c1, ..., W1, b1, ... as in the file comment.
  const ParameterLayout& layout() const override { return layout_; }
  /// The layers, output layer included, with their shapes.
  const CnnSpec& spec() const { return spec_; }
  double sum_loss(const Vector& x, const DataBlock& rows, Vector* g) const override;
  Index sum_correct(const Vector& x, const DataBlock& rows) const override;
  double smoothness(const DataBlock& rows) const override;
  double strong_convexity(const DataBlock& rows) const override;
  /// He initialisation (He et al. 2015): every weight ~ N(0, 2/fan_in) with fan_in = K*K*Cin for a
  /// kernel and the input width for a dense layer, biases 0, drawn in layout order from
  /// RandomStream(seed, 0, 0, Purpose::kModelInit).
  Vector initial_point(std::uint64_t seed) const override;

  /// Multiply-adds ×2 of one forward+backward pass over `rows` rows (the GEMMs only: im2col,
  /// pooling and ReLU are not counted): what the benchmark divides by time.
  double train_flops(Index rows) const;

  /// Rows per chunk of the forward/backward pass, fixed by the architecture: as many images as
  /// fit their activations and patch matrices in kCnnScratchBytes, at most kCnnMaxChunkRows.
  Index chunk_rows() const { return chunk_rows_; }
  /// Scratch budget that sets chunk_rows().
  static constexpr Index kCnnScratchBytes = 32 * 1024 * 1024;
  /// Upper bound of chunk_rows().
  static constexpr Index kCnnMaxChunkRows = 512;

 private:
  /// Forward pass over the n images at `x0`; leaves every layer's output in out_[l].
  void forward(const Vector& x, Index n, const double* x0) const;
  /// Backward pass after forward() and the softmax gradient in out_ of the last layer; ADDS the
  /// parameter gradient into g.
  void backward(const Vector& x, Index n, const double* x0, Vector& g) const;
  /// Sizes the scratch for chunks of n rows (grown once, reused).
  void reserve(Index n, bool grad) const;

  CnnSpec spec_;
  ParameterLayout layout_;
  std::vector<std::size_t> weight_block_;  // per layer: its weight block (bias = +1); pools: 0
  Index chunk_rows_ = 1;
  // Per layer: output activations, their gradients, and (convolutions) the patch matrix; per max
  // pool: the winning input of each output. Flat buffers viewed as matrices (scratch).
  mutable std::vector<Vector> out_, dout_, cols_;
  mutable std::vector<std::vector<Index>> arg_;
  mutable Vector dcols_, dense_x_;
};

}  // namespace distopt
