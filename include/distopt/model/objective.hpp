#pragma once
// The objective concept (ensmallen/Ceres separation): a model states what it can compute on a
// block of rows; optimisers and communicator layers never know which model they drive.
//
// Conventions used by every method:
//   f_B(x) = (1/|B|) Σ_{r∈B} ℓ(x; a_r, y_r) + R(x)
// where ℓ is the per-sample loss and R the regulariser (L2 and/or the nonconvex EF21 regulariser).
// The sum_* functions return the unregularised sums over rows so that losses over many agents and
// ranks can be added exactly; loss()/loss_grad() compose the mean plus regulariser.
#include <memory>
#include <string>

#include "distopt/core/types.hpp"
#include "distopt/data/dataset.hpp"
#include "distopt/model/parameter_layout.hpp"
#include "distopt/model/regularization.hpp"

namespace distopt {

/// Thread safety: a model object keeps mutable scratch buffers (sized on first use, reused by
/// every later call, so loss/gradient evaluations allocate nothing of their own; Eigen's GEMM may
/// still take packing buffers for products above its stack limit); a model object must not be
/// shared between threads. Give each thread its own (make_objective is cheap).
class Objective {
 public:
  virtual ~Objective() = default;

  /// The model's --problem spelling ("logistic", "mlp:64"), for logs and result files.
  virtual std::string name() const = 0;
  /// Dimension d of the parameter vector.
  virtual Index dim() const { return layout().size(); }
  /// Names and shapes of the blocks of the parameter vector.
  virtual const ParameterLayout& layout() const = 0;

  /// Σ_r ℓ(x; a_r, y_r) over the block. If g is non-null, ADDS Σ_r ∇ℓ into *g (no reset).
  virtual double sum_loss(const Vector& x, const DataBlock& rows, Vector* g) const = 0;

  /// Whether sum_hvp() is implemented (default: no).
  virtual bool has_hvp() const { return false; }
  /// ADDS Σ_r ∇²ℓ(x; a_r, y_r) v into out. Only when has_hvp(); the default throws Error.
  virtual void sum_hvp(const Vector& x, const Vector& v, const DataBlock& rows, Vector& out) const;

  /// R(x); if g is non-null, ADDS ∇R(x) into *g.
  virtual double regularizer(const Vector& x, Vector* g) const;
  /// ADDS ∇²R(x) v into out.
  virtual void regularizer_hvp(const Vector& x, const Vector& v, Vector& out) const;

  /// Number of rows in the block the model classifies correctly (classification tasks only);
  /// -1 for regression.
  virtual Index sum_correct(const Vector& x, const DataBlock& rows) const = 0;

  /// Upper bound on the smoothness constant of f_B (mean loss + regulariser) for convex models,
  /// used by theoretical step sizes (EF21's L_i) and by DADAO. Returns +inf when unknown (MLP).
  virtual double smoothness(const DataBlock& rows) const = 0;
  /// Lower bound on the strong-convexity constant of f_B (0 when unknown or nonconvex).
  virtual double strong_convexity(const DataBlock& rows) const = 0;

  /// A deterministic initial point (zeros for convex models; seeded He/Glorot init for MLPs).
  virtual Vector initial_point(std::uint64_t seed) const;

  // ---- compositions (non-virtual) ----
  /// f_B(x) = mean loss + R(x).
  double loss(const Vector& x, const DataBlock& rows) const;
  /// f_B(x), and g = ∇f_B(x) (g is overwritten, resized if needed).
  double loss_grad(const Vector& x, const DataBlock& rows, Vector& g) const;
  /// out = ∇²f_B(x) v (overwritten).
  void hvp(const Vector& x, const Vector& v, const DataBlock& rows, Vector& out) const;

  /// The regulariser R this model adds (the default regularizer()/regularizer_hvp() use it).
  const Regularization& regularization() const { return reg_; }

 protected:
  /// A model that adds the regulariser `reg` (see regularization()).
  explicit Objective(Regularization reg = {}) : reg_(reg) {}

 private:
  Regularization reg_;
};

/// Model selected by --problem: least-squares | logistic | softmax | `mlp:<h1>[,<h2>]`, or a name
/// added to objective_registry() (model/objective_registry.hpp), which this looks up.
/// n_features and n_classes come from the data. Throws ConfigError("l2") / ("nonconvex-reg") for
/// a negative or non-finite regulariser, then ConfigError("problem", ...) for data without
/// features, an unknown or malformed spec, or a task that does not fit (e.g. logistic on
/// multiclass labels).
std::unique_ptr<Objective> make_objective(const std::string& problem, Index n_features,
                                          Index n_classes, Task task, const Regularization& reg);

}  // namespace distopt
