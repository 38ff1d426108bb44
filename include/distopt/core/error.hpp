#pragma once
// Typed errors. Every failure a user can cause is an InputError (exit code 2, one line naming the
// culprit); MpiError carries the MPI error text; anything else is an internal bug.
#include <stdexcept>
#include <string>

namespace distopt {

/// Base of all distopt errors.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad input: an option, a file, a dataset that does not fit. Reported once, exit code 2.
class InputError : public Error {
 public:
  using Error::Error;
};

/// An InputError that every rank of the job has raised together (Communicator::agree_on_errors):
/// it can be reported once by rank 0 and every rank can exit normally with code 2.
class CollectiveInputError : public InputError {
 public:
  using InputError::InputError;
};

/// A configuration option with an invalid value; the message names the option.
class ConfigError : public InputError {
 public:
  /// `key` is the option's name without dashes ("l2"); the message reads "--key: what".
  ConfigError(const std::string& key, const std::string& what)
      : InputError("--" + key + ": " + what), key_(key) {}
  /// The option that holds the invalid value, as given to the constructor ("l2").
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

/// A file that is missing, unreadable or does not hold what it should.
class FileError : public InputError {
 public:
  /// The message reads "path: what".
  FileError(const std::string& path, const std::string& what) : InputError(path + ": " + what) {}
};

/// An MPI call returned an error code; the message holds MPI_Error_string's text.
class MpiError : public Error {
 public:
  /// `function` is the MPI call that failed, `code` its return code, `text` MPI_Error_string's
  /// text; the message reads "function failed: text".
  MpiError(const std::string& function, int code, const std::string& text)
      : Error(function + " failed: " + text), code_(code) {}
  /// The MPI error code the call returned.
  int code() const { return code_; }

 private:
  int code_;
};

// Exit codes of the distopt binary.
inline constexpr int kExitOk = 0;        ///< Exit code of a successful run.
inline constexpr int kExitInternal = 1;  ///< Exit code of an internal error (a bug, an MpiError).
inline constexpr int kExitInput = 2;     ///< Exit code of an InputError (bad option, file, data).
/// Exit code of a run that diverged (loss NaN or infinite): the result file is still written.
inline constexpr int kExitDiverged = 3;

}  // namespace distopt
