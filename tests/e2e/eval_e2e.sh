#!/usr/bin/env bash
# `bitnet eval` end to end: a tiny model trained here is scored on held-out text and on a JSONL
# chat file through its checkpoint (LibTorch) and through its GGUF export (CPU kernels); the two
# agree within export verification's tolerance, perplexity is exp(loss), and bad input is refused.
#   eval_e2e.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
bitnet=$build/cli/bitnet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# The checkpoint computes in fp32 and the export keeps an f32 embedding, so what separates the two
# is the kernels' summation order and the int8 flips it causes (docs/formats.md): measured
# |Δ loss| 2.4e-7 nats (text) and 1.4e-7 (jsonl); the bound is the per-position KL that
# verification allows.
MAX_LOSS_DIFF=1e-3

cat "$src"/README.md "$src"/docs/*.md > "$tmp/corpus.txt"
sed "s|CORPUS|$tmp/corpus.txt|" "$src/tests/e2e/export_tiny.yaml" > "$tmp/tiny.yaml"
"$bitnet" train "$tmp/tiny.yaml" log.dir="$tmp/runs" name=m > "$tmp/train.log" 2>&1 || { cat "$tmp/train.log"; fail "training"; }
ckpt=$tmp/runs/m/ckpt/latest
"$bitnet" export "$ckpt" --out "$tmp/m.gguf" --embd-type f32 > "$tmp/export.log" 2>&1 || { cat "$tmp/export.log"; fail "export"; }

# Held-out text: documents separated by blank lines (the corpus's style), not in the corpus.
printf 'Ternary weights keep the model small.\n\nThe export runs on a plain CPU.\n\n%s\n' \
  "$(for i in $(seq 1 30); do echo "Line $i of a held-out paragraph about training, export and data."; done)" > "$tmp/held.txt"
printf '{"messages": [{"role": "user", "content": "What does export do?"}, {"role": "assistant", "content": "It packs ternary weights."}]}\n{"prompt": "Train a model ", "completion": "from a YAML config."}\n' > "$tmp/chat.jsonl"

value() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
close() { python3 -c 'import sys; a,b,t=map(float,sys.argv[1:]); sys.exit(0 if abs(a-b) <= t else 1)' "$1" "$2" "$3"; }

for name in text jsonl; do
  if [[ $name == text ]]; then file=held.txt extra=(--separator ""); else file=chat.jsonl extra=(--format jsonl); fi
  "$bitnet" eval "$tmp/runs/m" --data "$tmp/$file" "${extra[@]}" --seq-len 64 --json "$tmp/$name-ckpt.json" > "$tmp/e1.log" 2>&1 ||
    { cat "$tmp/e1.log"; fail "eval of the run directory ($name)"; }
  grep -q "checkpoint on LibTorch" "$tmp/e1.log" || { cat "$tmp/e1.log"; fail "the checkpoint backend is not named"; }
  grep -q "bits/byte" "$tmp/e1.log" || fail "no bits/byte"
  "$bitnet" eval "$tmp/m.gguf" --data "$tmp/$file" "${extra[@]}" --seq-len 64 --threads 1 --json "$tmp/$name-gguf.json" > "$tmp/e2.log" 2>&1 ||
    { cat "$tmp/e2.log"; fail "eval of the GGUF ($name)"; }
  grep -q "CPU kernels" "$tmp/e2.log" || { cat "$tmp/e2.log"; fail "the kernels backend is not named"; }
  a=$(value "$tmp/$name-ckpt.json" loss) b=$(value "$tmp/$name-gguf.json" loss)
  echo "$name: checkpoint loss $a, GGUF loss $b"
  close "$a" "$b" "$MAX_LOSS_DIFF" || fail "$name: checkpoint loss $a and GGUF loss $b differ by more than $MAX_LOSS_DIFF"
  [[ $(value "$tmp/$name-ckpt.json" targets) == $(value "$tmp/$name-gguf.json" targets) ]] || fail "$name: target counts differ"
  python3 -c 'import json,math,sys; d=json.load(open(sys.argv[1])); assert abs(d["ppl"]-math.exp(d["loss"]))<1e-9*d["ppl"] and d["bits_per_byte"]>0' \
    "$tmp/$name-ckpt.json" || fail "$name: ppl is not exp(loss)"
done
# The masked chat examples score only the assistant/completion tokens: fewer targets than tokens.
[[ $(value "$tmp/jsonl-ckpt.json" targets) -lt 60 ]] || fail "jsonl: prompt tokens were scored"

# --max-windows scores a prefix; a window longer than the context and a missing file are refused.
"$bitnet" eval "$ckpt" --data "$tmp/held.txt" --separator "" --seq-len 16 --max-windows 3 --json "$tmp/few.json" > /dev/null 2>&1 ||
  fail "eval --max-windows"
[[ $(value "$tmp/few.json" windows) == 3 && $(value "$tmp/few.json" targets) == 48 ]] || fail "--max-windows 3 of 16 tokens"
if "$bitnet" eval "$tmp/m.gguf" --data "$tmp/held.txt" --seq-len 129 > "$tmp/bad.log" 2>&1; then fail "a window over the context was accepted"; fi
grep -q "longer than the model's context 128" "$tmp/bad.log" || { cat "$tmp/bad.log"; fail "context message"; }
if "$bitnet" eval "$ckpt" --data "$tmp/missing.txt" > "$tmp/bad2.log" 2>&1; then fail "a missing file was accepted"; fi
grep -q "missing.txt" "$tmp/bad2.log" || { cat "$tmp/bad2.log"; fail "missing file message"; }
echo "eval_e2e: ok"
