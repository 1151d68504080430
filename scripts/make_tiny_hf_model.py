#!/usr/bin/env python3
"""Writes a small random model in Hugging Face layout (config.json + safetensors), standard
library only, for trying init_from and the fine-tuning configs without downloading anything:

  scripts/make_tiny_hf_model.py /tmp/tiny-llama                  # LLaMA-style: SiLU, no sub-norms
  scripts/make_tiny_hf_model.py /tmp/tiny-bitnet --kind bitnet   # BitNet: relu2, sub-norms
  options: --dtype f32|bf16, --shards N (model-0000i-of-0000N.safetensors + index), --seed S,
           --hidden C --intermediate F --layers L (defaults 64, 128, 2), --tied (LLaMA with a tied head)

Vocabulary 259 (the byte tokenizer's), 4 heads / 2 KV heads. Widths that are multiples of 256
(--hidden 256 --intermediate 512) make the fine-tuned model exportable to TQ2_0/TQ1_0; a tied
SiLU model exports as llama.cpp's `bitnet` architecture.
"""
import argparse
import json
import os
import random
import struct


def bf16_bytes(values):
    out = bytearray()
    for v in values:
        bits = struct.unpack("<I", struct.pack("<f", v))[0]
        bits += 0x7FFF + ((bits >> 16) & 1)  # round to nearest even
        out += struct.pack("<H", (bits >> 16) & 0xFFFF)
    return bytes(out)


def write_safetensors(path, tensors, dtype):
    header, blobs, offset = {}, [], 0
    for name, (shape, values) in tensors:
        data = bf16_bytes(values) if dtype == "bf16" else struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "BF16" if dtype == "bf16" else "F32", "shape": shape,
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--kind", choices=["llama", "bitnet"], default="llama")
    ap.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--intermediate", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--tied", action="store_true", help="tie the LM head to the embedding (LLaMA kind)")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    V, C, L, H, KV, F = 259, a.hidden, a.layers, 4, 2, a.intermediate
    D = C // H

    def normal(*shape, std=0.05):
        n = 1
        for s in shape:
            n *= s
        return (list(shape), [rng.gauss(0.0, std) for _ in range(n)])

    def norm(n):
        return ([n], [1.0 + rng.gauss(0.0, 0.05) for _ in range(n)])

    t = [("model.embed_tokens.weight", normal(V, C))]
    for i in range(L):
        p = "model.layers.%d." % i
        t += [(p + "input_layernorm.weight", norm(C)),
              (p + "self_attn.q_proj.weight", normal(C, C)),
              (p + "self_attn.k_proj.weight", normal(KV * D, C)),
              (p + "self_attn.v_proj.weight", normal(KV * D, C)),
              (p + "self_attn.o_proj.weight", normal(C, C)),
              (p + "post_attention_layernorm.weight", norm(C)),
              (p + "mlp.gate_proj.weight", normal(F, C)),
              (p + "mlp.up_proj.weight", normal(F, C)),
              (p + "mlp.down_proj.weight", normal(C, F))]
        if a.kind == "bitnet":
            t += [(p + "self_attn.attn_sub_norm.weight", norm(C)), (p + "mlp.ffn_sub_norm.weight", norm(F))]
    t.append(("model.norm.weight", norm(C)))
    tied = a.kind == "bitnet" or a.tied
    if not tied:
        t.append(("lm_head.weight", normal(V, C)))

    os.makedirs(a.out, exist_ok=True)
    config = {"architectures": ["BitNetForCausalLM" if a.kind == "bitnet" else "LlamaForCausalLM"],
              "model_type": a.kind, "hidden_act": "relu2" if a.kind == "bitnet" else "silu",
              "hidden_size": C, "intermediate_size": F, "num_hidden_layers": L, "num_attention_heads": H,
              "num_key_value_heads": KV, "vocab_size": V, "max_position_embeddings": 256,
              "rope_theta": 10000.0, "rms_norm_eps": 1e-5, "tie_word_embeddings": tied,
              "torch_dtype": "bfloat16" if a.dtype == "bf16" else "float32"}
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    if a.shards <= 1:
        write_safetensors(os.path.join(a.out, "model.safetensors"), t, a.dtype)
    else:
        per = (len(t) + a.shards - 1) // a.shards
        weight_map = {}
        for s in range(a.shards):
            name = "model-%05d-of-%05d.safetensors" % (s + 1, a.shards)
            part = t[s * per:(s + 1) * per]
            write_safetensors(os.path.join(a.out, name), part, a.dtype)
            weight_map.update({n: name for n, _ in part})
        with open(os.path.join(a.out, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=2)
    print("wrote %s (%s, %s, %d shard(s))" % (a.out, a.kind, a.dtype, max(1, a.shards)))


if __name__ == "__main__":
    main()
