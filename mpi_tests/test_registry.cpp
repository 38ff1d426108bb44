// The registries of the extension points (objectives, data sources, synthetic kinds,
// partitions, graphs): built-ins listed in order, unknown names rejected with the option's key
// and the list of known entries, user-added entries usable through the ordinary factories (and
// listed in --help), duplicate names refused. Cheap: every rank runs the same small checks.
#include <gtest/gtest.h>

#include <cmath>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "distopt/comm/placement.hpp"
#include "distopt/core/error.hpp"
#include "distopt/data/load.hpp"
#include "distopt/data/partition.hpp"
#include "distopt/data/source.hpp"
#include "distopt/data/synthetic.hpp"
#include "distopt/model/gradient_check.hpp"
#include "distopt/model/objective_registry.hpp"
#include "distopt/run/options.hpp"
#include "distopt/topology/graph_spec.hpp"

using namespace distopt;

namespace {

#define EXPECT_CONTAINS(text, word)                          \
  EXPECT_NE(std::string(text).find(word), std::string::npos) \
      << "'" << (word) << "' not in: " << (text)

/// Runs f, expecting a ConfigError; returns it (key and message).
template <class F>
std::pair<std::string, std::string> config_error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return {e.key(), e.what()};
  }
  ADD_FAILURE() << "no ConfigError";
  return {"", ""};
}

template <class R>
std::vector<std::string> names_of(const R& r) {
  std::vector<std::string> out;
  for (const auto& e : r.entries()) out.push_back(e.name);
  return out;
}

/// Checks that the registry starts with the built-ins (names and syntaxes) in order; user entries
/// added by other tests of this file may follow.
template <class R>
void expect_builtins(const R& r, const std::vector<std::string>& names, const std::string& known) {
  auto got = names_of(r);
  ASSERT_GE(got.size(), names.size());
  got.resize(names.size());
  EXPECT_EQ(got, names);
  EXPECT_EQ(r.known().substr(0, known.size()), known) << r.known();
  EXPECT_EQ(r.known().size() == known.size() || r.known()[known.size()] == ',', true) << r.known();
}

// ---- user extensions ------------------------------------------------------------------------

/// f_B(x) = (1/|B|) Σ_r ½‖x − c·1‖² (the rows only count), c = 1 unless given: "my-quad[:c]".
class MyQuad final : public Objective {
 public:
  MyQuad(Index d, double c, Regularization reg) : Objective(reg), c_(c) { layout_.add("x", d); }
  std::string name() const override { return "my-quad"; }
  const ParameterLayout& layout() const override { return layout_; }
  double sum_loss(const Vector& x, const DataBlock& rows, Vector* g) const override {
    const Vector r = x - Vector::Constant(x.size(), c_);
    const double n = static_cast<double>(rows.rows());
    if (g) *g += n * r;
    return n * 0.5 * r.squaredNorm();
  }
  Index sum_correct(const Vector&, const DataBlock&) const override { return -1; }
  double smoothness(const DataBlock&) const override { return 1.0; }
  double strong_convexity(const DataBlock&) const override { return 1.0; }

 private:
  ParameterLayout layout_;
  double c_;
};

/// A data source of n rows (i, 1) with label 1 and no test set: "const:<n>".
class ConstSource final : public DataSource {
 public:
  explicit ConstSource(Index n) : n_(n) {}
  std::string describe() const override { return "const:" + std::to_string(n_); }
  Task task() const override { return Task::kRegression; }
  Index n_features() const override { return 2; }
  Index n_classes() const override { return 1; }
  Index rows(Split s) const override { return s == Split::kTrain ? n_ : 0; }
  Vector labels(Split s) const override { return Vector::Ones(rows(s)); }
  Dataset read(Split, std::span<const Index> rows) const override {
    const auto k = static_cast<Index>(rows.size());
    RowMatrix X(k, 2);
    for (Index i = 0; i < k; ++i) {
      X(i, 0) = static_cast<double>(rows[static_cast<std::size_t>(i)]);
      X(i, 1) = 1.0;
    }
    return Dataset(std::move(X), Vector::Ones(k), Task::kRegression, 1);
  }

 private:
  Index n_;
};

