#!/usr/bin/env bash
# End-to-end dataset tests through the real `bitnet` binary.
#   data_e2e.sh BUILD_DIR SOURCE_DIR sft|shards|prepare|bpe|gguf
# sft   : a JSONL chat file with one bad line: `data check` fails naming file:line, or skips it
#         with bad_lines=skip and prints statistics; `bitnet train` fine-tunes on it with packed
#         rows (loss goes down) and with padded rows; a packed run stopped and resumed gives
#         the uninterrupted run's losses bit for bit.
# shards: `data prepare` (text and JSONL) writes token shards and a summary; training on the
#         shards works; a shard for another tokenizer is refused; a damaged shard is refused.
# prepare: `data prepare` writes the same files whatever the thread count (1, 2, 3); stopped
#         after some shards (a test option, and a real kill -9) and run again, it equals an
#         uninterrupted prepare byte for byte (also JSONL with skipped bad lines); a gzip input gives the shards of the plain file;
#         truncated and corrupt gzip files fail naming the file; {"text"} JSONL lines with
#         --format jsonl-text give the shards of the same documents in a text file; resuming with
#         other options or a changed input is refused with what differs; a complete prepare says so.
# bpe   : the LLaMA 3 tokenizer.json trains a tiny model; the checkpoint carries tokenizer.json,
#         verifies, and resumes.
# gguf  : a tiny model trained with the LLaMA 3 tokenizer exports to GGUF with its BPE vocabulary
#         (tokens, merges, types, pre "llama-bpe"); bitnet-run reads that vocabulary back and
#         tokenizes held-out text into the reference encoder's ids, and the real llama.cpp
#         tokenizes it into the same ids and runs the model (distributions close to ours).
set -euo pipefail
build=$1 src=$2 mode=$3
bitnet=$build/cli/bitnet
# The reference clients (.venv, scripts/setup) and the LLaMA 3 tokenizer files (test data beside
# the repository); ctest passes both in the environment.
python=${BITNET_PYTHON:-$src/.venv/bin/python}
llama3=${BITNET_LLAMA3_TOKENIZER_DIR:-$src/../shared/data/llama3-tokenizer}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
base=(log.dir="$tmp/runs" model.hidden_size=32 model.num_layers=1 model.num_heads=2 model.num_kv_heads=1
      model.intermediate_size=64 model.max_seq_len=128 train.threads=1 train.micro_batch=4
      sample.every=0 eval.every=0 checkpoint.every=0 log.every=1 optim.lr=1e-2 schedule.warmup_steps=1)
config=$src/tests/e2e/tiny.yaml

# A chat file: messages, prompt/completion and plain text lines (examples that can be learnt).
chat=$tmp/chat.jsonl
for i in $(seq 1 40); do
  echo "{\"messages\": [{\"role\": \"user\", \"content\": \"say hi $((i % 4))\"}, {\"role\": \"assistant\", \"content\": \"hi $((i % 4))!\"}]}"
  echo "{\"prompt\": \"2+$((i % 3))=\", \"completion\": \" $((2 + i % 3))\"}"
done > "$chat"

first_last_loss() {  # metrics.jsonl -> "first last"
  python3 -c 'import json,sys; l=[d["loss"] for d in map(json.loads, open(sys.argv[1])) if "loss" in d]; print(l[0], l[-1])' "$1"
}

