# Fixtures of run.cases: a valid result file that a case must not overwrite.
run_distopt train --agents 4 --rounds 1 --log-format none --output existing.h5 >/dev/null