/// Registers the test's extensions once per process.
void register_extensions() {
  static std::once_flag once;
  std::call_once(once, [] {
    objective_registry().add({"my-quad", "my-quad[:<c>]", "test quadratic",
                              [](const ObjectiveArgs& a) -> std::unique_ptr<Objective> {
                                const double c = a.has_arg ? parse_double("problem", a.arg) : 1.0;
                                if (a.task == Task::kMulticlass) throw a.misfit("real labels");
                                return std::make_unique<MyQuad>(a.n_features, c, a.reg);
                              }});
    source_registry().add(
        {"const", "const:<n>", "test rows", [](const SourceArgs& a) -> std::unique_ptr<DataSource> {
           return std::make_unique<ConstSource>(parse_int("data", a.arg));
         }});
    partition_registry().add(
        {"round-robin", "round-robin", "sample i to agent i mod N", {[](const PartitionArgs& a) {
           std::vector<Index> owner(static_cast<std::size_t>(a.input.samples));
           for (std::size_t i = 0; i < owner.size(); ++i) {
             owner[i] = static_cast<Index>(i) % a.n_agents;
           }
           return Partition(std::move(owner), a.n_agents);
         }}});
    // Labels > 0 to agent 0, the rest to agent 1: exercises needs_labels.
    partition_registry().add(
        {"by-sign",
         "by-sign",
         "positive labels to agent 0",
         {[](const PartitionArgs& a) {
            std::vector<Index> owner(static_cast<std::size_t>(a.input.samples));
            for (Index i = 0; i < a.input.samples; ++i) {
              owner[static_cast<std::size_t>(i)] = (*a.input.labels)[i] > 0 ? 0 : 1;
            }
            return Partition(std::move(owner), a.n_agents);
          },
          /*needs_labels=*/true}});
    // A wheel: node 0 linked to a ring of the others. "wheel[:<n>]".
    graph_registry().add({"wheel", "wheel[:<n>]", "hub and rim", [](const GraphArgs& a) {
                            const Index n = a.has_arg ? parse_int("graph", a.arg) : a.agents;
                            std::vector<Edge> e;
                            for (Index i = 1; i < n; ++i) {
                              e.push_back({0, i});
                              e.push_back({i, i + 1 < n ? i + 1 : 1});
                            }
                            return Graph(n, e, a.spec);
                          }});
  });
}

}  // namespace

// ---- built-ins, in order --------------------------------------------------------------------

TEST(Registry, BuiltinsInOrder) {
  expect_builtins(objective_registry(), {"least-squares", "logistic", "softmax", "mlp"},
                  "least-squares, logistic, softmax, mlp:<h1>[,<h2>]");
  expect_builtins(
      source_registry(), {"fmnist", "libsvm", "synthetic", "h5"},
      "fmnist[:DIR][:classes=A,B,...][:normalize], libsvm:FILE[,test=FILE,task=...,features=N], "
      "synthetic:<kind>[:key=value,...], [h5:]FILE");
  expect_builtins(synthetic_registry(), {"fedprox", "least-squares", "logistic"},
                  "fedprox, least-squares, logistic");
  expect_builtins(
      partition_registry(),
      {"iid", "contiguous", "dirichlet", "dirichlet-prior", "shards", "natural"},
      "iid, contiguous, dirichlet:<alpha>, dirichlet-prior:<alpha>, shards:<c>, natural");
  expect_builtins(
      graph_registry(),
      {"ring", "path", "star", "complete", "grid", "torus", "hypercube", "er", "geometric", "file"},
      "ring[:<n>], path[:<n>], star[:<n>], complete[:<n>], grid:<r>x<c>, "
      "torus:<r>x<c>, hypercube:<dim>, er:<n>:<p>, geometric:<n>:<radius>, "
      "file:<path>");
  EXPECT_EQ(partition_registry().option(), "partition");
  EXPECT_EQ(graph_registry().option(), "graph");
  EXPECT_EQ(objective_registry().option(), "problem");
  EXPECT_EQ(source_registry().option(), "data");
  EXPECT_EQ(synthetic_registry().option(), "data");
  EXPECT_TRUE(partition_needs_labels("dirichlet:0.5"));
  EXPECT_TRUE(partition_needs_labels("shards:2"));
  EXPECT_TRUE(partition_needs_labels("dirichlet-prior:0.3"));
  EXPECT_FALSE(partition_needs_labels("iid"));
  EXPECT_TRUE(partition_needs_natural("natural"));
  EXPECT_FALSE(partition_needs_natural("bogus"));
}

// ---- unknown names: the option's key and the known entries -----------------------------------