case $mode in
sft)
  cp "$chat" "$tmp/bad.jsonl"
  echo '{"prompt": "x"' >> "$tmp/bad.jsonl"
  if "$bitnet" data check "$config" data.format=jsonl data.paths="$tmp/bad.jsonl" > "$tmp/check.log" 2>&1; then
    fail "a bad line passed data check"
  fi
  grep -q "bad.jsonl:81" "$tmp/check.log" || { cat "$tmp/check.log"; fail "the error does not name file:line"; }
  "$bitnet" data check "$config" data.format=jsonl data.paths="$tmp/bad.jsonl" data.bad_lines=skip \
    data.seq_len=48 > "$tmp/check.log" 2>&1 || { cat "$tmp/check.log"; fail "data check with skip"; }
  cat "$tmp/check.log"
  grep -q "examples  80, " "$tmp/check.log" || fail "example count"
  grep -q "1 skipped" "$tmp/check.log" || fail "skipped count"
  grep -q "masked (not trained)" "$tmp/check.log" || fail "masked fraction"
  grep -q "rows      pad: 80 rows" "$tmp/check.log" || fail "pad rows"
  for layout in pack pad; do
    "$bitnet" train "$config" "${base[@]}" name=$layout data.format=jsonl data.paths="$chat" data.seq_len=48 \
      data.sft_layout=$layout data.val_fraction=0.1 train.steps=25 eval.every=25 > "$tmp/$layout.log" 2>&1 ||
      { cat "$tmp/$layout.log"; fail "training with $layout rows"; }
    grep -q "finetune  jsonl examples, $layout rows" "$tmp/$layout.log" || { cat "$tmp/$layout.log"; fail "start table"; }
    read -r first last < <(first_last_loss "$tmp/runs/$layout/metrics.jsonl")
    echo "$layout: loss $first -> $last"
    python3 -c "import sys; sys.exit(0 if $last < 0.6 * $first else 1)" || fail "$layout: loss did not go down ($first -> $last)"
  done
  # Packed rows resume exactly: stop at step 3, resume, and match the uninterrupted run's losses.
  sft=(data.format=jsonl data.paths="$chat" data.seq_len=48 train.steps=6 checkpoint.every=3)
  "$bitnet" train "$config" "${base[@]}" name=whole "${sft[@]}" > "$tmp/w.log" 2>&1 || { cat "$tmp/w.log"; fail "whole run"; }
  "$bitnet" train "$config" "${base[@]}" name=split "${sft[@]}" train.stop_after=3 > "$tmp/s1.log" 2>&1 || { cat "$tmp/s1.log"; fail "first half"; }
  "$bitnet" train "$config" "${base[@]}" name=split "${sft[@]}" resume=auto > "$tmp/s2.log" 2>&1 || { cat "$tmp/s2.log"; fail "resume"; }
  losses() { python3 -c 'import json,sys; print(" ".join(repr(d["loss"]) for d in map(json.loads, open(sys.argv[1])) if "loss" in d and d["step"] > 3))' "$1"; }
  [[ "$(losses "$tmp/runs/whole/metrics.jsonl")" == "$(losses "$tmp/runs/split/metrics.jsonl")" ]] ||
    fail "resumed packed fine-tuning differs: $(losses "$tmp/runs/whole/metrics.jsonl") vs $(losses "$tmp/runs/split/metrics.jsonl")"
  ;;
