#include "distopt/data/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "distopt/core/error.hpp"
#include "distopt/core/random.hpp"
#include "distopt/data/memory_budget.hpp"
#include "distopt/data/spec_args.hpp"

namespace distopt {

namespace {

// Stream keys. Samples and clients use their id as the agent key; quantities shared by the
// whole dataset use an id no sample can have.
constexpr std::uint64_t kShared = ~std::uint64_t{0};
constexpr std::uint64_t kStepModel = 0;   // (kShared, 0): planted model
constexpr std::uint64_t kStepSizes = 1;   // (kShared, 1): client sizes
constexpr std::uint64_t kStepClient = 0;  // (client, 0): client parameters; (client, 1+j): sample j

std::string fmt(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

Index split_test(Index n, double test) { return static_cast<Index>(std::llround(test * static_cast<double>(n))); }

}  // namespace

Vector SyntheticGenerator::labels(Split s) const {
  const Index n = rows(s);
  Vector y(n);
  constexpr Index kBlock = 4096;
  std::vector<Index> idx;
  for (Index b = 0; b < n; b += kBlock) {
    const Index e = std::min(n, b + kBlock);
    idx.resize(static_cast<std::size_t>(e - b));
    for (Index i = b; i < e; ++i) idx[static_cast<std::size_t>(i - b)] = i;
    y.segment(b, e - b) = generate(s, idx).labels();
  }
  return y;
}

Dataset SyntheticGenerator::generate_all(Split s) const {
  std::vector<Index> idx(static_cast<std::size_t>(rows(s)));
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<Index>(i);
  return generate(s, idx);
}

namespace {

/// Sizes in a spec are bounded like sizes read from files (memory_budget.hpp): the generators
/// allocate their planted model and per-row or per-client tables when they are built.
void check_fits(const SpecArgs& a, const std::string& what, std::uint64_t count, std::uint64_t each,
                std::uint64_t max_memory) {
  if (auto excess = memory_excess(what, count, each, max_memory)) {
    a.fail(*excess);
  }
}

/// Least squares and logistic: i.i.d. Gaussian rows and a planted linear model.
class LinearGenerator : public SyntheticGenerator {
 public:
  LinearGenerator(bool logistic, SpecArgs& a, const SyntheticDefaults& d) : logistic_(logistic) {
    n_ = a.integer("n", 1000, 2);
    dim_ = a.integer("dim", 20, 1);
    if (logistic_) {
      scale_ = a.number_in("scale", 3.0, 0.0, HUGE_VAL);
    } else {
      noise_ = a.number_in("noise", 0.1, 0.0, HUGE_VAL);
    }
    test_ = a.number_in("test", d.test_fraction, 0.0, 1.0, false, true);
    seed_ = static_cast<std::uint64_t>(a.integer("seed", static_cast<std::int64_t>(d.seed), 0));
    a.finish();
    check_fits(a, "dim=" + std::to_string(dim_) + " (a float64 model)",
               static_cast<std::uint64_t>(dim_), sizeof(double), d.max_memory);
    check_fits(a, "n=" + std::to_string(n_) + " (8 bytes per row)", static_cast<std::uint64_t>(n_),
               sizeof(double), d.max_memory);
    n_test_ = split_test(n_, test_);
    if (n_ - n_test_ < 1) a.fail("test=" + fmt(test_) + " leaves no training sample");
    RandomStream rs(seed_, kShared, kStepModel, Purpose::kData);
    model_.resize(dim_);
    for (Index j = 0; j < dim_; ++j) model_[j] = rs.normal();
    if (logistic_) model_ *= scale_ / std::sqrt(static_cast<double>(dim_));
  }

  std::string describe() const override {
    std::string s = std::string("synthetic:") + (logistic_ ? "logistic" : "least-squares") +
                    ":n=" + std::to_string(n_) + ",dim=" + std::to_string(dim_);
    s += logistic_ ? ",scale=" + fmt(scale_) : ",noise=" + fmt(noise_);
    return s + ",test=" + fmt(test_) + ",seed=" + std::to_string(seed_);
  }
  Task task() const override { return logistic_ ? Task::kBinary : Task::kRegression; }
  Index n_features() const override { return dim_; }
  Index n_classes() const override { return logistic_ ? 2 : 1; }
  Index rows(Split s) const override { return s == Split::kTrain ? n_ - n_test_ : n_test_; }

