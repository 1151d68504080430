"""Tiny models written by transformers itself (from_config + save_pretrained, seeded), and
transformers' own forward logits on fixed ids, for tests/trainer/test_init_from_transformers.

    python hf_tiny_models.py OUT_DIR

Writes one directory per case under OUT_DIR, each with the files transformers wrote plus
`reference.json` = {"ids": [[...]], "logits": [[[...]]], "note": ...}:
  bitnet-online-f32    BitNetConfig, fp32 master weights, quantization_config online
                       (AutoBitLinear: absmean ternary weights, absmax int8 activations per token);
  bitnet-online-bf16   the same stored in bf16 (keys the config leaves out: rms_norm_eps and the
                       rope parameters are deleted from config.json, so they take BitNetConfig's
                       defaults 1e-5 and 500000 on both sides);
  bitnet-offline       quantization_mode offline: weights packed by transformers' pack_weights
                       (uint8 [out/4, in]) + weight_scale (multiplied), as the 2B4T checkpoint;
                       reference.json is transformers' forward of the packed model,
                       reference_online.json its online forward with the weights unpacked to
                       codes × weight_scale (dequantized.safetensors holds those weights);
  llama-f32 / llama-f16 / llama-bf16-sharded
                       LlamaConfig, the reference is the unquantized LLaMA with the two
                       sub-norms our conversion inserts (RMSNorm with weight 1 before o_proj and
                       down_proj) applied as forward pre-hooks: init_from turns LLaMA into that.
Every forward runs in fp32 (bf16/f16 weights are upcast exactly). Offline: nothing is downloaded.
"""
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TORCHDYNAMO_DISABLE", "1")  # the BitNet integration's @torch.compile: eager is enough here

import torch  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from transformers import AutoModelForCausalLM, BitNetConfig, LlamaConfig  # noqa: E402
from transformers.integrations.bitnet import pack_weights  # noqa: E402

VOCAB = 96
PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def ids() -> torch.Tensor:
    g = torch.Generator().manual_seed(11)
    return torch.randint(0, VOCAB, (2, 10), generator=g)


def sizes() -> dict:
    return dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                bos_token_id=0, eos_token_id=1)


def random_model(config, seed: int):
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    with torch.no_grad():  # norms away from 1, so a norm loaded into the wrong place shows
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.1)
    return model.eval()


def write_reference(out: str, model, note: str, file: str = "reference.json") -> None:
    x = ids()
    with torch.no_grad():
        logits = model(input_ids=x).logits.float()
    with open(os.path.join(out, file), "w", encoding="utf-8") as f:
        json.dump({"ids": x.tolist(), "logits": logits.tolist(), "note": note}, f)


def edit_config(out: str, edit) -> None:
    path = os.path.join(out, "config.json")
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    edit(config)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)


def bitnet_online(root: str, name: str, dtype: torch.dtype) -> None:
    out = os.path.join(root, name)
    config = BitNetConfig(**sizes(), tie_word_embeddings=False)
    config.quantization_config = {"quant_method": "bitnet", "linear_class": "autobitlinear",
                                  "quantization_mode": "online"}
    model = random_model(config, seed=1)
    model.to(dtype).save_pretrained(out)
    if dtype != torch.float32:  # leave the keys out: both sides must take BitNetConfig's defaults
        edit_config(out, lambda c: [c.pop(k, None) for k in ("rms_norm_eps", "rope_parameters", "rope_theta")])
    loaded = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    assert type(loaded.model.layers[0].self_attn.q_proj).__name__ == "AutoBitLinear"
    write_reference(out, loaded, "transformers AutoBitLinear online (fp32)")


def bitnet_offline(root: str) -> None:
    """The packed layout of the 2B4T checkpoint, produced with transformers' own packer."""
    out = os.path.join(root, "bitnet-offline")
    config = BitNetConfig(**sizes(), tie_word_embeddings=True)
    model = random_model(config, seed=2)
    model.save_pretrained(out)
    state = load_file(os.path.join(out, "model.safetensors"))
    for key in list(state):
        if key.rsplit(".", 2)[-2] in PROJECTIONS:
            w = state[key].float()
            s_w = 1.0 / w.abs().mean().clamp(min=1e-5)
            codes = (w * s_w).round().clamp(-1, 1)
            state[key] = pack_weights(codes.to(torch.int8))
            state[key[: -len("weight")] + "weight_scale"] = (1.0 / s_w).reshape(1).float()
    save_file(state, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    edit_config(out, lambda c: c.update(quantization_config={
        "quant_method": "bitnet", "linear_class": "autobitlinear", "quantization_mode": "offline",
        "modules_to_not_convert": ["lm_head"], "use_rms_norm": False}))
    loaded = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    write_reference(out, loaded, "transformers AutoBitLinear offline (packed, weight_scale multiplied)")
    # The same weights as master weights, codes × weight_scale from transformers' own unpacking,
    # run through transformers' online (QAT) forward: what training from this checkpoint computes.
    dequantized = {}
    for name, module in loaded.named_modules():
        if type(module).__name__ == "AutoBitLinear":
            module.weight.data = module.weight.data * module.weight_scale
            module.online_quant = True
            dequantized[name + ".weight"] = module.weight.data.clone()
    save_file(dequantized, os.path.join(out, "dequantized.safetensors"))
    write_reference(out, loaded, "transformers AutoBitLinear online on codes × weight_scale", "reference_online.json")


def with_inserted_sub_norms(model, eps: float):
    """LLaMA plus the attn/ffn sub-norms (weight 1) init_from inserts before o_proj / down_proj."""
    def rms(module, args):
        x = args[0]
        return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps),)
    for layer in model.model.layers:
        layer.self_attn.o_proj.register_forward_pre_hook(rms)
        layer.mlp.down_proj.register_forward_pre_hook(rms)
    return model


def llama(root: str, name: str, dtype: torch.dtype, shard: str | None) -> None:
    out = os.path.join(root, name)
    config = LlamaConfig(**sizes(), tie_word_embeddings=False, rms_norm_eps=1e-6)
    model = random_model(config, seed=3)
    kwargs = {"max_shard_size": shard} if shard else {}
    model.to(dtype).save_pretrained(out, **kwargs)
    loaded = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    write_reference(out, with_inserted_sub_norms(loaded, config.rms_norm_eps),
                    "transformers LLaMA (fp32) + sub-norms of ones, unquantized")


def main() -> None:
    root = sys.argv[1]
    bitnet_online(root, "bitnet-online-f32", torch.float32)
    bitnet_online(root, "bitnet-online-bf16", torch.bfloat16)
    bitnet_offline(root)
    llama(root, "llama-f32", torch.float32, None)
    llama(root, "llama-f16", torch.float16, None)
    llama(root, "llama-bf16-sharded", torch.bfloat16, "40KB")
    print("\n".join(sorted(os.listdir(root))))


if __name__ == "__main__":
    main()
