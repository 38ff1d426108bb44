#include "distopt/run/data_command.hpp"

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "distopt/core/error.hpp"
#include "distopt/core/version.hpp"
#include "distopt/data/dataset_file.hpp"
#include "distopt/data/memory_budget.hpp"
#include "distopt/data/partition.hpp"
#include "distopt/data/source.hpp"
#include "distopt/io/hdf5.hpp"

namespace distopt {

namespace po = boost::program_options;

namespace {

/// Parses argv (argv[0] = the subcommand) into `vm`; option errors become ConfigError naming
/// the option.
void parse(int argc, char** argv, const po::options_description& options,
           const po::positional_options_description* positional, po::variables_map& vm) {
  try {
    po::command_line_parser p(argc, argv);  // skips argv[0], the subcommand
    p.options(options);
    if (positional) p.positional(*positional);
    po::store(p.run(), vm);
    po::notify(vm);
  } catch (const po::error_with_option_name& e) {
    std::string name = e.get_option_name();
    while (!name.empty() && name.front() == '-') name.erase(name.begin());
    throw ConfigError(name.empty() ? "command line" : name, e.what());
  } catch (const po::error& e) {
    throw InputError(std::string("command line: ") + e.what());
  }
}

/// The source spec from --from (one or two words) or --synthetic.
std::string source_spec(const po::variables_map& vm) {
  const bool from = vm.count("from") > 0, synthetic = vm.count("synthetic") > 0;
  if (from == synthetic) {
    throw ConfigError("from", "give exactly one of --from fmnist|libsvm FILE|synthetic:KIND|FILE.h5 "
                              "and --synthetic KIND");
  }
  if (synthetic) return "synthetic:" + vm["synthetic"].as<std::string>();
  const auto words = vm["from"].as<std::vector<std::string>>();
  if (words.empty() || words.size() > 2) {
    throw ConfigError("from", "expects a source and at most one file (e.g. --from libsvm a1a.txt)");
  }
  std::string spec = words[0];
  if (words.size() == 2) {
    if (spec != "libsvm" && spec != "fmnist") {
      throw ConfigError("from", "only libsvm and fmnist take a path (got '" + spec + " " + words[1] + "')");
    }
    spec += ":" + words[1];
  } else if (spec == "libsvm") {
    throw ConfigError("from", "libsvm needs a file: --from libsvm FILE");
  }
  if (spec.rfind("libsvm:", 0) == 0) {
    if (vm.count("test")) spec += ",test=" + vm["test"].as<std::string>();
    if (vm.count("task")) spec += ",task=" + vm["task"].as<std::string>();
  } else if (vm.count("test") || vm.count("task")) {
    throw ConfigError(vm.count("test") ? "test" : "task", "only applies to --from libsvm");
  }
  return spec;
}

void build_dataset(const po::variables_map& vm) {
  const auto output = vm["output"].as<std::string>();
  const auto spec = source_spec(vm);
  const auto seed = vm["seed"].as<std::uint64_t>();
  const double test_fraction = vm["test-fraction"].as<double>();
  if (!(test_fraction >= 0 && test_fraction < 1)) {
    throw ConfigError("test-fraction", "must be in [0, 1) (got " + std::to_string(test_fraction) + ")");
  }
  const bool partitioned = vm.count("partition") > 0;
  if (partitioned != (vm.count("agents") > 0)) {
    throw ConfigError(partitioned ? "agents" : "partition",
                      "--partition and --agents go together (the stored split needs both)");
  }
  const Index agents = partitioned ? vm["agents"].as<Index>() : 0;
  if (partitioned && agents < 1) throw ConfigError("agents", "must be at least 1");
  const int gzip = vm["gzip"].as<int>();
  if (gzip < 0 || gzip > 9) throw ConfigError("gzip", "must be in 0..9 (got " + std::to_string(gzip) + ")");
  const Index chunk_rows = vm["chunk-rows"].as<Index>();
  if (chunk_rows < 0) throw ConfigError("chunk-rows", "must be >= 0 (0: about 1 MiB per chunk)");

  SourceOptions so;
  so.seed = seed;
  so.test_fraction = test_fraction;
  so.agents = agents;
  so.max_memory = parse_memory_size("max-memory", vm["max-memory"].as<std::string>());
  const auto src = open_source(spec, so);
  // The whole dataset is held here (the readers checked their own sizes): a dataset whose
  // model or dense rows exceed the budget is not written, since no run could load it.
  const auto fits = [&](const std::string& what, std::uint64_t count, std::uint64_t each) {
    if (auto excess = memory_excess(what, count, each, so.max_memory)) {
      throw ConfigError("from", src->describe() + ": " + *excess);
    }
  };
  const auto d = static_cast<std::uint64_t>(src->n_features());
  fits(std::to_string(d) + " features (a float64 model)", d, sizeof(double));
  if (!src->sparse()) {
    const auto rows =
        static_cast<std::uint64_t>(src->rows(Split::kTrain) + src->rows(Split::kTest));
    fits(std::to_string(rows) + " dense rows of " + std::to_string(d) + " features", rows,
         d * sizeof(double));
  }
  Dataset train = src->read_all(Split::kTrain);
  Dataset test = src->read_all(Split::kTest);
  std::vector<Index> natural = src->natural_owner();
  if (src->rows(Split::kTest) == 0 && !vm["test-fraction"].defaulted() && test_fraction > 0) {
    // Hold out the test rows here, with the same rule load_data would use.
    const auto held = holdout_rows(train.rows(), test_fraction, seed);
    std::vector<Index> kept;
    std::vector<Index> kept_owner;
    std::size_t t = 0;
    for (Index r = 0; r < train.rows(); ++r) {
      if (t < held.size() && held[t] == r) {
        ++t;
        continue;
      }
      kept.push_back(r);
      if (!natural.empty()) kept_owner.push_back(natural[static_cast<std::size_t>(r)]);
    }
    test = train.select(held);
    train = train.select(kept);
    natural = std::move(kept_owner);
  }
  std::vector<Index> owner;
  DatasetFileOptions fo;
  if (partitioned) {
    const auto pspec = vm["partition"].as<std::string>();
    PartitionInput in;
    in.samples = train.rows();
    in.labels = &train.labels();
    in.task = train.task();
    in.n_classes = train.n_classes();
    in.natural = natural;
    owner = make_partition(pspec, agents, seed, in).owner();
    fo.attributes["partition"] = pspec;
    fo.attributes["partition_seed"] = std::to_string(seed);
  } else if (!natural.empty()) {
    owner = natural;  // the data's own split (FedProx clients) is kept for --partition natural
    fo.attributes["partition"] = "natural";
  }
  fo.storage = vm.count("float32") ? h5::Type::kFloat32 : h5::Type::kFloat64;
  fo.layout.gzip = gzip;
  fo.layout.chunk_rows = chunk_rows;
  fo.attributes["source"] = src->describe();
  fo.attributes["created_by"] = std::string("distopt ") + version() + " (" + git_commit() + ")";
  write_dataset_file(output, train, test, owner, fo);
  std::printf("%s: %lld train rows%s x %lld features (%s, %lld classes), %s%s\n", output.c_str(),
              static_cast<long long>(train.rows()),
              test.rows() > 0 ? (", " + std::to_string(test.rows()) + " test rows").c_str() : "",
              static_cast<long long>(train.cols()), to_string(train.task()),
              static_cast<long long>(train.n_classes()), train.sparse() ? "CSR" : "dense",
              owner.empty() ? "" : (", /train/owner over " +
                                    std::to_string(*std::max_element(owner.begin(), owner.end()) + 1) +
                                    " agents").c_str());
}

// ---------------------------------------------------------------- info

std::string quoted(const std::string& s) {
  constexpr std::size_t kMax = 100;
  return "\"" + (s.size() <= kMax ? s : s.substr(0, kMax - 3) + "...") + "\"";
}

std::string number(double v) {
  std::ostringstream o;
  o.precision(10);
  o << v;
  return o.str();
}

/// Values of a short list, or its head and tail.
std::string list(const std::vector<double>& v) {
  constexpr std::size_t kShow = 8;
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v.size() > kShow && i == 3) {
      s += "..., ";
      i = v.size() - 3;
    }
    s += number(v[i]) + (i + 1 < v.size() ? ", " : "");
  }
  return s + "]";
}