shards)
  "$bitnet" data prepare "$chat" --format jsonl --out "$tmp/sft" > "$tmp/prep.log" 2>&1 || { cat "$tmp/prep.log"; fail "prepare jsonl"; }
  cat "$tmp/prep.log"
  grep -q "80 examples" "$tmp/prep.log" || fail "prepare summary"
  grep -q "tokens/s" "$tmp/prep.log" || fail "prepare throughput"
  # A line over --max-line-bytes is a bad line named with its length, never held whole.
  { head -n 4 "$chat"; printf '{"text": "%s"}\n' "$(head -c 5000 /dev/zero | tr '\0' x)"; } > "$tmp/long.jsonl"
  if "$bitnet" data prepare "$tmp/long.jsonl" --format jsonl --max-line-bytes 1000 --out "$tmp/long" > "$tmp/long.log" 2>&1; then
    fail "a line over --max-line-bytes was accepted"
  fi
  grep -q "long.jsonl:5" "$tmp/long.log" && grep -q "1000" "$tmp/long.log" || { cat "$tmp/long.log"; fail "long line message"; }
  [[ $(wc -c < "$tmp/long.log") -lt 2000 ]] || fail "the long-line message quotes too much input"
  "$bitnet" data prepare "$tmp/long.jsonl" --format jsonl --max-line-bytes 1000 --bad-lines skip --out "$tmp/long" > "$tmp/long2.log" 2>&1 ||
    { cat "$tmp/long2.log"; fail "prepare skipping the long line"; }
  grep -q "4 examples" "$tmp/long2.log" || { cat "$tmp/long2.log"; fail "prepare with a skipped long line"; }
  printf 'one two three\n%%\nfour five\n%%\nsix\n' > "$tmp/a.txt"
  cat "$src"/docs/*.md > "$tmp/b.txt"
  "$bitnet" data prepare "$tmp/a.txt" "$tmp/b.txt" --separator "" --out "$tmp/text" --shard-tokens 20000 > "$tmp/prep2.log" 2>&1 ||
    { cat "$tmp/prep2.log"; fail "prepare text"; }
  n=$(ls "$tmp/text"/*.bts | wc -l)
  [[ $n -ge 2 ]] || fail "expected several shards, got $n"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["masked"] is False and len(d["shards"]) == int(sys.argv[2])' "$tmp/text/dataset.json" "$n" || fail "dataset.json"
  "$bitnet" train "$config" "${base[@]}" name=shards data.format=shards data.paths="$tmp/sft" data.seq_len=48 \
    train.steps=4 > "$tmp/t1.log" 2>&1 || { cat "$tmp/t1.log"; fail "training on jsonl shards"; }
  grep -q "finetune  shards examples" "$tmp/t1.log" || fail "masked shards should train as fine-tuning"
  "$bitnet" train "$config" "${base[@]}" name=shards2 data.format=shards data.paths="$tmp/text" data.seq_len=32 \
    train.steps=4 > "$tmp/t2.log" 2>&1 || { cat "$tmp/t2.log"; fail "training on text shards"; }
  bpe=$llama3/tokenizer.json
  [[ -f $bpe ]] || fail "the LLaMA 3 tokenizer.json is missing from $llama3"
  if "$bitnet" data check "$config" data.format=shards data.paths="$tmp/text" tokenizer.type=bpe tokenizer.path="$bpe" > "$tmp/c.log" 2>&1; then
    fail "shards of the byte tokenizer were accepted with the bpe tokenizer"
  fi
  grep -q "another tokenizer" "$tmp/c.log" || { cat "$tmp/c.log"; fail "tokenizer mismatch message"; }
  f=$(ls "$tmp/text"/*.bts | head -1)
  head -c 100 "$f" > "$tmp/text/zz-broken.bts"
  if "$bitnet" data check "$config" data.format=shards data.paths="$tmp/text" > "$tmp/c2.log" 2>&1; then
    fail "a truncated shard was accepted"
  fi
  grep -q "zz-broken.bts" "$tmp/c2.log" || { cat "$tmp/c2.log"; fail "damaged shard message"; }
  ;;
prepare)
  # Two corpora of fortunes (about 1.3 MB each), cut into many chunks and shards.
  files=(/usr/share/games/fortunes/*.u8)
  half=$((${#files[@]} / 2))
  cat "${files[@]:0:$half}" > "$tmp/c1.txt"
  cat "${files[@]:$half}" > "$tmp/c2.txt"
  gzip -c "$tmp/c2.txt" > "$tmp/c2.txt.gz"
  opts=(--shard-tokens 200000 --chunk-bytes 16384)
  prep() { "$bitnet" data prepare "$@" "${opts[@]}"; }
  same_dirs() { diff -r "$1" "$2" > /dev/null || fail "$3: $(diff -rq "$1" "$2" | head -3)"; }
  for t in 1 2 3; do
    prep "$tmp/c1.txt" "$tmp/c2.txt" --out "$tmp/t$t" --threads $t > "$tmp/t$t.log" 2>&1 || { cat "$tmp/t$t.log"; fail "prepare with $t threads"; }
  done
  cat "$tmp/t1.log"
  n=$(ls "$tmp/t1"/*.bts | wc -l)
  [[ $n -ge 5 ]] || fail "expected several shards, got $n"
  [[ ! -e $tmp/t1/prepare-progress.json ]] || fail "the progress file outlived a complete prepare"
  same_dirs "$tmp/t1" "$tmp/t2" "2 threads wrote other files than 1"
  same_dirs "$tmp/t1" "$tmp/t3" "3 threads wrote other files than 1"
  # Stopped twice after 2 shards (with other thread counts), then finished: the same files.
  if prep "$tmp/c1.txt" "$tmp/c2.txt" --out "$tmp/r" --stop-after-shards 2 --threads 2 > "$tmp/r1.log" 2>&1; then
    fail "a stopped prepare exited 0"
  fi
  grep -q "stopped after 2 shard" "$tmp/r1.log" || { cat "$tmp/r1.log"; fail "stop message"; }
  [[ -f $tmp/r/prepare-progress.json && ! -e $tmp/r/dataset.json ]] || fail "a stopped prepare must leave progress, not dataset.json"
  prep "$tmp/c1.txt" "$tmp/c2.txt" --out "$tmp/r" --stop-after-shards 2 --threads 3 > "$tmp/r2.log" 2>&1 && fail "second stop exited 0"
  [[ $(ls "$tmp/r"/*.bts | wc -l) -eq 4 ]] || fail "expected 4 shards after two stops"
  prep "$tmp/c1.txt" "$tmp/c2.txt" --out "$tmp/r" --threads 1 > "$tmp/r3.log" 2>&1 || { cat "$tmp/r3.log"; fail "resume"; }
  grep -q "resumed after 4 shard(s)" "$tmp/r3.log" || { cat "$tmp/r3.log"; fail "resume message"; }
  same_dirs "$tmp/t1" "$tmp/r" "a resumed prepare differs from an uninterrupted one"
  # A real kill -9 wherever it lands (once a shard is recorded, or later), then a run to the end.
  prep "$tmp/c1.txt" "$tmp/c2.txt" --out "$tmp/k" --threads 1 > "$tmp/k1.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 2000); do
    grep -q '"shard-00000.bts"' "$tmp/k/prepare-progress.json" 2> /dev/null && break
    kill -0 $pid 2> /dev/null || break
    sleep 0.005
  done
  kill -9 $pid 2> /dev/null || true
  wait $pid 2> /dev/null || true
  [[ -e $tmp/k/dataset.json ]] && echo "kill -9 landed after the end" || echo "kill -9 landed with $(ls "$tmp/k"/*.bts 2> /dev/null | wc -l) shard(s) written"
  prep "$tmp/c1.txt" "$tmp/c2.txt" --out "$tmp/k" --threads 2 > "$tmp/k2.log" 2>&1 || { cat "$tmp/k2.log"; fail "resume after kill -9"; }
  same_dirs "$tmp/t1" "$tmp/k" "a prepare resumed after kill -9 differs from an uninterrupted one"
  # JSONL with bad lines skipped: a stopped and resumed prepare counts them as an uninterrupted one.
  for i in $(seq 1 30); do cat "$chat"; echo "not json $i"; done > "$tmp/bad.jsonl"
  jopts=(--format jsonl --bad-lines skip --shard-tokens 3000 --chunk-bytes 2048)
  "$bitnet" data prepare "$tmp/bad.jsonl" "${jopts[@]}" --out "$tmp/j1" --threads 2 > "$tmp/j1.log" 2>&1 || { cat "$tmp/j1.log"; fail "jsonl prepare"; }
  grep -q "2,400 examples.*30 bad line(s) skipped" "$tmp/j1.log" || { cat "$tmp/j1.log"; fail "jsonl counts"; }
  "$bitnet" data prepare "$tmp/bad.jsonl" "${jopts[@]}" --out "$tmp/j2" --stop-after-shards 3 > /dev/null 2>&1 && fail "stop exited 0"
  "$bitnet" data prepare "$tmp/bad.jsonl" "${jopts[@]}" --out "$tmp/j2" --threads 3 > "$tmp/j2.log" 2>&1 || { cat "$tmp/j2.log"; fail "jsonl resume"; }
  same_dirs "$tmp/j1" "$tmp/j2" "a resumed JSONL prepare with skipped lines differs from an uninterrupted one"
  # A complete prepare run again has nothing to do.
  prep "$tmp/c1.txt" "$tmp/c2.txt" --out "$tmp/t1" > "$tmp/again.log" 2>&1 || { cat "$tmp/again.log"; fail "prepare again"; }
  grep -q "nothing to do" "$tmp/again.log" || { cat "$tmp/again.log"; fail "a complete prepare should say so"; }
  # Resuming with other options or a changed input is refused, naming the difference.
  prep "$tmp/c1.txt" "$tmp/c2.txt" --out "$tmp/m" --stop-after-shards 1 > /dev/null 2>&1 && fail "stop exited 0"
  if "$bitnet" data prepare "$tmp/c1.txt" "$tmp/c2.txt" --out "$tmp/m" --shard-tokens 1000 > "$tmp/m1.log" 2>&1; then
    fail "a resume with another --shard-tokens was accepted"
  fi
  grep -q "shard_tokens: was 200000, now 1000" "$tmp/m1.log" && grep -q -- "--restart" "$tmp/m1.log" || { cat "$tmp/m1.log"; fail "mismatch message"; }
  cp "$tmp/c2.txt" "$tmp/c2b.txt"
  prep "$tmp/c1.txt" "$tmp/c2b.txt" --out "$tmp/m2" --stop-after-shards 1 > /dev/null 2>&1 && fail "stop exited 0"
  echo "one more fortune" >> "$tmp/c2b.txt"
  if prep "$tmp/c1.txt" "$tmp/c2b.txt" --out "$tmp/m2" > "$tmp/m2.log" 2>&1; then fail "a resume over a changed input was accepted"; fi
  grep -q "input 2 (.*c2b.txt): size was" "$tmp/m2.log" || { cat "$tmp/m2.log"; fail "changed input message"; }
  prep "$tmp/c1.txt" "$tmp/c2b.txt" --out "$tmp/m2" --restart > "$tmp/m3.log" 2>&1 || { cat "$tmp/m3.log"; fail "--restart"; }
  grep -q "resumed" "$tmp/m3.log" && fail "--restart resumed"
  mkdir -p "$tmp/foreign" && cp "$tmp/t1/shard-00000.bts" "$tmp/foreign/old.bts"
  if prep "$tmp/c1.txt" --out "$tmp/foreign" > "$tmp/f.log" 2>&1; then fail "shards of an unknown prepare were mixed in"; fi
  grep -q "old.bts" "$tmp/f.log" || { cat "$tmp/f.log"; fail "foreign shards message"; }
  # gzip: the shards of the plain file; damaged gzip files fail naming the file.
  prep "$tmp/c1.txt" "$tmp/c2.txt.gz" --out "$tmp/g" --threads 2 > "$tmp/g.log" 2>&1 || { cat "$tmp/g.log"; fail "prepare gzip"; }
  for f in "$tmp/t1"/*.bts; do cmp -s "$f" "$tmp/g/$(basename "$f")" || fail "gzip input: $(basename "$f") differs"; done
  [[ $(ls "$tmp/g"/*.bts | wc -l) -eq $n ]] || fail "gzip input: shard count"
  head -c $(($(wc -c < "$tmp/c2.txt.gz") / 2)) "$tmp/c2.txt.gz" > "$tmp/cut.gz"
  if prep "$tmp/cut.gz" --out "$tmp/cut" > "$tmp/cut.log" 2>&1; then fail "a truncated gzip file was accepted"; fi
  grep -q "truncated gzip file '.*cut.gz'" "$tmp/cut.log" || { cat "$tmp/cut.log"; fail "truncated gzip message"; }
  python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[len(b)//2:len(b)//2+64]=bytes(64); open(sys.argv[2],"wb").write(b)' \
    "$tmp/c2.txt.gz" "$tmp/bad.gz"
  if prep "$tmp/bad.gz" --out "$tmp/bad" > "$tmp/bad.log" 2>&1; then fail "a corrupt gzip file was accepted"; fi
  grep -q "gzip data in '.*bad.gz' near byte" "$tmp/bad.log" || { cat "$tmp/bad.log"; fail "corrupt gzip message"; }
  [[ $(wc -l < "$tmp/bad.log") -lt 5 ]] || { cat "$tmp/bad.log"; fail "corrupt gzip: expected a short error"; }
  # {"text"} lines (Hugging Face datasets' JSONL) as pre-training documents: the shards of the same
  # documents in a text file.
  python3 -c '
import json, sys
docs = [f"document {i}: " + "word " * (i % 17) + "end" for i in range(500)]
open(sys.argv[1], "w").write("\n%\n".join(docs) + "\n")
with open(sys.argv[2], "w") as f:
    for i, d in enumerate(docs):
        f.write(json.dumps({"text": d, "id": i, "meta": {"source": "test"}}) + "\n")' "$tmp/docs.txt" "$tmp/hf.jsonl"
  "$bitnet" data prepare "$tmp/docs.txt" --out "$tmp/docs" --shard-tokens 5000 > "$tmp/d.log" 2>&1 || { cat "$tmp/d.log"; fail "prepare docs.txt"; }
  "$bitnet" data prepare "$tmp/hf.jsonl" --format jsonl-text --out "$tmp/hf" --shard-tokens 5000 > "$tmp/hf.log" 2>&1 ||
    { cat "$tmp/hf.log"; fail "prepare --format jsonl-text"; }
  grep -q "500 documents" "$tmp/hf.log" || { cat "$tmp/hf.log"; fail "jsonl-text document count"; }
  for f in "$tmp/docs"/*.bts; do cmp -s "$f" "$tmp/hf/$(basename "$f")" || fail "jsonl-text: $(basename "$f") differs from the text file's"; done
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["masked"] is False and d["source_format"] == "jsonl-text"' "$tmp/hf/dataset.json" ||
    fail "jsonl-text dataset.json"
  "$bitnet" data prepare "$tmp/hf.jsonl" --format jsonl --out "$tmp/hf-sft" > "$tmp/hf2.log" 2>&1 || { cat "$tmp/hf2.log"; fail "prepare --format jsonl of text lines"; }
  grep -q -- "--format jsonl-text" "$tmp/hf2.log" || { cat "$tmp/hf2.log"; fail "no hint towards jsonl-text"; }
  "$bitnet" data check "$config" data.format=shards data.paths="$tmp/hf" data.seq_len=32 > "$tmp/hfc.log" 2>&1 ||
    { cat "$tmp/hfc.log"; fail "data check of jsonl-text shards"; }
  grep -q "documents 500," "$tmp/hfc.log" || { cat "$tmp/hfc.log"; fail "jsonl-text shards should load as documents"; }
  ;;
bpe)
  bpe=$llama3/tokenizer.json
  [[ -f $bpe ]] || fail "the LLaMA 3 tokenizer.json is missing from $llama3"
  "$bitnet" train "$config" "${base[@]}" name=bpe tokenizer.type=bpe tokenizer.path="$bpe" data.format=jsonl \
    data.chat_template=bitnet-2b4t data.paths="$chat" data.seq_len=32 train.steps=2 train.stop_after=1 \
    checkpoint.every=1 > "$tmp/b1.log" 2>&1 || { cat "$tmp/b1.log"; fail "bpe training"; }
  ck=$tmp/runs/bpe/ckpt/latest
  cmp -s "$ck/tokenizer.json" "$bpe" || fail "the checkpoint does not carry tokenizer.json"
  cmp -s "$ck/tokenizer_config.json" "$(dirname "$bpe")/tokenizer_config.json" || fail "tokenizer_config.json"
  grep -q '"tokenizer.json"' "$ck/manifest.json" || fail "tokenizer.json is not in the manifest"
  "$bitnet" train "$config" "${base[@]}" name=bpe tokenizer.type=bpe tokenizer.path="$bpe" data.format=jsonl \
    data.chat_template=bitnet-2b4t data.paths="$chat" data.seq_len=32 train.steps=2 checkpoint.every=1 resume=auto \
    > "$tmp/b2.log" 2>&1 || { cat "$tmp/b2.log"; fail "resume with the tokenizer in the checkpoint"; }
  printf 'x' >> "$tmp/runs/bpe/ckpt/latest/tokenizer.json"
  if "$bitnet" train "$config" "${base[@]}" name=bpe tokenizer.type=bpe tokenizer.path="$bpe" data.format=jsonl \
    data.paths="$chat" data.seq_len=32 train.steps=3 resume=auto > "$tmp/b3.log" 2>&1; then
    grep -q "tokenizer.json" "$tmp/b3.log" || { cat "$tmp/b3.log"; fail "a damaged tokenizer.json went unnoticed"; }
  fi
  ;;
gguf)
  bpe=$llama3/tokenizer.json
  [[ -f $bpe ]] || fail "the LLaMA 3 tokenizer.json is missing from $llama3"
  [[ -x $python ]] || fail "$python is missing: run scripts/setup (it makes .venv with the test clients)"
  cat "$src"/docs/*.md > "$tmp/corpus.txt"
  sed "s|CORPUS|$tmp/corpus.txt|" "$src/tests/e2e/export_tiny.yaml" > "$tmp/export.yaml"
  "$bitnet" train "$tmp/export.yaml" log.dir="$tmp/runs" name=g tokenizer.type=bpe tokenizer.path="$bpe" \
    train.steps=3 schedule.warmup_steps=1 train.micro_batch=2 data.seq_len=32 > "$tmp/g.log" 2>&1 || { cat "$tmp/g.log"; fail "bpe training"; }
  "$bitnet" export "$tmp/runs/g/ckpt/latest" --out "$tmp/g.gguf" > "$tmp/e.log" 2>&1 || { cat "$tmp/e.log"; fail "export"; }
  grep -q "verification passed" "$tmp/e.log" || { cat "$tmp/e.log"; fail "verification"; }
  held=$'Héllo wörld — they\'re 12345 tokens!  \n\n  emoji 🦙 and   spaces'
  printf '%s' "$held" > "$tmp/held.txt"
  "$build/cli/bitnet-run" "$tmp/g.gguf" --prompt "$held" --logprobs-json "$tmp/lp.json" --threads 1 ||
    fail "bitnet-run on a BPE export"
  "$python" -c '
import json, sys
from tokenizers import Tokenizer
ref = Tokenizer.from_file(sys.argv[1]).encode(open(sys.argv[2], encoding="utf-8").read(), add_special_tokens=False).ids
ours = json.load(open(sys.argv[3]))["tokens"][1:]
if ref != ours:
    sys.exit(f"FAIL: bitnet-run ids {ours} reference {ref}")
print("bitnet-run tokenizes like the reference:", len(ours), "tokens")' "$bpe" "$tmp/held.txt" "$tmp/lp.json" ||
    fail "GGUF vocabulary tokenization"
  # Tokenization must be identical; the distributions of a 3-step model are compared loosely.
  "$python" "$src/tests/clients/llama_cpp_check.py" compare "$tmp/g.gguf" "$tmp/lp.json" "$tmp/held.txt" 0.5 1e-2 ||
    fail "llama.cpp on the BPE export"
  ;;
*) fail "unknown mode $mode" ;;
esac
echo "PASS: data_e2e $mode"