  Dataset generate(Split s, std::span<const Index> rows) const override {
    const Index k = static_cast<Index>(rows.size());
    const Index offset = s == Split::kTrain ? 0 : n_ - n_test_;
    RowMatrix X(k, dim_);
    Vector y(k);
    for (Index i = 0; i < k; ++i) {
      const Index r = rows[static_cast<std::size_t>(i)];
      if (r < 0 || r >= this->rows(s)) throw std::out_of_range("synthetic: row out of range");
      RandomStream rs(seed_, static_cast<std::uint64_t>(offset + r), 1, Purpose::kData);
      for (Index j = 0; j < dim_; ++j) X(i, j) = rs.normal();
      const double z = X.row(i).dot(model_);
      if (logistic_) {
        y[i] = rs.uniform() < 1.0 / (1.0 + std::exp(-z)) ? 1.0 : -1.0;
      } else {
        y[i] = z + noise_ * rs.normal();
      }
    }
    return Dataset(std::move(X), std::move(y), task(), n_classes());
  }

 private:
  bool logistic_;
  Index n_ = 0, dim_ = 0, n_test_ = 0;
  double noise_ = 0, scale_ = 0, test_ = 0;
  std::uint64_t seed_ = 0;
  Vector model_;
};

/// FedProx's Synthetic(α, β).
class FedProxGenerator : public SyntheticGenerator {
 public:
  FedProxGenerator(SpecArgs& a, const SyntheticDefaults& d) {
    alpha_ = a.number_in("alpha", 1.0, 0.0, HUGE_VAL);
    beta_ = a.number_in("beta", 1.0, 0.0, HUGE_VAL);
    dim_ = a.integer("dim", 60, 1);
    classes_ = a.integer("classes", 10, 2);
    clients_ = a.integer("clients", d.clients > 0 ? d.clients : 30, 1);
    test_ = a.number_in("test", d.test_fraction, 0.0, 1.0, false, true);
    seed_ = static_cast<std::uint64_t>(a.integer("seed", static_cast<std::int64_t>(d.seed), 0));
    size_mu_ = a.number("size_mu", 4.0);
    size_sigma_ = a.number_in("size_sigma", 2.0, 0.0, HUGE_VAL);
    size_min_ = a.integer("size_min", 50, 1);
    size_max_ = a.integer("size_max", 0, 0);
    a.finish();
    if (size_max_ > 0 && size_max_ < size_min_) a.fail("size_max must be 0 (no cap) or >= size_min");
    check_fits(a, "dim=" + std::to_string(dim_) + " x classes=" + std::to_string(classes_),
               checked_mul(static_cast<std::uint64_t>(dim_), static_cast<std::uint64_t>(classes_))
                   .value_or(std::numeric_limits<std::uint64_t>::max()),
               sizeof(double), d.max_memory);
    check_fits(a, "clients=" + std::to_string(clients_) + " (48 bytes per client)",
               static_cast<std::uint64_t>(clients_), 48, d.max_memory);
    RandomStream rs(seed_, kShared, kStepSizes, Purpose::kData);
    train_first_.push_back(0);
    test_first_.push_back(0);
    for (Index k = 0; k < clients_; ++k) {
      // exp() of a huge draw is capped well before it could overflow an Index.
      const double draw = std::min(1e9, std::floor(std::exp(size_mu_ + size_sigma_ * rs.normal())));
      Index n = size_min_ + static_cast<Index>(draw);
      if (size_max_ > 0) n = std::min(n, size_max_);
      Index n_test = split_test(n, test_);
      if (n - n_test < 1) n_test = n - 1;  // every client keeps a training sample
      size_.push_back(n);
      train_size_.push_back(n - n_test);
      train_first_.push_back(train_first_.back() + n - n_test);
      test_first_.push_back(test_first_.back() + n_test);
    }
    sigma_sqrt_.resize(dim_);
    for (Index j = 0; j < dim_; ++j) sigma_sqrt_[j] = std::pow(static_cast<double>(j + 1), -0.6);
  }

  std::string describe() const override {
    return "synthetic:fedprox:alpha=" + fmt(alpha_) + ",beta=" + fmt(beta_) +
           ",dim=" + std::to_string(dim_) + ",classes=" + std::to_string(classes_) +
           ",clients=" + std::to_string(clients_) + ",test=" + fmt(test_) +
           ",seed=" + std::to_string(seed_) + ",size_mu=" + fmt(size_mu_) +
           ",size_sigma=" + fmt(size_sigma_) + ",size_min=" + std::to_string(size_min_) +
           ",size_max=" + std::to_string(size_max_);
  }
  Task task() const override { return Task::kMulticlass; }
  Index n_features() const override { return dim_; }
  Index n_classes() const override { return classes_; }
  Index rows(Split s) const override {
    return s == Split::kTrain ? train_first_.back() : test_first_.back();
  }

