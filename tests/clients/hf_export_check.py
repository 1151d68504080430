"""transformers (pinned in requirements.lock) against our `bitnet export --format hf` directories.

    python hf_export_check.py DIR BITNET_LOGPROBS.json TEXT_FILE MIN_TOP1 MAX_MEAN_KL

AutoTokenizer and AutoModelForCausalLM load DIR offline (transformers' bitnet integration: packed
weights, weight_scale multiplied, int8 activations per token); the tokenizer must give our ids for
the text (ours are EOS + text) and carry the official chat template; the model runs teacher-forced
over our tokens and every next-token distribution is compared with bitnet-run's on a GGUF export
of the same checkpoint: top-1 agreement and mean KL(bitnet || transformers). The HF directory
stores the embedding in BF16 and the GGUF one in F32, so they are close, not equal: on the barely
trained test model, whose top two tokens are often a few hundredths of a nat apart, the BF16
rounding moves logits by ~0.01-0.02 and flips such near-ties. A position therefore agrees when
transformers' top token is bitnet's, or within TIE_NATS of it in bitnet's distribution; the strict
figure is printed too. Exit 1 outside the thresholds.
"""
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TORCHDYNAMO_DISABLE", "1")  # the bitnet integration's @torch.compile: eager is enough

import torch  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

import chat_template_reference  # noqa: E402

TIE_NATS = 0.05  # several times the BF16-embedding shift measured on the test model (<= 0.017)


def main() -> int:
    directory, ours_path, text_path = sys.argv[1:4]
    min_top1, max_mean_kl = float(sys.argv[4]), float(sys.argv[5])
    with open(ours_path, encoding="utf-8") as f:
        ours = json.load(f)
    with open(text_path, encoding="utf-8") as f:
        text = f.read()
    tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
    ids = tokenizer(text, add_special_tokens=False).input_ids
    if ids != ours["tokens"][1:]:
        print(f"FAIL: transformers' tokenizer gives {ids[:20]}..., bitnet {ours['tokens'][1:21]}...", file=sys.stderr)
        return 1
    if tokenizer.chat_template not in chat_template_reference.OFFICIAL.values():
        print("FAIL: the directory's chat template is none of the official ones", file=sys.stderr)
        return 1
    model = AutoModelForCausalLM.from_pretrained(directory, local_files_only=True, dtype=torch.float32).eval()
    kind = type(model.model.layers[0].self_attn.q_proj).__name__
    if kind != "AutoBitLinear":
        print(f"FAIL: transformers built {kind} projections, not AutoBitLinear", file=sys.stderr)
        return 1
    # transformers keeps the BF16 embedding (a module it does not quantize) in BF16 whatever dtype
    # is asked for, and the tied head then fails against fp32 hidden states: upcast it (exact).
    model.model.embed_tokens.weight.data = model.model.embed_tokens.weight.data.float()
    if model.lm_head.weight.dtype != torch.float32:
        model.lm_head.weight.data = model.lm_head.weight.data.float()
    with torch.no_grad():
        q = torch.log_softmax(model(input_ids=torch.tensor([ours["tokens"]])).logits[0].double(), dim=-1)
    p = torch.tensor(ours["logprobs"], dtype=torch.float64)
    if p.shape != q.shape:
        print(f"FAIL: shapes differ: bitnet {tuple(p.shape)}, transformers {tuple(q.shape)}", file=sys.stderr)
        return 1
    kl = (p.exp() * (p - q)).sum(-1)
    ours_top, theirs_top = p.argmax(-1), q.argmax(-1)
    strict_top1 = float((ours_top == theirs_top).double().mean())
    # bitnet's log-probability of its own top token minus that of transformers' top token: 0 when
    # they agree, small at a near-tie.
    gap = p.gather(-1, ours_top[:, None])[:, 0] - p.gather(-1, theirs_top[:, None])[:, 0]
    top1 = float((gap <= TIE_NATS).double().mean())
    mean_kl, max_kl = float(kl.mean()), float(kl.max())
    print(json.dumps({"dir": os.path.basename(directory), "positions": len(ours["tokens"]), "top1": top1,
                      "strict_top1": strict_top1, "max_tie_gap": float(gap.max()), "mean_kl": mean_kl,
                      "max_kl": max_kl}))
    if not (top1 >= min_top1 and mean_kl <= max_mean_kl):
        print(f"FAIL: top-1 agreement within {TIE_NATS} nats {top1} (min {min_top1}), mean KL {mean_kl} "
              f"(max {max_mean_kl})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
