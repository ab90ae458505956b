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
# Writes OUT_DIR/e2e.json, OUT_DIR/e2e.md (also printed) and OUT_DIR/e2e.log
# (every step's output). A step that fails is recorded ("failed: reason") and
# the rest still run; the exit status is 1 if any failed. Without a GPU it
# prints "skipped: no GPU" and exits 0.
#
#   bash benchmarks/e2e_gpu.sh BUILD_DIR OUT_DIR [--full] [--epochs N] [--steps N] [--warmup N] [--budget S]
#
# BUILD_DIR: a CUDA build configured with -DSTRIATE_BUILD_BENCHMARKS=ON (its
# tools/striate and benchmarks/resnet_throughput are built here if missing).
# --budget: seconds for all the steps together (default 280, 900 with --full);
# steps that would start after it is spent are recorded as failed, not run.
# Environment: PYTHON (a python3 with torch), FASHION_MNIST_ROOT (default
# /usr/share/datasets/fashion-mnist), E2E_STEP_TIMEOUT (seconds per step,
# default 150), STRIATE_GIT_COMMIT (when the checkout has no .git). To check
# the script itself on a machine without a GPU: E2E_DEVICE=cpu E2E_BATCH=2
# E2E_IMAGE_SIZE=64 (defaults cuda, 64, 224) with --epochs 1 --steps 1.
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

# The first python that has torch (on the GPU machine plain python3 does;
# on Debian it is /usr/bin/python3).
python="${PYTHON:-}"
if [[ -z "$python" ]]; then
  for candidate in python3 /usr/bin/python3 python; do
    if "$candidate" -c 'import torch' >/dev/null 2>&1; then python="$candidate"; break; fi
  done
  python="${python:-python3}"
fi

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
  gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)
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
  gpu_csv="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader -i 0 2>/dev/null)"
fi

started=$SECONDS
# record NAME STATUS SECONDS: one line of steps.tsv (the report reads it).
record() {
  printf '%s\t%s\t%s\n' "$1" "$(printf '%s' "$2" | tr '\t\n' '  ')" "$3" >>"$steps_tsv"
  printf '%-50s %s (%ss)\n' "$1" "$2" "$3"
}
# step NAME COMMAND...: runs under the time limit that is left; stdout to
# $work/NAME.out, stderr to $work/NAME.err, both appended to e2e.log.
step() {
  local name="$1"
  shift
  local left=$((budget - (SECONDS - started)))
  if ((left < 10)); then
    record "$name" "failed: not run (the ${budget} s budget was spent)" 0
    return 1
  fi
  local limit=$((left < step_timeout ? left : step_timeout))
  local start=$SECONDS
  timeout --kill-after=10 "$limit" "$@" >"$work/$name.out" 2>"$work/$name.err"
  local rc=$?
  local took=$((SECONDS - start))
  {
    printf '==== %s (exit %d, %d s): %s\n' "$name" "$rc" "$took" "$*"
    cat "$work/$name.out" "$work/$name.err"
  } >>"$log"
  local status=ok
  if ((rc == 124 || rc == 137)); then
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
  if [[ ! -d "$data_root" ]]; then
    fail lenet5-striate "Fashion-MNIST not found in $data_root (set FASHION_MNIST_ROOT)"
    fail lenet5-pytorch "Fashion-MNIST not found in $data_root (set FASHION_MNIST_ROOT)"
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

# ---- the report --------------------------------------------------------------------
if ! command -v "$python" >/dev/null 2>&1; then
  echo "e2e_gpu: no python to write the report with; the steps:" | tee "$out/e2e.md"
  tee -a "$out/e2e.md" <"$steps_tsv"
  exit 1
fi
E2E_WORK="$work" E2E_OUT="$out" E2E_GPU="$gpu_csv" E2E_COMMIT="$commit" E2E_DATE="$date_utc" \
  E2E_SETTINGS="epochs=$epochs steps=$steps warmup=$warmup full=$full budget=$budget image_size=$image_size" \
  "$python" - <<'PY'
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
    try:
        import torch
        return {"torch": torch.__version__, "cuda": torch.version.cuda,
                "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None}
    except Exception as e:  # no torch: the PyTorch steps have failed and say why
        return {"torch": f"not usable: {e}"}


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
failed = [s for s in steps if s["status"] != "ok"]
report["steps"] = steps
report["status"] = "ok" if not failed else f"failed: {len(failed)} of {len(steps)} steps"
with open(os.path.join(out, "e2e.json"), "w") as f:
    json.dump(report, f, indent=1)
    f.write("\n")


def mib(b):
    return "-" if b is None else f"{b / 2**20:,.0f}"


def num(v, fmt):
    return "-" if v is None else format(v, fmt)


def why(status):
    """A table cell for a missing result: the reason is in the Steps table."""
    return "" if status == "ok" else ("not run" if "not run" in status else "failed")


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
    md.append(f"| failed | {lenet_status[0]} | {lenet_status[1]} | | | |")
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
md += ["", "ratio = Striate's images/s / PyTorch's (above 1: Striate is faster). Striate's channels_last is the "
       "input's layout only (nn::Module cannot convert its weights yet); PyTorch converts model and input. "
       "Device allocations per step are counted over the timed steps (target: 0).", "",
       "## Steps", "", "| step | status | seconds |", "|---|---|---|"]
md += [f"| {s['name']} | {s['status']} | {s['seconds']} |" for s in steps]
with open(os.path.join(out, "e2e.md"), "w") as f:
    f.write("\n".join(md) + "\n")
print("\n".join(md))
raise SystemExit(1 if failed else 0)
PY