/// Values of a short 1-D dataset; of a long one, only the head and tail are read.
std::string preview(const h5::Array& a) {
  if (a.size() <= 8) return list(a.read_doubles());
  double head[3], tail[3];
  a.read_rows(0, 3, head);
  a.read_rows(a.size() - 3, 3, tail);
  return "[" + number(head[0]) + ", " + number(head[1]) + ", " + number(head[2]) + ", ..., " +
         number(tail[0]) + ", " + number(tail[1]) + ", " + number(tail[2]) + "]";
}

std::string attribute_value(const h5::Node& node, const std::string& name) {
  const auto info = node.attr_info(name);
  try {
    switch (info.type) {
      case h5::Type::kString:
        return info.size == 1 ? quoted(node.attr_string(name))
                              : "(" + std::to_string(info.size) + " strings)";
      case h5::Type::kOther: return "(" + std::to_string(info.size) + " values of another type)";
      default: {
        const auto v = node.attr_doubles(name);
        return v.size() == 1 ? number(v[0]) : list(v);
      }
    }
  } catch (const FileError&) {
    return "(unreadable)";
  }
}

void print_attributes(const h5::Node& node, const std::string& indent) {
  for (const auto& a : node.attr_names()) {
    std::printf("%s@%s = %s\n", indent.c_str(), a.c_str(), attribute_value(node, a).c_str());
  }
}

