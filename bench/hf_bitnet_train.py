"""The peer of `bitnet bench train --peer transformers`: Hugging Face transformers' own BitNet
(BitNetForCausalLM) with the shapes of our config, trained with PyTorch on the CPU, timed.

    python bench/hf_bitnet_train.py --hidden-size 256 --layers 4 --heads 4 --kv-heads 2 \\
        --intermediate-size 768 --vocab 256 --tie --micro-batch 16 --seq-len 256 --threads 1

What it computes, per optimizer step (the same work as ours):
  * the model transformers builds for a BitNet checkpoint with
    quantization_config {quant_method: bitnet, linear_class: autobitlinear, quantization_mode: online}
    (save_pretrained + from_pretrained, as a user loads it): every q/k/v/o/gate/up/down projection is
    an AutoBitLinear that, in each forward, fake-quantizes its fp32 latent weight to absmean ternary
    (WeightQuant) and its input to absmax int8 per token (ActQuant), both with straight-through
    gradients; the LM head (tied or not) stays full precision; ReLU² MLP with the sub-norms;
    transformers' default attention (SDPA), fp32 (bf16 autocast with --bf16: ours computes in bf16
    where that is native);
  * per micro-batch (grad_accum of them) forward on micro_batch x seq_len random token ids, mean
    cross-entropy against the next tokens, backward; then clip_grad_norm_, torch.optim.AdamW with
    fused=True, the kernel ours uses on the CPU (weight decay on the *_proj.weight matrices only,
    as ours), zero_grad.
Modes: "eager" runs it with TorchDynamo disabled (plain eager PyTorch: transformers' own
@torch.compile on WeightQuant/ActQuant is off too); "compiled" runs the forward+loss through
torch.compile (default inductor backend) with those decorators active. A mode that fails prints
why and the others go on.

Every mode must train: after its first step, each parameter needs a nonzero gradient. Under
torch.compile (torch 2.11, transformers 5.24) WeightQuant's and ActQuant's custom backward (the
straight-through estimator) is not used: round() differentiates to zero, and every parameter but
the tied embedding gets a zero gradient, so the step skips most of the backward work. When that
happens, "compiled" says so (a "note") and times the same model with the two estimators written as
quant(x) + (x - x.detach()): the same values and gradients, in a form torch.compile differentiates.

Prints one JSON object per line: {"parameters", "transformers", "torch"} (versions) first, then per mode {"mode", "threads",
"median_s", "min_s", "max_s", "tokens_per_s"} (plus "note" when the estimators were rewritten) or {"mode", "threads",
"error"}. With
--expect-parameters it refuses (exit 2) a model whose parameter count differs from ours.
"""
import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import traceback

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoModelForCausalLM, BitNetConfig  # noqa: E402

transformers.utils.logging.disable_progress_bar()

PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--hidden-size", type=int, required=True)
    p.add_argument("--layers", type=int, required=True)
    p.add_argument("--heads", type=int, required=True)
    p.add_argument("--kv-heads", type=int, required=True)
    p.add_argument("--intermediate-size", type=int, required=True)
    p.add_argument("--vocab", type=int, required=True)
    p.add_argument("--max-seq-len", type=int, default=2048)
    p.add_argument("--hidden-act", default="relu2")
    p.add_argument("--rope-theta", type=float, default=10000.0)
    p.add_argument("--rms-eps", type=float, default=1e-5)
    p.add_argument("--tie", action="store_true", help="tie the LM head to the embedding")
    p.add_argument("--micro-batch", type=int, required=True)
    p.add_argument("--seq-len", type=int, required=True)
    p.add_argument("--grad-accum", type=int, default=1, help="micro-batches per optimizer step")
    p.add_argument("--bf16", action="store_true", help="compute under torch.autocast(cpu, bfloat16), as ours in bf16")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--beta1", type=float, default=0.9)
    p.add_argument("--beta2", type=float, default=0.95)
    p.add_argument("--eps", type=float, default=1e-8)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--modes", default="eager,compiled", help="comma-separated: eager, compiled")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--expect-parameters", type=int, default=0, help="exit 2 unless the model has this many")
    return p.parse_args()


def emit(obj: dict) -> None:
    print(json.dumps(obj), flush=True)


def build_model(a: argparse.Namespace) -> torch.nn.Module:
    """BitNetForCausalLM as transformers loads an online-quantized (trainable) BitNet checkpoint."""
    config = BitNetConfig(vocab_size=a.vocab, hidden_size=a.hidden_size, intermediate_size=a.intermediate_size,
                          num_hidden_layers=a.layers, num_attention_heads=a.heads, num_key_value_heads=a.kv_heads,
                          hidden_act=a.hidden_act, max_position_embeddings=a.max_seq_len, rms_norm_eps=a.rms_eps,
                          rope_parameters={"rope_type": "default", "rope_theta": a.rope_theta},
                          tie_word_embeddings=a.tie, bos_token_id=None, eos_token_id=None, use_cache=False)
    config.quantization_config = {"quant_method": "bitnet", "linear_class": "autobitlinear",
                                  "quantization_mode": "online"}
    torch.manual_seed(a.seed)
    with tempfile.TemporaryDirectory() as tmp:
        AutoModelForCausalLM.from_config(config, dtype=torch.float32).save_pretrained(tmp)
        model = AutoModelForCausalLM.from_pretrained(tmp, dtype=torch.float32)
    quantized = [m for n, m in model.named_modules() if n.rsplit(".", 1)[-1] in PROJECTIONS]
    if len(quantized) != 7 * a.layers or not all(type(m).__name__ == "AutoBitLinear" and m.online_quant
                                                 for m in quantized):
        raise RuntimeError("transformers did not build online AutoBitLinear projections: "
                           + ", ".join(sorted({type(m).__name__ for m in quantized})))
    return model.train()