TEST(Registry, UnknownNamesListTheKnownEntries) {
  Vector y = Vector::Ones(8);
  const PartitionInput in{.samples = 8, .labels = &y, .task = Task::kBinary, .n_classes = 2};
  struct Case {
    std::string key, fragment, known;
    std::pair<std::string, std::string> got;
  };
  const std::vector<Case> cases = {
      {"problem", "unknown problem 'lasso'", objective_registry().known(),
       config_error_of([] { make_objective("lasso", 3, 1, Task::kRegression, {}); })},
      {"problem", "unknown problem 'logistic:3'", objective_registry().known(),
       config_error_of([] { make_objective("logistic:3", 3, 2, Task::kBinary, {}); })},
      {"problem", "unknown problem 'nope'", objective_registry().known(), config_error_of([] {
         make_objective(ObjectiveOptions{.problem = "nope"}, 3, 1, Task::kRegression);
       })},
      {"partition", "unknown partition 'random:3'", partition_registry().known(),
       config_error_of([&] { make_partition("random:3", 2, 0, in); })},
      {"graph", "unknown graph 'hexagon:6'", graph_registry().known(),
       config_error_of([] { make_graph("hexagon:6", 6, 1); })},
      {"graph", "unknown graph 'file'", graph_registry().known(),
       config_error_of([] { make_graph("file", 6, 1); })},
      {"data", "unknown synthetic kind 'gaussian'", synthetic_registry().known(),
       config_error_of([] { make_synthetic("synthetic:gaussian", {}); })},
      {"data", "is required", source_registry().known(), config_error_of([] { open_source(""); })},
      {"partition", "unknown partition 'bogus'", partition_registry().known(),
       config_error_of([] { DataSpec{.data = "x.h5", .partition = "bogus"}.validate(); })},
      {"data", "is required", source_registry().known(),
       config_error_of([] { DataSpec{}.validate(); })},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.fragment);
    EXPECT_EQ(c.got.first, c.key);
    EXPECT_EQ(c.got.second.rfind("--" + c.key + ": ", 0), 0u) << c.got.second;
    EXPECT_CONTAINS(c.got.second, c.fragment);
    EXPECT_CONTAINS(c.got.second, "(known: " + c.known + ")");
  }
}

TEST(Registry, OptionsValidateNameTheirKeys) {
  EXPECT_EQ(
      config_error_of([] { DataSpec{.data = "x.h5", .test_fraction = 1.0}.validate(); }).first,
      "test-fraction");
  EXPECT_EQ(
      config_error_of([] { DataSpec{.data = "x.h5", .test_fraction = -0.1}.validate(); }).first,
      "test-fraction");
  EXPECT_NO_THROW((DataSpec{.data = "x.h5", .partition = "dirichlet:0.3"}.validate()));
  EXPECT_EQ(config_error_of([] { ObjectiveOptions{.reg = {-1.0, 0.0}}.validate(); }).first, "l2");
  EXPECT_EQ(config_error_of([] {
              ObjectiveOptions{.reg = {0.0, std::nan("")}}.validate();
            }).first,
            "nonconvex-reg");
  EXPECT_EQ(config_error_of([] {
              ObjectiveOptions{.reg = {HUGE_VAL, 0.0}}.validate();
            }).first,
            "l2");
  EXPECT_NO_THROW(ObjectiveOptions{}.validate());
  EXPECT_EQ(ObjectiveOptions{}.problem, "auto");
  EXPECT_EQ(DataSpec{}.partition, "iid");
  EXPECT_EQ(DataSpec{}.test_fraction, 0.2);
}

// ---- user extensions through the ordinary factories -------------------------------------------