void print_group(const h5::Group& g, int depth) {
  const std::string indent(static_cast<std::size_t>(2 * depth), ' ');
  std::printf("%s%s/\n", indent.c_str(), depth == 0 ? "" : g.name().substr(g.name().rfind('/') + 1).c_str());
  print_attributes(g, indent + "  ");
  for (const auto& child : g.children()) {
    if (g.is_group(child)) {
      print_group(g.group(child), depth + 1);
      continue;
    }
    if (!g.is_array(child)) {
      std::printf("%s  %s (link or other object)\n", indent.c_str(), child.c_str());
      continue;
    }
    const auto a = g.array(child);
    std::string shape;
    for (std::size_t i = 0; i < a.shape().size(); ++i) {
      shape += (i ? " x " : "") + std::to_string(a.shape()[i]);
    }
    if (shape.empty()) shape = "scalar";
    std::string line = indent + "  " + child + "  " + shape + " " + h5::to_string(a.type());
    if (a.chunk_rows() > 0) line += ", chunks of " + std::to_string(a.chunk_rows()) + " rows";
    if (a.rank() <= 1 && a.size() > 0 && a.type() != h5::Type::kString &&
        a.type() != h5::Type::kOther) {
      line += "  " + preview(a);
    }
    std::printf("%s\n", line.c_str());
    print_attributes(a, indent + "    ");
  }
}

}  // namespace

int data_command(Communicator& comm, int argc, char** argv) {
  po::options_description o("distopt data: build a dataset file");
  o.add_options()("help,h", "this help")(
      "from", po::value<std::vector<std::string>>()->multitoken(),
      "fmnist[:DIR][:classes=A,B,...] | libsvm FILE | synthetic:KIND[:k=v,...] | FILE.h5")(
      "synthetic", po::value<std::string>(),
      "KIND[:k=v,...]: fedprox, least-squares or logistic (same as --from synthetic:KIND)")(
      "test", po::value<std::string>(), "LIBSVM test file")(
      "task", po::value<std::string>(), "force the LIBSVM task: regression, binary or multiclass")(
      "output,o", po::value<std::string>(), "dataset file to write")(
      "partition", po::value<std::string>(),
      "store a partition as /train/owner: iid, contiguous, dirichlet:A, shards:C, natural")(
      "agents", po::value<Index>(), "number of agents of the stored partition")(
      // The default is train's --seed default, so `distopt data --synthetic S` writes the rows
      // `distopt train --data synthetic:S` generates.
      "seed", po::value<std::uint64_t>()->default_value(1),
      "seed of synthetic data, holdout and partition (the same default as distopt train)")(
      "test-fraction", po::value<double>()->default_value(0.2, "0.2"),
      "synthetic test share; if given, also held out from sources without a test set")(
      "float32", "store features as float32 (default float64)")(
      "gzip", po::value<int>()->default_value(0), "deflate level 0..9 of the arrays")(
      "chunk-rows", po::value<Index>()->default_value(0), "rows per chunk (0: about 1 MiB)")(
      "max-memory", po::value<std::string>()->default_value("auto"),
      "bound of sizes read from the source: bytes with K/M/G/T suffix, auto = 3/4 of MemTotal");
  po::variables_map vm;
  bool help = false;
  comm.agree_on_errors([&] {
    parse(argc, argv, o, nullptr, vm);
    help = vm.count("help") > 0;
    if (!help && !vm.count("output")) throw ConfigError("output", "is required (the dataset file to write)");
  });
  if (help) {
    if (comm.is_root()) std::cout << o << "\n";
    return kExitOk;
  }
  comm.agree_on_errors([&] {
    if (comm.is_root()) build_dataset(vm);
  });
  return kExitOk;
}

int info_command(Communicator& comm, int argc, char** argv) {
  po::options_description o("distopt info: show what HDF5 files hold");
  o.add_options()("help,h", "this help")("file", po::value<std::vector<std::string>>(),
                                         "HDF5 files (datasets or results)");
  po::positional_options_description pos;
  pos.add("file", -1);
  po::variables_map vm;
  bool help = false;
  comm.agree_on_errors([&] {
    parse(argc, argv, o, &pos, vm);
    help = vm.count("help") > 0;
    if (!help && !vm.count("file"))
      throw ConfigError("file", "is required: distopt info FILE.h5 [FILE.h5 ...]");
  });
  if (help) {
    if (comm.is_root()) std::cout << "usage: distopt info FILE.h5 [FILE.h5 ...]\n" << o << "\n";
    return kExitOk;
  }
  comm.agree_on_errors([&] {
    if (!comm.is_root()) return;
    const auto paths = vm["file"].as<std::vector<std::string>>();
    // Every file is opened first, so a missing one is reported before anything is printed.
    std::vector<h5::File> files;
    for (const auto& path : paths) files.push_back(h5::File::open(path));
    for (std::size_t i = 0; i < paths.size(); ++i) {
      if (i > 0) std::printf("\n");
      std::printf("%s\n", paths[i].c_str());
      print_group(files[i], 0);
    }
    std::fflush(stdout);
  });
  return kExitOk;
}

}  // namespace distopt
