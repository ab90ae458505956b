#!/usr/bin/env bash
# End to end on a GPU, Striate against PyTorch on the same device in the same
# run (docs/perf/README.md, "End-to-end on a GPU", says what each number is):
#   - LeNet-5 on Fashion-MNIST: `striate train --device cuda` and
#     benchmarks/lenet_torch.py --device cuda, same model, batch 64, Adam 1e-3,
#     data and seed; epoch time and test accuracy;
#   - ResNet-50 and ResNet-18 training throughput on synthetic ImageNet-shaped
#     data (benchmarks/resnet_throughput and benchmarks/resnet_torch.py):
#     batch 64 (and 256 with --full), NCHW and channels-last, f32; Striate with
#     its native kernels and with cuDNN/cuBLAS.
# Writes OUT_DIR/e2e.json, OUT_DIR/e2e.md (printed at the end) and
# OUT_DIR/e2e.log (every step's output); the two reports are rewritten after
# every step, so a run killed midway still leaves a report of what finished.
# A step that fails is recorded ("failed: reason") and the rest still run.
# LeNet-5 without Fashion-MNIST in FASHION_MNIST_ROOT is "skipped (no
# Fashion-MNIST at PATH)", not failed. Without a GPU it prints "skipped: no
# GPU" and exits 0.
#
#   bash benchmarks/e2e_gpu.sh BUILD_DIR OUT_DIR [--full] [--epochs N] [--steps N] [--warmup N] [--budget S]
#
# BUILD_DIR: a CUDA build configured with -DSTRIATE_BUILD_BENCHMARKS=ON (its
# tools/striate and benchmarks/resnet_throughput are built here if missing).
# --budget: seconds for all the steps together (default 280, 900 with --full),
# ending no later than STRIATE_DEADLINE (epoch seconds; benchmarks/run.sh and
# scripts/gpu-check.sh pass it on). Each step's limit is cut to what is left;
# a step cut short, or one that no longer fits, is recorded as "incomplete".
# Environment: PYTHON (a python3 with torch), FASHION_MNIST_ROOT (default
# /usr/share/datasets/fashion-mnist), E2E_STEP_TIMEOUT (seconds per step,
# default 150), STRIATE_GIT_COMMIT (when the checkout has no .git). To check
# the script itself on a machine without a GPU: E2E_DEVICE=cpu E2E_BATCH=2
# E2E_IMAGE_SIZE=64 (defaults cuda, 64, 224) with --epochs 1 --steps 1.
#
# Exit status: 0 every step ran and passed, or was skipped for want of data
# (or there is no GPU); 1 a step failed; 3 nothing failed, but a step was cut
# short or not run for time.
set -uo pipefail