TEST(Registry, UserObjectiveThroughMakeObjective) {
  register_extensions();
  RowMatrix X = RowMatrix::Zero(6, 4);
  const Dataset ds(std::move(X), Vector::Zero(6), Task::kRegression, 1);
  auto f = make_objective("my-quad", 4, 1, Task::kRegression, {});
  ASSERT_EQ(f->name(), "my-quad");
  ASSERT_EQ(f->dim(), 4);
  Vector x(4);
  x << 0.3, -1.2, 2.0, 0.7;
  Vector g;
  const double loss = f->loss_grad(x, ds.all(), g);
  const Vector r = x - Vector::Ones(4);
  EXPECT_NEAR(loss, 0.5 * r.squaredNorm(), 1e-14);
  EXPECT_LT((g - r).norm(), 1e-14);
  EXPECT_LT(check_gradient(*f, x, ds.all()).grad_rel_error, 1e-7);

  // Through the typed options, with an argument and a regulariser.
  auto h = make_objective(ObjectiveOptions{.problem = "my-quad:2", .reg = {0.5, 0.1}}, 4, 1,
                          Task::kRegression);
  EXPECT_EQ(h->regularization().l2, 0.5);
  const double lh = h->loss_grad(x, ds.all(), g);
  const Vector r2 = x - Vector::Constant(4, 2.0);
  EXPECT_NEAR(lh, 0.5 * r2.squaredNorm() + regularization_value({0.5, 0.1}, x, nullptr), 1e-12);
  EXPECT_LT(check_gradient(*h, x, ds.all()).grad_rel_error, 1e-7);

  // The factory's own errors, and the shared checks before it.
  EXPECT_CONTAINS(
      config_error_of([] { make_objective("my-quad", 4, 3, Task::kMulticlass, {}); }).second,
      "'my-quad' needs real labels");
  EXPECT_EQ(config_error_of([] { make_objective("my-quad", 0, 1, Task::kRegression, {}); }).first,
            "problem");
  EXPECT_CONTAINS(objective_registry().known(), "my-quad[:<c>]");
  // ... and the generated --help.
  std::ostringstream help;
  help << train_options();
  EXPECT_CONTAINS(help.str(), "my-quad[:<c>]");
  EXPECT_CONTAINS(help.str(), "round-robin");
  EXPECT_CONTAINS(help.str(), "const:<n>");
  EXPECT_CONTAINS(help.str(), "mlp:<h1>[,<h2>]");
}

TEST(Registry, UserPartitionGraphAndSource) {
  register_extensions();
  Vector y(7);
  y << 1, -1, 1, 1, -1, -1, 1;
  const PartitionInput in{.samples = 7, .labels = &y, .task = Task::kBinary, .n_classes = 2};
  const auto p = make_partition("round-robin", 3, 0, in);
  EXPECT_EQ(p.count(0), 3);
  EXPECT_EQ(p.count(1), 2);
  EXPECT_EQ(p.count(2), 2);
  EXPECT_EQ(p.rows(1)[1], 4);
  EXPECT_FALSE(partition_needs_labels("round-robin"));
  EXPECT_TRUE(partition_needs_labels("by-sign"));
  const auto q = make_partition("by-sign", 2, 0, in);
  EXPECT_EQ(q.count(0), 4);

  const Graph g = make_graph("wheel", 6, 1);
  EXPECT_EQ(g.nodes(), 6);
  EXPECT_EQ(g.edge_count(), 10);
  EXPECT_EQ(g.degree(0), 5);
  EXPECT_EQ(make_graph("wheel:5", 5, 1).edge_count(), 8);
  // make_graph's own checks apply to user graphs too.
  EXPECT_EQ(config_error_of([] { make_graph("wheel:5", 6, 1); }).first, "graph");

  // A user source and a user partition through load_local: 40 rows, 10 held out, 30 over 3.
  const DataSpec spec{
      .data = "const:40", .partition = "round-robin", .seed = 3, .test_fraction = 0.25};
  const auto local = load_local(spec, Placement(3, 1, 0));
  EXPECT_EQ(local.total_train, 30);
  EXPECT_EQ(local.total_test, 10);
  EXPECT_EQ(local.agent_rows, (std::vector<Index>{10, 10, 10}));
  EXPECT_EQ(local.n_features, 2);
  // The label-reading path of load_local for a user partitioner (labels are all +1).
  const auto signs = load_local({.data = "const:20", .partition = "by-sign", .test_fraction = 0},
                                Placement(2, 1, 0));
  EXPECT_EQ(signs.agent_rows, (std::vector<Index>{20, 0}));
}

TEST(Registry, DuplicateNamesAreRefused) {
  register_extensions();
  EXPECT_THROW(objective_registry().add({"logistic", "", "", {}}), Error);
  EXPECT_THROW(objective_registry().add({"my-quad", "", "", {}}), Error);
  EXPECT_THROW(source_registry().add({"fmnist", "", "", {}}), Error);
  EXPECT_THROW(synthetic_registry().add({"fedprox", "", "", {}}), Error);
  EXPECT_THROW(partition_registry().add({"iid", "", "", {}}), Error);
  EXPECT_THROW(graph_registry().add({"ring", "", "", {}}), Error);
  EXPECT_THROW(graph_registry().add({"wheel", "", "", {}}), Error);
  // A refused entry leaves the table as it was.
  EXPECT_EQ(names_of(graph_registry()).back(), "wheel");
}
