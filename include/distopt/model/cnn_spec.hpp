#pragma once
// The architecture of a convolutional network, parsed from `--problem cnn:SPEC`.
//
// Grammar (items separated by commas, in order from input to output; the softmax output layer of
// C classes is always appended):
//   in=HxWxC | in=HxW     input image shape (default: a square single-channel image,
//                         n_features = H*H); rows are images stored row-major in HWC order
//   cNkK[sS][pP]          convolution: N output channels, KxK kernel, stride S (1), zero padding
//                         P (0) on every side, then ReLU; written c6k5p2
//   maxK[sS] | avgK[sS]   max / average pooling over KxK windows, stride S (default K), no padding
//   fN                    dense layer of N units, then ReLU (flattens an image input in HWC order)
//   lenet5 | fedavg       presets, expanded in place (see cnn_preset_layers)
// Output sizes follow floor((H + 2P − K)/S) + 1 (as in PyTorch and Caffe); a layer whose window
// does not fit in its input (an empty output) is an error, so is a padding P >= K, a convolution
// or pooling after a dense layer, and an input shape whose H*W*C differs from n_features.
#include <string>
#include <vector>

#include "distopt/core/types.hpp"

namespace distopt {

/// Shape of one image (or of a dense activation: 1 x 1 x width), stored HWC.
struct CnnShape {
  Index h = 1;  ///< height
  Index w = 1;  ///< width
  Index c = 1;  ///< channels
  /// Values per image, h*w*c.
  Index size() const { return h * w * c; }
};

/// What a layer does.
enum class CnnLayerKind { kConv, kMaxPool, kAvgPool, kDense };

/// One layer of the spec, with the shapes the model derives for it.
struct CnnLayerSpec {
  CnnLayerKind kind = CnnLayerKind::kDense;  ///< convolution, pooling or dense
  Index out = 0;     ///< output channels (convolution) or units (dense); 0 for pooling
  Index kernel = 1;  ///< window side K (convolution, pooling)
  Index stride = 1;  ///< window step S
  Index pad = 0;     ///< zero padding P on each side (convolution only)
  bool relu = true;  ///< ReLU after the layer (convolution and hidden dense; not the output)
  CnnShape in;       ///< input shape (set by parse_cnn_spec)
  CnnShape output;   ///< output shape (set by parse_cnn_spec)
};

/// A parsed and shape-checked network: input shape and layers, the output layer included.
struct CnnSpec {
  std::string problem;               ///< the --problem spelling, "cnn:lenet5"
  CnnShape input;                    ///< shape of one input row
  std::vector<CnnLayerSpec> layers;  ///< input to output, the dense output layer last
};

/// The layers of a preset, comma-separated, as the grammar above spells them; empty when `name`
/// is no preset. lenet5: LeNet-5 (LeCun et al. 1998) with ReLU and max pooling,
/// c6k5p2,max2,c16k5,max2,f120,f84; fedavg: the CNN of McMahan et al. 2017 (FedAvg) with 'same'
/// padding as in their TensorFlow code, c32k5p2,max2,c64k5p2,max2,f512.
std::string cnn_preset_layers(const std::string& name);

/// Parses `arg` (the text after "cnn:") of the spec `problem` for data of n_features columns and
/// n_classes classes, derives every shape and appends the dense output layer. Throws
/// ConfigError("problem", ...) naming the item or layer that is wrong.
CnnSpec parse_cnn_spec(const std::string& problem, const std::string& arg, Index n_features,
                       Index n_classes);

}  // namespace distopt
