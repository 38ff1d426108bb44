#include "distopt/core/version.hpp"

#include "distopt_git_commit.h"  // generated at build time: DISTOPT_GIT_COMMIT

namespace distopt {
const char* version() {
  return DISTOPT_VERSION_STRING;
}
const char* git_commit() { return DISTOPT_GIT_COMMIT; }
}  // namespace distopt