  std::vector<Index> natural_owner() const override {
    std::vector<Index> owner;
    owner.reserve(static_cast<std::size_t>(rows(Split::kTrain)));
    for (Index k = 0; k < clients_; ++k) {
      owner.insert(owner.end(), static_cast<std::size_t>(train_size_[static_cast<std::size_t>(k)]), k);
    }
    return owner;
  }

  Dataset generate(Split s, std::span<const Index> rows) const override {
    const Index k = static_cast<Index>(rows.size());
    const auto& first = s == Split::kTrain ? train_first_ : test_first_;
    RowMatrix X(k, dim_);
    Vector y(k);
    Index client = -1;
    RowMatrix W;
    Vector b, v, scores;
    for (Index i = 0; i < k; ++i) {
      const Index r = rows[static_cast<std::size_t>(i)];
      if (r < 0 || r >= this->rows(s)) throw std::out_of_range("synthetic: row out of range");
      const Index c = static_cast<Index>(std::upper_bound(first.begin(), first.end(), r) - first.begin()) - 1;
      if (c != client) {
        client = c;
        client_parameters(c, W, b, v);
      }
      Index j = r - first[static_cast<std::size_t>(c)];  // sample index within the client
      if (s == Split::kTest) j += train_size_[static_cast<std::size_t>(c)];
      RandomStream rs(seed_, static_cast<std::uint64_t>(c), kStepClient + 1 + static_cast<std::uint64_t>(j),
                      Purpose::kData);
      for (Index t = 0; t < dim_; ++t) X(i, t) = v[t] + sigma_sqrt_[t] * rs.normal();
      scores.noalias() = W * X.row(i).transpose() + b;
      Index best = 0;
      scores.maxCoeff(&best);
      y[i] = static_cast<double>(best);
    }
    return Dataset(std::move(X), std::move(y), task(), n_classes());
  }

 private:
  void client_parameters(Index c, RowMatrix& W, Vector& b, Vector& v) const {
    RandomStream rs(seed_, static_cast<std::uint64_t>(c), kStepClient, Purpose::kData);
    const double u = alpha_ * rs.normal();
    const double B = beta_ * rs.normal();
    W.resize(classes_, dim_);
    b.resize(classes_);
    v.resize(dim_);
    for (Index i = 0; i < classes_; ++i) {
      for (Index j = 0; j < dim_; ++j) W(i, j) = u + rs.normal();
    }
    for (Index i = 0; i < classes_; ++i) b[i] = u + rs.normal();
    for (Index j = 0; j < dim_; ++j) v[j] = B + rs.normal();
  }

  double alpha_ = 1, beta_ = 1, test_ = 0, size_mu_ = 4, size_sigma_ = 2;
  Index dim_ = 60, classes_ = 10, clients_ = 30, size_min_ = 50, size_max_ = 0;
  std::uint64_t seed_ = 0;
  std::vector<Index> size_, train_size_, train_first_, test_first_;
  Vector sigma_sqrt_;
};

}  // namespace

std::unique_ptr<SyntheticGenerator> make_synthetic(const std::string& spec,
                                                   const SyntheticDefaults& defaults) {
  const auto [head, rest] = split_head(spec);
  if (head != "synthetic") throw ConfigError("data", "'" + spec + "' is not a synthetic:... spec");
  const auto [kind, params] = split_head(rest);
  SpecArgs args("data", "synthetic:" + kind, params);
  return synthetic_registry().get(kind).make(args, defaults);
}

SyntheticRegistry& synthetic_registry() {
  static SyntheticRegistry r = [] {
    SyntheticRegistry reg("synthetic kind", "data");
    reg.add({"fedprox", "fedprox", "FedProx's Synthetic(alpha,beta), clients as natural owners",
             [](SpecArgs& a, const SyntheticDefaults& d) -> std::unique_ptr<SyntheticGenerator> {
               return std::make_unique<FedProxGenerator>(a, d);
             }});
    reg.add({"least-squares", "least-squares", "Gaussian rows, planted linear model plus noise",
             [](SpecArgs& a, const SyntheticDefaults& d) -> std::unique_ptr<SyntheticGenerator> {
               return std::make_unique<LinearGenerator>(false, a, d);
             }});
    reg.add({"logistic", "logistic", "Gaussian rows, labels drawn from a planted logistic model",
             [](SpecArgs& a, const SyntheticDefaults& d) -> std::unique_ptr<SyntheticGenerator> {
               return std::make_unique<LinearGenerator>(true, a, d);
             }});
    return reg;
  }();
  return r;
}

}  // namespace distopt
