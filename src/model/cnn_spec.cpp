// Parsing and shape checking of `--problem cnn:SPEC` (grammar in cnn_spec.hpp).
#include "distopt/model/cnn_spec.hpp"

#include <charconv>
#include <cmath>

#include "distopt/core/error.hpp"

namespace distopt {
namespace {

constexpr const char* kKey = "problem";
// Any count beyond this is a typo, not a network (and keeps every product below in range).
constexpr Index kMaxCount = 100'000;

std::string shape_text(const CnnShape& s) {
  return std::to_string(s.h) + "x" + std::to_string(s.w) + "x" + std::to_string(s.c);
}

/// Reads a decimal integer at s[pos...] (advancing pos); -1 when there are no digits.
Index read_int(const std::string& s, std::size_t& pos) {
  Index v = 0;
  const auto* begin = s.data() + pos;
  const auto [p, ec] = std::from_chars(begin, s.data() + s.size(), v);
  if (p == begin || ec != std::errc() || (begin[0] < '0' || begin[0] > '9')) return -1;
  pos = static_cast<std::size_t>(p - s.data());
  return v;
}

class Parser {
 public:
  Parser(const std::string& problem) : problem_(problem) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw ConfigError(kKey, "'" + problem_ + "': " + what);
  }

  /// A count in [lo, kMaxCount] at item[pos...] for the field `field` of `item`.
  Index count(const std::string& item, std::size_t& pos, Index lo, const char* field) const {
    const Index v = read_int(item, pos);
    if (v < lo || v > kMaxCount) {
      fail("'" + item + "': " + field + " must be an integer in " + std::to_string(lo) + ".." +
           std::to_string(kMaxCount));
    }
    return v;
  }

  /// One layer item: cNkK[sS][pP], maxK[sS], avgK[sS] or fN.
  CnnLayerSpec layer(const std::string& item) const {
    CnnLayerSpec l;
    std::size_t pos = 0;
    const auto done = [&] {
      if (item.empty() || pos != item.size()) {
        fail("'" + item +
             "' is not a layer (expected cNkK[sS][pP], maxK[sS], avgK[sS], fN, lenet5 or fedavg)");
      }
    };
    const auto starts = [&](const char* p) { return item.rfind(p, 0) == 0; };
    if (starts("max") || starts("avg")) {
      l.kind = starts("max") ? CnnLayerKind::kMaxPool : CnnLayerKind::kAvgPool;
      l.relu = false;
      pos = 3;
      l.kernel = count(item, pos, 1, "the window");
      l.stride = l.kernel;
      if (pos < item.size() && item[pos] == 's') l.stride = count(item, ++pos, 1, "the stride");
    } else if (starts("c")) {
      l.kind = CnnLayerKind::kConv;
      pos = 1;
      l.out = count(item, pos, 1, "the channel count");
      if (pos >= item.size() || item[pos] != 'k') fail("'" + item + "': give the kernel, cNkK");
      l.kernel = count(item, ++pos, 1, "the kernel");
      if (pos < item.size() && item[pos] == 's') l.stride = count(item, ++pos, 1, "the stride");
      if (pos < item.size() && item[pos] == 'p') l.pad = count(item, ++pos, 0, "the padding");
    } else if (starts("f")) {
      l.kind = CnnLayerKind::kDense;
      pos = 1;
      l.out = count(item, pos, 1, "the width");
    }
    done();
    return l;
  }

  /// in=HxWxC or in=HxW.
  CnnShape input(const std::string& item) const {
    CnnShape s;
    std::size_t pos = 3;
    s.h = count(item, pos, 1, "the height");
    if (pos >= item.size() || item[pos] != 'x') fail("'" + item + "': expected in=HxWxC");
    s.w = count(item, ++pos, 1, "the width");
    if (pos < item.size() && item[pos] == 'x') s.c = count(item, ++pos, 1, "the channels");
    if (pos != item.size()) fail("'" + item + "': expected in=HxWxC");
    return s;
  }

