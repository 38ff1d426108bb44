#include "distopt/run/result_file.hpp"

#include "distopt/core/version.hpp"
#include "distopt/io/hdf5.hpp"

namespace distopt {

void write_result_file(const std::string& path, const ResultContent& c) {
  auto f = h5::File::create(path);
  f.set_attr("kind", "distopt-result");
  f.set_attr("result_schema_version", std::int64_t{1});
  auto cfg = f.create_group("config");
  for (const auto& [k, v] : *c.options) cfg.set_attr(k, v);
  cfg.set_attr("version", version());
  cfg.set_attr("git_commit", git_commit());
  cfg.set_attr("world_size", static_cast<std::int64_t>(c.world_size));

  auto metrics = f.create_group("metrics");
  for (const auto& name : c.log->names()) {
    const auto& col = c.log->column(name);
    metrics.write(name, std::span<const double>(col));
  }

  auto model = f.create_group("model");
  model.write("x", std::span<const double>(c.model->data(), static_cast<std::size_t>(c.model->size())));
  if (c.extra_models) {
    for (const auto& [name, m] : *c.extra_models) model.write_matrix(name, m);
  }

  auto summary = f.create_group("summary");
  const Summary& s = *c.summary;
  summary.set_attr("termination", std::string(to_string(s.termination)));
  summary.set_attr("rounds_done", static_cast<std::int64_t>(s.rounds_done));
  summary.set_attr("wall_time", s.wall_time);
  if (s.target_round) {
    summary.set_attr("target_round", static_cast<std::int64_t>(*s.target_round));
    summary.set_attr("target_wall_time", *s.target_wall_time);
  }
  for (const auto& [n, v] : s.final_row.items()) summary.set_attr("final_" + n, v);
  f.commit();
}

}  // namespace distopt