usage() {
  echo "usage: bash benchmarks/e2e_gpu.sh BUILD_DIR OUT_DIR [--full] [--epochs N] [--steps N] [--warmup N] [--budget S]" >&2
  exit 2
}
(($# >= 2)) || usage
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$1"
out="$2"
shift 2
full=0
epochs=2
steps=10
warmup=3
budget=""
while (($#)); do
  case "$1" in
    --full) full=1 ;;
    --epochs | --steps | --warmup | --budget)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || { echo "e2e_gpu: $1 needs a whole number" >&2; exit 2; }
      declare "${1#--}=$2"
      shift ;;
    *) echo "e2e_gpu: unknown option '$1'" >&2; usage ;;
  esac
  shift
done
((epochs >= 1 && steps >= 1)) || { echo "e2e_gpu: --epochs and --steps must be at least 1" >&2; exit 2; }
[[ -n "$budget" ]] || budget=$((full ? 900 : 280))
step_timeout="${E2E_STEP_TIMEOUT:-150}"
data_root="${FASHION_MNIST_ROOT:-/usr/share/datasets/fashion-mnist}"
device="${E2E_DEVICE:-cuda}"
batch="${E2E_BATCH:-64}"
image_size="${E2E_IMAGE_SIZE:-224}"

mkdir -p "$out" || exit 1
out="$(cd "$out" && pwd)"
log="$out/e2e.log"
: >"$log"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
steps_tsv="$work/steps.tsv"
: >"$steps_tsv"

commit="${STRIATE_GIT_COMMIT:-}"
if [[ -z "$commit" ]]; then
  commit="$(git -c safe.directory="$repo" -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [[ "$commit" != unknown && -n "$(git -c safe.directory="$repo" -C "$repo" status --porcelain \
    --untracked-files=no 2>/dev/null)" ]]; then
    commit="$commit+changes"
  fi
fi
date_utc="$(date -u '+%Y-%m-%dT%H:%M:%SZ')"

gpus=0
if command -v nvidia-smi >/dev/null 2>&1; then
  gpus=$(timeout --kill-after=5 30 nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)
fi
if ((gpus == 0)) && [[ "$device" != cpu ]]; then
  echo "e2e_gpu: skipped: no GPU (nvidia-smi lists none)"
  printf '{"status": "skipped: no GPU", "commit": "%s", "date": "%s"}\n' "$commit" "$date_utc" >"$out/e2e.json"
  printf '# End-to-end benchmarks\n\nskipped: no GPU (commit %s, %s)\n' "$commit" "$date_utc" >"$out/e2e.md"
  exit 0
fi
if [[ "$device" == cpu ]]; then
  gpu_csv="cpu ($(nproc) cores), -, -"
else
  gpu_csv="$(timeout --kill-after=5 30 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader -i 0 2>/dev/null)"
fi

# The first python that has torch (on the GPU machine plain python3 does; on
# Debian it is /usr/bin/python3), and its versions for the report. Importing
# torch can take long, or hang on a broken install: each try is capped.
torch_facts='import json, torch; print(json.dumps({"torch": torch.__version__, "cuda": torch.version.cuda,
  "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None}))'
python="${PYTHON:-}"
candidates=(python3 /usr/bin/python3 python)
[[ -n "$python" ]] && candidates=("$python")
for candidate in "${candidates[@]}"; do
  if timeout --kill-after=5 30 "$candidate" -c "$torch_facts" >"$work/torch.json" 2>"$work/torch.err"; then
    python="$candidate"
    break
  fi
done
python="${python:-python3}"

# The steps end by $end: the budget from now, or the caller's deadline if earlier.
grace=10 # timeout --kill-after: a step that ignores SIGTERM is killed this much later
end=$(($(date +%s) + budget))
if [[ "${STRIATE_DEADLINE:-}" =~ ^[0-9]+$ ]] && ((STRIATE_DEADLINE < end)); then end=$STRIATE_DEADLINE; fi
current=""     # the step running now, and its timeout's process, for on_signal
current_pid=""

# record NAME STATUS SECONDS: one line of steps.tsv, and the reports rewritten.
record() {
  printf '%s\t%s\t%s\n' "$1" "$(printf '%s' "$2" | tr '\t\n' '  ')" "$3" >>"$steps_tsv"
  printf '%-50s %s (%ss)\n' "$1" "$2" "$3"
  write_report >/dev/null 2>&1
}
# step NAME COMMAND...: runs under the time limit that is left; stdout to
# $work/NAME.out, stderr to $work/NAME.err, both appended to e2e.log.
step() {
  local name="$1"
  shift
  local left=$((end - $(date +%s)))
  local limit=$((left - grace < step_timeout ? left - grace : step_timeout))
  if ((limit < 10)); then
    record "$name" "incomplete (not run: ${left} s left of the time budget)" 0
    return 1
  fi
  local start=$SECONDS
  # In the background and waited for, so that a signal to this script runs
  # on_signal at once (bash defers traps while a foreground command runs).
  timeout --kill-after="$grace" "$limit" "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null &
  current="$name"
  current_pid=$!
  wait "$current_pid"
  local rc=$?
  current=""
  local took=$((SECONDS - start))
  {
    printf '==== %s (exit %d, %d s): %s\n' "$name" "$rc" "$took" "$*"
    cat "$work/$name.out" "$work/$name.err"
  } >>"$log"
  local status=ok
  if ((rc == 124 || rc == 137)) && ((limit < step_timeout)); then
    status="incomplete (stopped at the time budget after ${limit} s)"
  elif ((rc == 124 || rc == 137)); then
    status="failed: timed out after ${limit} s"
  elif ((rc != 0)); then
    local reason
    reason="$(grep -v '^[[:space:]]*$' "$work/$name.err" | tail -n 1 | cut -c 1-300)"
    status="failed: exit $rc${reason:+: $reason}"
  fi
  record "$name" "$status" "$took"
  [[ "$status" == ok ]]
}
# fail NAME REASON: a step that cannot start.
fail() { record "$1" "failed: $2" 0; }
# A signal (a caller's timeout) skips the EXIT trap, and would not reach the
# step in flight: its timeout runs in a process group of its own. So stop
# that step (timeout passes the signal on), record it and exit, so that the
# reports say what happened.
# shellcheck disable=SC2317 # called by the trap
on_signal() {
  if [[ -n "$current" ]]; then
    kill -TERM "$current_pid" 2>/dev/null
    record "$current" "incomplete (stopped from outside the script)" 0
  fi
  exit 143
}
trap on_signal TERM INT HUP

# ---- the report --------------------------------------------------------------------
# write_report [final]: (re)writes e2e.json and e2e.md from steps.tsv; record
# calls it after every step. "final" also prints e2e.md. Returns the script's
# exit status: 0 ok (or skipped for want of data), 1 a step failed, 3 a step
# was cut short or not run for time.
write_report() {
  if ! command -v "$python" >/dev/null 2>&1; then
    { echo "e2e_gpu: no python to write the report with; the steps:"; cat "$steps_tsv"; } >"$out/e2e.md"
    [[ "${1:-}" != final ]] || cat "$out/e2e.md"
    return 1
  fi
  E2E_WORK="$work" E2E_OUT="$out" E2E_GPU="$gpu_csv" E2E_COMMIT="$commit" E2E_DATE="$date_utc" \
    E2E_SETTINGS="epochs=$epochs steps=$steps warmup=$warmup full=$full budget=$budget image_size=$image_size" \
    E2E_FINAL="${1:-}" "$python" - <<'PY'
import csv, json, os

work, out = os.environ["E2E_WORK"], os.environ["E2E_OUT"]
steps = []
with open(os.path.join(work, "steps.tsv")) as f:
    for line in f:
        name, status, seconds = line.rstrip("\n").split("\t")
        steps.append({"name": name, "status": status, "seconds": int(seconds)})
status_of = {s["name"]: s for s in steps}


def text(name, suffix):
    path = os.path.join(work, f"{name}.{suffix}")
    return open(path).read() if os.path.exists(path) else ""


def json_result(name):
    """The program's JSON line, or None (and the step marked failed)."""
    s = status_of.get(name)
    if s is None or s["status"] != "ok":
        return None
    for line in reversed(text(name, "out").splitlines()):
        if line.startswith("{"):
            r = json.loads(line)
            if "error" in r:
                s["status"] = "failed: " + r["error"]
                return None
            return r
    s["status"] = "failed: no JSON line in the output"
    return None


def lenet(name):
    s = status_of.get(name)
    if s is None or s["status"] != "ok":
        return None
    rows = []
    try:
        if name == "lenet5-striate":  # metrics.csv: epoch,lr,train_loss,train_accuracy,test_loss,test_accuracy,train_seconds,...
            with open(os.path.join(work, "lenet5-run", "metrics.csv")) as f:
                for r in csv.DictReader(f):
                    rows.append({"epoch": int(r["epoch"]), "train_seconds": float(r["train_seconds"]),
                                 "test_accuracy": float(r["test_accuracy"])})
        else:  # epoch,train_seconds,test_accuracy
            for line in text(name, "out").splitlines():
                e, t, a = line.split(",")
                rows.append({"epoch": int(e), "train_seconds": float(t), "test_accuracy": float(a)})
    except (OSError, ValueError, KeyError) as e:
        s["status"] = f"failed: unreadable results ({e})"
        return None
    return rows


def torch_facts():
    """What the script's probe found (importing torch here after every step would be slow)."""
    try:
        return json.loads(text("torch", "json"))
    except ValueError:  # no torch: the PyTorch steps have failed and say why
        err = [line for line in text("torch", "err").splitlines() if line.strip()]
        return {"torch": "not usable: " + (err[-1] if err else "no python with torch found")}


gpu = [p.strip() for p in os.environ["E2E_GPU"].split(",")] + ["?", "?", "?"]
report = {
    "date": os.environ["E2E_DATE"], "commit": os.environ["E2E_COMMIT"],
    "device": {"name": gpu[0], "driver": gpu[1], "memory": gpu[2], **torch_facts()},
    "settings": dict(kv.split("=") for kv in os.environ["E2E_SETTINGS"].split()),
    "lenet5": {"striate": lenet("lenet5-striate"), "pytorch": lenet("lenet5-pytorch")},
    "resnet": [],
}
for s in steps:
    parts = s["name"].split("-")
    if parts[0] != "resnet" or parts[1] != "striate":
        continue
    _, _, backend, model, batch, fmt = parts
    torch_name = f"resnet-pytorch-{model}-{batch}-{fmt}"
    st, pt = json_result(s["name"]), json_result(torch_name)
    report["resnet"].append({
        "model": model, "batch": int(batch[1:]), "memory_format": fmt, "striate_backend": backend,
        "striate": st, "striate_status": s["status"], "pytorch": pt,
        "pytorch_status": status_of.get(torch_name, {"status": "not run"})["status"],
        "ratio": st["images_per_s"] / pt["images_per_s"] if st and pt else None})
failed = [s for s in steps if s["status"].startswith("failed")]
incomplete = [s for s in steps if s["status"].startswith("incomplete")]
skipped = [s for s in steps if s["status"].startswith("skipped")]
report["steps"] = steps
if failed:
    report["status"] = f"failed: {len(failed)} of {len(steps)} steps"
elif incomplete:
    report["status"] = f"incomplete: {len(incomplete)} of {len(steps)} steps cut short or not run for time"
else:
    report["status"] = "ok"
if skipped:  # e.g. "skipped (no Fashion-MNIST at ...)": the reason, once
    reasons = sorted({s["status"] for s in skipped})
    report["status"] += f"; {', '.join(s['name'] for s in skipped)} {'; '.join(reasons)}"


def write(name, content):
    """Whole or not at all: a run killed while writing keeps the previous report."""
    path = os.path.join(out, name)
    with open(path + ".tmp", "w") as f:
        f.write(content)
    os.replace(path + ".tmp", path)


write("e2e.json", json.dumps(report, indent=1) + "\n")


def mib(b):
    return "-" if b is None else f"{b / 2**20:,.0f}"


def num(v, fmt):
    return "-" if v is None else format(v, fmt)


def why(status):
    """A table cell for a missing result: the reason is in the Steps table."""
    if status == "ok":
        return ""
    if "not run" in status:
        return "not run"
    return status.split(" ")[0].rstrip(":")  # failed, incomplete or skipped


def percent(row):
    return "-" if row is None else f"{100 * row['test_accuracy']:.2f}%"


def allocs(r):
    return "-" if r is None else num(r["device_allocs_per_step"], "g")


d = report["device"]
size = report["settings"]["image_size"]
md = [f"# End-to-end benchmarks: {d['name']}", "",
      f"- Device: {d['name']} ({d['memory']}), driver {d['driver']}; PyTorch {d.get('torch')}, "
      f"CUDA {d.get('cuda')}, cuDNN {d.get('cudnn')}",
      f"- Commit {report['commit']}, {report['date']}; {os.environ['E2E_SETTINGS']}",
      "- f32 on both sides (PyTorch with TF32 off and cudnn.benchmark on); see docs/perf/README.md, "
      "\"End-to-end on a GPU\".", "",
      f"## LeNet-5 on Fashion-MNIST (batch 64, Adam 1e-3, {d['name']})", "",
      "| epoch | Striate (s) | PyTorch (s) | ratio | Striate test acc | PyTorch test acc |", "|---|---|---|---|---|---|"]
ls, lp = report["lenet5"]["striate"] or [], report["lenet5"]["pytorch"] or []
for i in range(max(len(ls), len(lp))):
    a = ls[i] if i < len(ls) else None
    b = lp[i] if i < len(lp) else None
    ratio = a["train_seconds"] / b["train_seconds"] if a and b else None
    md.append(f"| {i + 1} | {num(a and a['train_seconds'], '.2f')} | {num(b and b['train_seconds'], '.2f')} "
              f"| {num(ratio, '.2f')} | {percent(a)} | {percent(b)} |")
if not ls or not lp:
    lenet_status = [why(status_of.get(n, {"status": "not run"})["status"]) for n in ("lenet5-striate", "lenet5-pytorch")]
    md.append(f"| - | {lenet_status[0]} | {lenet_status[1]} | | | |")
md += ["", "ratio = Striate's epoch time / PyTorch's (below 1: Striate is faster).", "",
       f"## ResNet training throughput (synthetic 3x{size}x{size}, 1000 classes, SGD momentum 0.9)", "",
       "| model | batch | format | Striate kernels | Striate img/s | PyTorch img/s | ratio | "
       "Striate peak alloc / reserved (MiB) | PyTorch peak alloc / reserved (MiB) | "
       "device allocs/step Striate / PyTorch |", "|---|---|---|---|---|---|---|---|---|---|"]
for r in sorted(report["resnet"], key=lambda r: (r["model"], r["batch"], r["memory_format"], r["striate_backend"])):
    st, pt = r["striate"], r["pytorch"]
    md.append(
        f"| {r['model']} | {r['batch']} | {r['memory_format']} | {r['striate_backend']} "
        f"| {num(st and st['images_per_s'], '.1f') if st else why(r['striate_status'])} "
        f"| {num(pt and pt['images_per_s'], '.1f') if pt else why(r['pytorch_status'])} "
        f"| {num(r['ratio'], '.2f')} "
        f"| {mib(st and st['peak_allocated_bytes'])} / {mib(st and st['peak_reserved_bytes'])} "
        f"| {mib(pt and pt['peak_allocated_bytes'])} / {mib(pt and pt['peak_reserved_bytes'])} "
        f"| {allocs(st)} / {allocs(pt)} |")
md += ["", "ratio = Striate's images/s / PyTorch's (above 1: Striate is faster). channels_last: both convert "
       "the model and the input (Striate's model->to(MemoryFormat::ChannelsLast), PyTorch's "
       "model.to(memory_format=torch.channels_last)), so conv weights are OHWI and the activations NHWC "
       "throughout. Device allocations per step are counted over the timed steps (target: 0).", "",
       "## Steps", "", "| step | status | seconds |", "|---|---|---|"]
md += [f"| {s['name']} | {s['status']} | {s['seconds']} |" for s in steps]
write("e2e.md", "\n".join(md) + "\n")
if os.environ.get("E2E_FINAL"):
    print("\n".join(md))
raise SystemExit(1 if failed else 3 if incomplete else 0)
PY
}

# ---- the programs ---------------------------------------------------------------
striate="$build/tools/striate"
throughput="$build/benchmarks/resnet_throughput"
for target in striate_cli resnet_throughput; do
  binary="$striate"
  [[ "$target" == resnet_throughput ]] && binary="$throughput"
  if [[ ! -x "$binary" ]]; then
    if [[ -f "$build/CMakeCache.txt" ]]; then
      step "build-$target" cmake --build "$build" --target "$target"
    else
      fail "build-$target" "$build is not a configured CMake build"
    fi
  fi
done

# ---- ResNet throughput: striate-<backend>/pytorch, model, batch, format -------------
resnet_step() {  # resnet_step FRAMEWORK BACKEND MODEL BATCH FORMAT
  local framework="$1" backend="$2" model="$3" batch="$4" format="$5"
  local name="resnet-$framework${backend:+-$backend}-$model-b$batch-$format"
  local args=(--model "$model" --batch "$batch" --steps "$steps" --warmup "$warmup" --device "$device"
    --image-size "$image_size")
  [[ "$format" == channels_last ]] && args+=(--channels-last)
  if [[ "$framework" == striate ]]; then
    if [[ -x "$throughput" ]]; then
      step "$name" "$throughput" "${args[@]}" --backend "$backend"
    else
      fail "$name" "$throughput was not built"
    fi
  else
    step "$name" "$python" "$repo/benchmarks/resnet_torch.py" "${args[@]}"
  fi
}
resnet_round() {  # resnet_round BATCH FORMAT BACKENDS...
  local batch="$1" format="$2"
  shift 2
  for model in resnet50 resnet18; do
    for backend in "$@"; do resnet_step striate "$backend" "$model" "$batch" "$format"; done
    resnet_step pytorch "" "$model" "$batch" "$format"
  done
}

# ---- LeNet-5 on Fashion-MNIST ------------------------------------------------------
lenet_round() {
  # Both programs read the IDX files (optionally .gz) straight from the folder.
  if ! compgen -G "$data_root/train-images-idx3-ubyte*" >/dev/null; then
    # A machine without the data set (the lent GPU has no network) is no failure of the code.
    record lenet5-striate "skipped (no Fashion-MNIST at $data_root)" 0
    record lenet5-pytorch "skipped (no Fashion-MNIST at $data_root)" 0
    return
  fi
  # As benchmarks/lenet_e2e.sh on the CPU, with --device cuda; PyTorch reads
  # each batch's loss and accuracy on the host as striate train does.
  if [[ -x "$striate" ]]; then
    step lenet5-striate env OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 "$striate" train --model lenet5 \
      --dataset fashion-mnist --data-root "$data_root" --epochs "$epochs" --batch-size 64 --optimizer adam \
      --lr 1e-3 --seed 0 --workers 0 --no-progress --device "$device" --out "$work/lenet5-run"
  else
    fail lenet5-striate "$striate was not built (the striate command needs CLI11)"
  fi
  step lenet5-pytorch env OMP_NUM_THREADS=2 "$python" "$repo/benchmarks/lenet_torch.py" --data-root "$data_root" \
    --epochs "$epochs" --threads 2 --device "$device" --per-batch-metrics
}

echo "e2e_gpu: $gpu_csv; commit $commit; budget ${budget} s; logs in $log"
# The most telling comparisons first, so a spent budget cuts the least.
resnet_round "$batch" contiguous native
lenet_round
resnet_round "$batch" channels_last native
for model in resnet50 resnet18; do resnet_step striate cudnn "$model" "$batch" contiguous; done
if ((full)); then
  resnet_round 256 contiguous native cudnn
  resnet_round 256 channels_last native
fi

write_report final
exit $?