 private:
  const std::string& problem_;
};

std::vector<std::string> split_items(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t start = 0;;) {
    const auto comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? comma : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::string cnn_preset_layers(const std::string& name) {
  if (name == "lenet5") return "c6k5p2,max2,c16k5,max2,f120,f84";
  if (name == "fedavg") return "c32k5p2,max2,c64k5p2,max2,f512";
  return {};
}

CnnSpec parse_cnn_spec(const std::string& problem, const std::string& arg, Index n_features,
                       Index n_classes) {
  const Parser p(problem);
  if (arg.empty()) {
    p.fail("give the layers or a preset, cnn:lenet5, cnn:fedavg or e.g. cnn:c6k5p2,max2,f84");
  }
  CnnSpec spec;
  spec.problem = problem;
  bool have_input = false;
  std::vector<CnnLayerSpec> layers;
  for (const auto& item : split_items(arg)) {
    if (item.rfind("in=", 0) == 0) {
      if (have_input) p.fail("the input shape is given twice");
      spec.input = p.input(item);
      have_input = true;
    } else if (const auto preset = cnn_preset_layers(item); !preset.empty()) {
      for (const auto& sub : split_items(preset)) layers.push_back(p.layer(sub));
    } else {
      layers.push_back(p.layer(item));
    }
  }
  if (layers.empty()) p.fail("no layers (only an input shape)");
  if (have_input) {
    if (spec.input.h > kMaxCount / spec.input.w ||
        spec.input.h * spec.input.w > kMaxCount * 100 / spec.input.c ||
        spec.input.size() != n_features) {
      p.fail("input shape " + shape_text(spec.input) + " does not match the data's " +
             std::to_string(n_features) + " features");
    }
  } else {
    const auto side = static_cast<Index>(std::llround(std::sqrt(static_cast<double>(n_features))));
    if (side * side != n_features) {
      p.fail("the data's " + std::to_string(n_features) +
             " features are no square single-channel image; give the shape, in=HxWxC");
    }
    spec.input = {side, side, 1};
  }
  if (n_classes < 2) p.fail("needs at least 2 classes");
  CnnLayerSpec output;
  output.kind = CnnLayerKind::kDense;
  output.out = n_classes;
  output.relu = false;
  layers.push_back(output);

  // Shapes, layer by layer; every size stays below kMaxCount^2 per image so products fit Index.
  CnnShape s = spec.input;
  bool flat = false;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    auto& l = layers[i];
    const std::string where = "layer " + std::to_string(i + 1) + " (input " + shape_text(s) + ")";
    l.in = s;
    if (l.kind == CnnLayerKind::kDense) {
      l.output = {1, 1, l.out};
      flat = true;
    } else {
      if (flat) p.fail(where + ": convolution or pooling after a dense layer");
      if (l.pad >= l.kernel) p.fail(where + ": padding must be smaller than the kernel");
      const Index hp = s.h + 2 * l.pad, wp = s.w + 2 * l.pad;
      if (hp < l.kernel || wp < l.kernel) {
        p.fail(where + ": a " + std::to_string(l.kernel) + "x" + std::to_string(l.kernel) +
               " window leaves an empty output");
      }
      l.output.h = (hp - l.kernel) / l.stride + 1;
      l.output.w = (wp - l.kernel) / l.stride + 1;
      l.output.c = l.kind == CnnLayerKind::kConv ? l.out : s.c;
    }
    if (l.output.h * l.output.w > kMaxCount * 100 / l.output.c) {
      p.fail(where + ": output " + shape_text(l.output) + " is too large");
    }
    // Weights of the layer (in doubles, as k*k*c may not fit before the check).
    const double fan_in = l.kind == CnnLayerKind::kDense
                              ? static_cast<double>(s.size())
                              : static_cast<double>(l.kernel) * static_cast<double>(l.kernel) *
                                    static_cast<double>(s.c);
    if (l.kind != CnnLayerKind::kMaxPool && l.kind != CnnLayerKind::kAvgPool &&
        fan_in * static_cast<double>(l.out) > 5e8) {
      p.fail(where + ": more than 5e8 weights");
    }
    s = l.output;
  }
  spec.layers = std::move(layers);
  return spec;
}

}  // namespace distopt
