#pragma once
// Private kernels of the CNN (model/cnn.hpp) on a chunk of n images stored NHWC (image after
// image, each row-major H x W with the C channels of a pixel adjacent): im2col and its adjoint
// col2im for convolution as a GEMM, and max/average pooling with their adjoints. Templated on the
// scalar so that a float32 model can share them.
//
// im2col: row (i, oy, ox) of the patch matrix holds the K x K x C window of output pixel (oy, ox)
// of image i in (ky, kx, c) order, zeros where the window covers padding. A convolution is then
// Y = P Kᵀ with the kernel block K (out x K*K*C, same column order), Y in NHWC.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "distopt/core/types.hpp"
#include "distopt/model/cnn_spec.hpp"

namespace distopt::detail {

/// The window columns of output column `ox` that fall inside the image: kx in [lo, hi).
inline void window_cols(const CnnLayerSpec& l, Index ox, Index& x0, Index& lo, Index& hi) {
  x0 = ox * l.stride - l.pad;
  lo = std::clamp<Index>(-x0, 0, l.kernel);
  hi = std::clamp<Index>(l.in.w - x0, lo, l.kernel);
}

/// Patch matrix `cols` ((n*Ho*Wo) x (K*K*C), row-major) of the n images at `x` for layer `l`.
/// Each kernel row (fixed ky) reads K*C consecutive input values (clipped at the image border),
/// so it is one short contiguous copy, not K copies of C values.
template <class T>
void im2col(const CnnLayerSpec& l, Index n, const T* x, T* cols) {
  const CnnShape& in = l.in;
  const Index Ho = l.output.h, Wo = l.output.w, K = l.kernel, C = in.c;
  const Index KC = K * C, row_len = K * KC;
  for (Index i = 0; i < n; ++i) {
    const T* img = x + i * in.size();
    for (Index oy = 0; oy < Ho; ++oy) {
      for (Index ox = 0; ox < Wo; ++ox) {
        T* dst = cols + ((i * Ho + oy) * Wo + ox) * row_len;
        Index x0, lo, hi;
        window_cols(l, ox, x0, lo, hi);
        for (Index ky = 0; ky < K; ++ky, dst += KC) {
          const Index iy = oy * l.stride - l.pad + ky;
          if (iy < 0 || iy >= in.h) {
            for (Index t = 0; t < KC; ++t) dst[t] = T(0);
            continue;
          }
          // The first in-image pixel (x0 + lo >= 0: no pointer before the image is formed).
          const T* src = img + (iy * in.w + x0 + lo) * C;
          for (Index t = 0; t < lo * C; ++t) dst[t] = T(0);
          for (Index t = lo * C; t < hi * C; ++t) dst[t] = src[t - lo * C];
          for (Index t = hi * C; t < KC; ++t) dst[t] = T(0);
        }
      }
    }
  }
}

/// The adjoint of im2col: ADDS every entry of the patch gradient `dcols` into the image gradient
/// `dx` at the pixel it was copied from (padding entries are dropped).
template <class T>
void col2im_add(const CnnLayerSpec& l, Index n, const T* dcols, T* dx) {
  const CnnShape& in = l.in;
  const Index Ho = l.output.h, Wo = l.output.w, K = l.kernel, C = in.c;
  const Index KC = K * C, row_len = K * KC;
  for (Index i = 0; i < n; ++i) {
    T* img = dx + i * in.size();
    for (Index oy = 0; oy < Ho; ++oy) {
      for (Index ox = 0; ox < Wo; ++ox) {
        const T* src = dcols + ((i * Ho + oy) * Wo + ox) * row_len;
        Index x0, lo, hi;
        window_cols(l, ox, x0, lo, hi);
        for (Index ky = 0; ky < K; ++ky, src += KC) {
          const Index iy = oy * l.stride - l.pad + ky;
          if (iy < 0 || iy >= in.h) continue;
          T* d = img + (iy * in.w + x0 + lo) * C;
          for (Index t = lo * C; t < hi * C; ++t) d[t - lo * C] += src[t];
        }
      }
    }
  }
}

/// Max pooling of the n images at `x` into `y`; `arg[j]` receives the offset (within the chunk)
/// of the input that won output j. Ties go to the first window entry in (ky, kx) order (strict >),
/// so the gradient of equal inputs always flows to the same one.
template <class T>
void max_pool(const CnnLayerSpec& l, Index n, const T* x, T* y, std::vector<Index>& arg) {
  const CnnShape& in = l.in;
  const Index Ho = l.output.h, Wo = l.output.w, K = l.kernel, C = in.c;
  for (Index i = 0; i < n; ++i) {
    const Index base = i * in.size();
    for (Index oy = 0; oy < Ho; ++oy) {
      for (Index ox = 0; ox < Wo; ++ox) {
        const Index o = ((i * Ho + oy) * Wo + ox) * C;
        T* yo = y + o;
        Index* ao = arg.data() + o;
        const Index first = base + (oy * l.stride * in.w + ox * l.stride) * C;
        for (Index c = 0; c < C; ++c) {
          yo[c] = x[first + c];
          ao[c] = first + c;
        }
        for (Index ky = 0; ky < K; ++ky) {
          for (Index kx = 0; kx < K; ++kx) {
            const Index p = base + ((oy * l.stride + ky) * in.w + ox * l.stride + kx) * C;
            for (Index c = 0; c < C; ++c) {
              if (x[p + c] > yo[c]) {
                yo[c] = x[p + c];
                ao[c] = p + c;
              }
            }
          }
        }
      }
    }
  }
}

/// Adjoint of max_pool: dx[arg[j]] += dy[j] for the m outputs of the chunk.
template <class T>
void max_pool_backward_add(Index m, const T* dy, const std::vector<Index>& arg, T* dx) {
  for (Index j = 0; j < m; ++j) dx[arg[static_cast<std::size_t>(j)]] += dy[j];
}

/// Average pooling (every window has K*K inputs: pooling takes no padding).
template <class T>
void avg_pool(const CnnLayerSpec& l, Index n, const T* x, T* y) {
  const CnnShape& in = l.in;
  const Index Ho = l.output.h, Wo = l.output.w, K = l.kernel, C = in.c;
  const T scale = T(1) / static_cast<T>(K * K);
  for (Index i = 0; i < n; ++i) {
    const T* img = x + i * in.size();
    for (Index oy = 0; oy < Ho; ++oy) {
      for (Index ox = 0; ox < Wo; ++ox) {
        T* yo = y + ((i * Ho + oy) * Wo + ox) * C;
        std::fill(yo, yo + C, T(0));
        for (Index ky = 0; ky < K; ++ky) {
          for (Index kx = 0; kx < K; ++kx) {
            const T* p = img + ((oy * l.stride + ky) * in.w + ox * l.stride + kx) * C;
            for (Index c = 0; c < C; ++c) yo[c] += p[c];
          }
        }
        for (Index c = 0; c < C; ++c) yo[c] *= scale;
      }
    }
  }
}

/// Adjoint of avg_pool: every input of a window receives dy / (K*K).
template <class T>
void avg_pool_backward_add(const CnnLayerSpec& l, Index n, const T* dy, T* dx) {
  const CnnShape& in = l.in;
  const Index Ho = l.output.h, Wo = l.output.w, K = l.kernel, C = in.c;
  const T scale = T(1) / static_cast<T>(K * K);
  for (Index i = 0; i < n; ++i) {
    T* img = dx + i * in.size();
    for (Index oy = 0; oy < Ho; ++oy) {
      for (Index ox = 0; ox < Wo; ++ox) {
        const T* d = dy + ((i * Ho + oy) * Wo + ox) * C;
        for (Index ky = 0; ky < K; ++ky) {
          for (Index kx = 0; kx < K; ++kx) {
            T* p = img + ((oy * l.stride + ky) * in.w + ox * l.stride + kx) * C;
            for (Index c = 0; c < C; ++c) p[c] += scale * d[c];
          }
        }
      }
    }
  }
}

}  // namespace distopt::detail
