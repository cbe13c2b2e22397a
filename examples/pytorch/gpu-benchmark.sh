#!/usr/bin/env bash
# Trials per hour of the PyTorch example study on ONE GPU, with 1, 2 and 4 trials sharing it
# (--trials-per-gpu, parallelism to match), with the GPU's mean SM utilisation over each run
# (nvidia-smi dmon -s u) and the best val_accuracy. Prints a Markdown table, also written to
# $OUT/table.md. Run from anywhere, on a machine with an NVIDIA GPU, PyTorch for python3 and
# kubetune built (npm ci && npm run build):
#   examples/pytorch/gpu-benchmark.sh
# Settings (environment): GPU (device index, default 0), TRIALS (per run, default 48),
# PER_GPU (default "1 2 4"), OUT (default kubetune-results/gpu-benchmark), PYTHON (runs
# train.py instead of python3), STUDY (default examples/pytorch/study.yaml), KUBETUNE (the
# command, default: node bin/kubetune.js).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
GPU="${GPU:-0}"
TRIALS="${TRIALS:-48}"
PER_GPU="${PER_GPU:-1 2 4}"
OUT="${OUT:-kubetune-results/gpu-benchmark}"
STUDY="${STUDY:-examples/pytorch/study.yaml}"
read -r -a KUBETUNE_CMD <<<"${KUBETUNE:-node bin/kubetune.js}"

command -v nvidia-smi >/dev/null || { echo "gpu-benchmark: nvidia-smi not found: this needs an NVIDIA GPU" >&2; exit 1; }
nvidia-smi -L | grep -q "^GPU $GPU:" || { echo "gpu-benchmark: no GPU $GPU in nvidia-smi -L" >&2; exit 1; }
mkdir -p "$OUT"
study="$OUT/study.yaml"
if [ -n "${PYTHON:-}" ]; then
  sed "s#command: \[python3, #command: [$PYTHON, #" "$STUDY" >"$study"
else
  cp "$STUDY" "$study"
fi

dmon_pid=""
trap '[ -n "$dmon_pid" ] && kill "$dmon_pid" 2>/dev/null || true' EXIT

rows=()
for n in $PER_GPU; do
  run="$OUT/per-gpu-$n"
  rm -rf "$run" && mkdir -p "$run"
  nvidia-smi dmon -s u -i "$GPU" >"$run/dmon.txt" 2>&1 &
  dmon_pid=$!
  start=$(date +%s.%N)
  status=0
  "${KUBETUNE_CMD[@]}" run "$study" --gpus "$GPU" --trials-per-gpu "$n" --parallelism "$n" \
    --max-trials "$TRIALS" --output "$run" >"$run/kubetune.log" 2>&1 || status=$?
  end=$(date +%s.%N)
  kill "$dmon_pid" 2>/dev/null || true
  wait "$dmon_pid" 2>/dev/null || true
  dmon_pid=""
  [ -f "$run/results.json" ] || { echo "gpu-benchmark: run with $n per GPU wrote no results (exit $status); see $run/kubetune.log" >&2; exit 1; }
  # dmon: '#' header lines, then "gpu sm mem ..." per sample; SM is the second column.
  sm=$(awk '!/^#/ && $2 ~ /^[0-9]+$/ { s += $2; k++ } END { if (k) printf "%.0f", s / k; else print "-" }' "$run/dmon.txt")
  row=$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const [n, wall, sm, status] = process.argv.slice(2);
    const count = (s) => r.trials.filter((t) => t.state === s).length;
    const ended = count("Succeeded") + count("Pruned");
    const perHour = (3600 * ended / Number(wall)).toFixed(0);
    const best = r.best ? r.best.value : "-";
    console.log(`| ${n} | ${n} | ${ended} | ${count("Pruned")} | ${count("Failed") + count("MetricsUnavailable")} | ${Number(wall).toFixed(1)} | ${perHour} | ${sm} | ${best} | ${status} |`);
  ' "$run/results.json" "$n" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" "$sm" "$status")
  rows+=("$row")
  echo "$row" >&2
done

{
  echo "GPU $GPU: $(nvidia-smi --query-gpu=name --format=csv,noheader -i "$GPU"); $TRIALS trials per run; $(date -u +%FT%TZ)"
  echo
  echo "| trials per GPU | parallelism | trials ended | pruned | failed | wall s | trials/hour | mean SM % | best | kubetune exit |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
} | tee "$OUT/table.md"
