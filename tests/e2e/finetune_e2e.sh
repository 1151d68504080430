#!/usr/bin/env bash
# The fine-tuning journey end to end through the real binaries:
#   a small full-precision LLaMA-style model in Hugging Face layout (scripts/make_tiny_hf_model.py)
#   -> bitnet train: QAT fine-tune into ternary on a JSONL chat file (configs/qat-from-llama.yaml)
#   -> bitnet train: LoRA on top of the ternary checkpoint (configs/finetune-lora.yaml)
#   -> bitnet lora merge -> bitnet export (verifies) -> bitnet verify -> bitnet generate / bitnet-run
#   finetune_e2e.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
bitnet=$build/cli/bitnet
run=$build/cli/bitnet-run
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Mean training loss of the first and last n logged steps of a run.
loss_falls() {  # run_dir, n
  python3 - "$1/metrics.jsonl" "$2" <<'PY'
import json, sys
losses = [json.loads(l)["loss"] for l in open(sys.argv[1]) if '"loss"' in l]
n = int(sys.argv[2])
first, last = sum(losses[:n]) / n, sum(losses[-n:]) / n
print("loss %.4f -> %.4f over %d steps" % (first, last, len(losses)))
sys.exit(0 if last < first - 0.2 else 1)
PY
}

# A chat corpus with a learnable pattern: the assistant repeats the user's word three times.
python3 - "$tmp/chat.jsonl" <<'PY'
import json, random, sys
rng = random.Random(5)
words = ["ternary", "weights", "llama", "bitnet", "kernel", "export", "adapter", "merge", "token", "shard"]
with open(sys.argv[1], "w") as f:
    for _ in range(400):
        w = rng.choice(words)
        f.write(json.dumps({"messages": [{"role": "user", "content": "Repeat " + w},
                                         {"role": "assistant", "content": " ".join([w] * 3)}]}) + "\n")
PY
python3 "$src/scripts/make_tiny_hf_model.py" "$tmp/llama" --hidden 256 --intermediate 512 --tied

common=(log.dir="$tmp/runs" data.format=jsonl data.paths="[$tmp/chat.jsonl]" data.chat_template=generic
        data.seq_len=64 data.val_fraction=0.05 train.micro_batch=8 train.threads=1 eval.batches=2
        sample.prompts="[Repeat ]" sample.tokens=8)

"$bitnet" train "$src/configs/qat-from-llama.yaml" init_from="$tmp/llama" name=qat train.steps=60 \
  quant.lambda_warmup_steps=10 eval.every=0 "${common[@]}" > "$tmp/qat.log" 2>&1 || { cat "$tmp/qat.log"; fail "QAT run"; }
grep -q "init_from" "$tmp/qat.log" || true
loss_falls "$tmp/runs/qat" 5 || { cat "$tmp/qat.log"; fail "QAT loss did not fall"; }

"$bitnet" train "$src/configs/finetune-lora.yaml" init_from="$tmp/runs/qat/ckpt/latest" name=lora train.steps=40 \
  lora.rank=4 lora.dropout=0 eval.every=0 "${common[@]}" > "$tmp/lora.log" 2>&1 || { cat "$tmp/lora.log"; fail "LoRA run"; }
[[ -f $tmp/runs/lora/adapter/adapter_model.safetensors && -f $tmp/runs/lora/adapter/adapter_config.json ]] ||
  fail "no PEFT adapter files in $tmp/runs/lora/adapter"

# An unmerged LoRA checkpoint is refused by export with the merge command.
if "$bitnet" export "$tmp/runs/lora/ckpt/latest" --out "$tmp/unmerged.gguf" > "$tmp/refuse.log" 2>&1; then
  fail "export of an unmerged LoRA checkpoint should be refused"
fi
grep -q "lora merge" "$tmp/refuse.log" || { cat "$tmp/refuse.log"; fail "refusal does not say how to merge"; }

"$bitnet" lora merge "$tmp/runs/lora" --out "$tmp/merged" > "$tmp/merge.log" 2>&1 || { cat "$tmp/merge.log"; fail "merge"; }
cat "$tmp/merge.log"
"$bitnet" export "$tmp/merged/latest" --out "$tmp/chat.gguf" > "$tmp/export.log" 2>&1 || { cat "$tmp/export.log"; fail "export"; }
grep -q "verification passed" "$tmp/export.log" || { cat "$tmp/export.log"; fail "export did not verify"; }
grep -q "(gguf, bitnet)" "$tmp/export.log" || { cat "$tmp/export.log"; fail "a tied SiLU model should export as 'bitnet'"; }
"$bitnet" verify "$tmp/chat.gguf" --checkpoint "$tmp/merged/latest" > "$tmp/verify.log" 2>&1 || { cat "$tmp/verify.log"; fail "verify"; }
a=$("$bitnet" generate "$tmp/chat.gguf" --prompt "Repeat " -n 24 --temp 0 2>/dev/null)
b=$("$run" "$tmp/chat.gguf" --prompt "Repeat " -n 24 --temp 0 2>/dev/null)
[[ "$a" == "$b" && -n "$a" ]] || fail "bitnet generate and bitnet-run differ: '$a' vs '$b'"
echo "generated: $a"
echo "PASS: llama (HF) -> QAT on chat JSONL -> LoRA -> merge -> export -> verify -> generate"
