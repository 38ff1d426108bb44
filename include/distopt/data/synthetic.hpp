#pragma once
// Synthetic data whose every row is a pure function of (seed, sample id): rows are produced by
// counter-based streams RandomStream(seed, sample or client, step, Purpose::kData), so any row,
// any client, on any rank, in any order, is the same. Spec strings (option "data"):
//
//   synthetic:fedprox[:alpha=1,beta=1,dim=60,classes=10,clients=K,test=F,seed=S,
//                      size_mu=4,size_sigma=2,size_min=50,size_max=0]
//     Synthetic(α,β) of FedProx (Li et al., arXiv 1812.06127, §5.1), following the reference
//     generator: per client k, u_k ~ N(0, α²) and B_k ~ N(0, β²) (α, β are standard deviations
//     there, as in the reference code), W_k (classes×dim) and b_k with entries ~ N(u_k, 1),
//     v_k with entries ~ N(B_k, 1), x ~ N(v_k, Σ) with Σ_jj = j^-1.2 (j = 1..dim),
//     y = argmax(W_k x + b_k) (= argmax of the softmax). Client sizes as the reference:
//     n_k = size_min + floor(exp(N(size_mu, size_sigma²))) (lognormal(4, 2) + 50), capped at
//     size_max if > 0. Each client's last round(test·n_k) samples are its test samples. Rows are
//     stored client by client, and the client of a row is its natural owner. clients defaults to
//     the number of agents when one is known, else 30.
//   synthetic:least-squares[:n=1000,dim=20,noise=0.1,test=F,seed=S]
//     a ~ N(0, I), x* ~ N(0, I) (planted, shared), y = a·x* + noise·N(0,1).
//   synthetic:logistic[:n=1000,dim=20,scale=3,test=F,seed=S]
//     a ~ N(0, I), w* = scale·z/√dim with z ~ N(0, I), y = +1 with probability σ(a·w*), else
//     -1: labels drawn from the planted model (not its sign), so the data are not separable and
//     the logistic loss has a finite minimiser.
//   For least-squares and logistic, n counts all samples; the last round(test·n) are the test
//   set. test defaults to the caller's test fraction; seed defaults to the run's seed.
// The kinds come from one table, synthetic_registry(), which user code can extend.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "distopt/core/registry.hpp"
#include "distopt/data/dataset.hpp"
#include "distopt/data/spec_args.hpp"

namespace distopt {

/// A generator of synthetic rows, each a pure function of (seed, row or client); see above.
class SyntheticGenerator {
 public:
  virtual ~SyntheticGenerator() = default;
  /// The spec with every default filled in (recorded as provenance).
  virtual std::string describe() const = 0;
  /// What the labels mean.
  virtual Task task() const = 0;
  /// Number of features of every row.
  virtual Index n_features() const = 0;
  /// Number of classes (1 for regression, 2 for binary).
  virtual Index n_classes() const = 0;
  /// Number of rows of a split.
  virtual Index rows(Split s) const = 0;
  /// The listed rows (strictly increasing) of a split.
  virtual Dataset generate(Split s, std::span<const Index> rows) const = 0;
  /// All labels of a split (generates the rows in blocks, keeping only the labels).
  virtual Vector labels(Split s) const;
  /// Training rows' own client ids (empty when the generator has no client structure).
  virtual std::vector<Index> natural_owner() const { return {}; }
  /// Every row of a split: generate() with the list 0..rows(s)-1.
  Dataset generate_all(Split s) const;
};

/// Defaults taken from the run when the spec does not set them.
struct SyntheticDefaults {
  std::uint64_t seed = 0;      ///< seed= default (the run's --seed)
  double test_fraction = 0.2;  ///< test= default (the run's --test-fraction)
  Index clients = 0;  ///< clients= default (the run's --agents); 0: the generator's own default
  std::uint64_t max_memory = 0;  ///< --max-memory (memory_budget.hpp): bounds dim=, n=, clients=
};

/// Builds a generator from the spec's key=value parameters (`params`: read each key with its
/// default, then call params.finish() so a misspelt key is an error) and the run's defaults.
/// Errors are ConfigError("data", ...), e.g. through params.fail().
using SyntheticFactory =
    std::function<std::unique_ptr<SyntheticGenerator>(SpecArgs& params, const SyntheticDefaults&)>;
/// The registry type of the synthetic kinds.
using SyntheticRegistry = Registry<SyntheticFactory>;

/// The `synthetic:<kind>` registry: fedprox, least-squares, logistic (in that order), then the
/// entries user code added. Errors name the option "data".
SyntheticRegistry& synthetic_registry();

/// Builds the generator of `spec`, the whole string `synthetic:<kind>[:k=v,...]`; the kind is
/// looked up in synthetic_registry(). ConfigError("data", ...) naming an unknown kind, an unknown
/// key or a bad value.
std::unique_ptr<SyntheticGenerator> make_synthetic(const std::string& spec,
                                                   const SyntheticDefaults& defaults);

}  // namespace distopt
