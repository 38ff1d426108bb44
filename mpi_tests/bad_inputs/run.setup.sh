# Fixtures of run.cases: a valid result file that a case must not overwrite.
run_distopt train --agents 4 --rounds 1 --log-format none --output existing.h5 >/dev/null
# Guards against loss (issue 11): a dataset file, a config file, a directory, a symlink to a
# result file, an INI file with binary bytes.
run_distopt data --synthetic logistic --output data.h5 >/dev/null
printf 'agents = 4\nrounds = 1\n' >run.ini
mkdir -p adir
ln -s existing.h5 link.h5
printf 'rounds = 1\n\001\002\377\376 = 3\n' >garbage.ini
# A checkpoint (fp.ckpt.h5, at round 2) for the resume cases, and a copy with one byte flipped
# inside a state dataset: the int64 characters of the metric name "grad_norm_sq"
# (/state/trainer/metric_names/N), a value known without reading HDF5.
run_distopt train --agents 4 --rounds 4 --checkpoint-every 2 --lr 0.1 --log-format none \
  --output fp.h5 >/dev/null
python3 - <<'PY'
import struct
raw = bytearray(open("fp.ckpt.h5", "rb").read())
needle = b"".join(struct.pack("<q", ord(c)) for c in "grad_norm_sq")
at = raw.find(needle)
assert at >= 0 and raw.find(needle, at + 1) < 0, "metric name not found once in the checkpoint"
raw[at] ^= 0x01
open("bad.ckpt.h5", "wb").write(raw)
PY
# A dfedsam checkpoint (dfl.ckpt.h5, at round 2): its --sam-rho and --gossip-steps are fingerprinted.
run_distopt train --agents 4 --algorithm dfedsam --rounds 4 --checkpoint-every 2 --log-format none \
  --output dfl.h5 >/dev/null
