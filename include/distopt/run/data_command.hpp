#pragma once
// The `distopt data` and `distopt info` subcommands.
//
//   distopt data --from fmnist[:DIR][:classes=A,B,...]
//                | --from libsvm FILE [--test FILE] [--task T]
//                | --from synthetic:KIND[:k=v,...] | --synthetic KIND[:k=v,...]
//                | --from FILE.h5 (re-partition or convert a dataset file)
//                --output FILE.h5 [--partition SPEC --agents N] [--seed S]
//                [--test-fraction F] [--float32] [--gzip LEVEL] [--chunk-rows R]
//     writes the dataset file format of dataset_file.hpp (to FILE.h5.tmp, renamed when
//     complete). With --partition, the assignment is stored as /train/owner for
//     `--partition natural`. --test-fraction is the default test= of synthetic data, and, when
//     given, the fraction held out into /test from a source without a test set (otherwise the
//     file has no /test and runs hold out at load time).
//   distopt info FILE.h5 [FILE.h5 ...]
//     prints, for each file in turn, every group and dataset (shape, element type, chunking) and
//     every attribute (values of scalars, short strings and short vectors), and the values of short
//     1-D datasets.
// argv[0] is the subcommand's name. Rank 0 does the work and prints; errors are raised on every
// rank (CollectiveInputError), so the app reports them once.
#include "distopt/comm/communicator.hpp"

namespace distopt {

/// Collective: `distopt data` (above) on argv (argv[0] the subcommand). Returns 0 (also for
/// --help); bad input throws on every rank (ConfigError("output") without --output).
int data_command(Communicator& comm, int argc, char** argv);
/// Collective: `distopt info FILE.h5 [FILE.h5 ...]` (above); rank 0 prints. Returns 0 (also for
/// --help); bad input throws on every rank (ConfigError("file") without a file, FileError if
/// unreadable).
int info_command(Communicator& comm, int argc, char** argv);

}  // namespace distopt