def optimizer_for(model: torch.nn.Module, a: argparse.Namespace) -> torch.optim.Optimizer:
    decay = [p for n, p in model.named_parameters() if n.endswith("_proj.weight")]
    other = [p for n, p in model.named_parameters() if not n.endswith("_proj.weight")]
    return torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                              {"params": other, "weight_decay": 0.0}],
                             lr=a.lr, betas=(a.beta1, a.beta2), eps=a.eps, fused=True)


class DeadGradients(RuntimeError):
    """A step whose backward leaves parameters with zero gradients: not a training step."""


def dead_gradients(model: torch.nn.Module) -> list:
    return [n for n, p in model.named_parameters() if p.grad is None or not bool(p.grad.any())]


def detach_form(quant_function: type) -> type:
    """quant_function (transformers' WeightQuant / ActQuant) as quant(x) + (x - x.detach())."""
    forward = quant_function.forward
    quantize = getattr(forward, "_torchdynamo_orig_callable", forward)  # without its @torch.compile

    class DetachFormSte:
        @staticmethod
        def apply(x: torch.Tensor) -> torch.Tensor:
            return quantize(None, x.detach()) + (x - x.detach())  # exactly quant(x); gradient 1

    return DetachFormSte


@contextlib.contextmanager
def detach_form_estimators():
    import transformers.integrations.bitnet as bitnet  # AutoBitLinear.forward looks these names up here
    original = bitnet.WeightQuant, bitnet.ActQuant
    bitnet.WeightQuant, bitnet.ActQuant = detach_form(original[0]), detach_form(original[1])
    try:
        yield
    finally:
        bitnet.WeightQuant, bitnet.ActQuant = original


def time_mode(mode: str, a: argparse.Namespace) -> dict:
    torch._dynamo.config.disable = mode == "eager"
    torch._dynamo.reset()
    model = build_model(a)
    optimizer = optimizer_for(model, a)
    params = [p for p in model.parameters()]

    def loss_of(ids: torch.Tensor) -> torch.Tensor:
        logits = model(input_ids=ids[:, :-1]).logits
        return F.cross_entropy(logits.flatten(0, 1).float(), ids[:, 1:].flatten())

    forward = torch.compile(loss_of) if mode == "compiled" else loss_of
    g = torch.Generator().manual_seed(a.seed)
    times = []
    for step in range(a.warmup + a.steps):
        batches = [torch.randint(0, a.vocab, (a.micro_batch, a.seq_len + 1), generator=g) for _ in range(a.grad_accum)]
        t0 = time.perf_counter()
        for ids in batches:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
                loss = forward(ids) / a.grad_accum
            loss.backward()
        if step == 0:
            dead = dead_gradients(model)
            if dead:
                raise DeadGradients(f"{len(dead)} of {len(params)} parameters get a zero gradient "
                                    f"(e.g. {dead[0]}): not a training step")
        torch.nn.utils.clip_grad_norm_(params, a.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        elapsed = time.perf_counter() - t0
        if not torch.isfinite(loss):
            raise RuntimeError(f"loss {loss.item()} at step {step}")
        if step >= a.warmup:
            times.append(elapsed)
    median = statistics.median(times)
    return {"mode": mode, "threads": a.threads, "median_s": median, "min_s": min(times), "max_s": max(times),
            "tokens_per_s": a.micro_batch * a.seq_len * a.grad_accum / median}


def main() -> int:
    a = parse_args()
    torch.set_num_threads(a.threads)
    parameters = sum(p.numel() for p in build_model(a).parameters())  # tied weights counted once
    emit({"parameters": parameters, "transformers": transformers.__version__, "torch": torch.__version__})
    if a.expect_parameters and parameters != a.expect_parameters:
        print(f"transformers' BitNetForCausalLM has {parameters} parameters, ours {a.expect_parameters}: "
              "the shapes differ, so the comparison would not be fair", file=sys.stderr)
        return 2
    for mode in a.modes.split(","):
        if mode not in ("eager", "compiled"):
            print(f"unknown mode {mode!r} (expected eager or compiled)", file=sys.stderr)
            return 2
        try:
            try:
                emit(time_mode(mode, a))
            except DeadGradients as e:
                if mode != "compiled":
                    raise
                with detach_form_estimators():
                    result = time_mode(mode, a)
                result["note"] = (f"as transformers builds it, {e}; timed with its straight-through estimators "
                                  "written as quant(x) + (x - x.detach()) (same values and gradients)")
                emit(result)
        except Exception as e:  # a mode that does not run here is reported, the others still run
            last = traceback.format_exception_only(type(e), e)[-1].strip().splitlines()[0]
            emit({"mode": mode, "threads": a.threads, "error": last[:300]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
