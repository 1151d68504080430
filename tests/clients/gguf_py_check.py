"""gguf-py (the `gguf` package of llama.cpp, pinned in requirements.lock) against our GGUF exports.

    python gguf_py_check.py MODEL.gguf CHECKPOINT_DIR [MODEL.gguf CHECKPOINT_DIR ...]

GGUFReader must read the file, and everything in it must agree with the checkpoint it was
exported from (model.safetensors, config.yaml, tokenizer.json when it has one):
  - metadata: architecture (bitnet for SiLU, bitnet-b1.58 for ReLU²), general.* (name,
    basename, type, size_label as gguf-py computes it), every hyper-parameter, the activation
    key, the tokenizer keys (byte vocabulary or the tokenizer.json's vocabulary and merges), the
    chat template of the run's data.chat_template, its end-of-turn id, and add_bos_token equal to
    what transformers' tokenizer does;
  - tensors: the expected set of names, ggml types and shapes (ne order);
  - projections: gguf-py's dequantized TQ1_0/TQ2_0 values times blk.N.<proj>.scale equal, bit for
    bit, codes × scale of the training quantizer computed here from the latent weights with
    torch (s_w = 1 / max(mean|W|, 1e-5), codes = clamp(round(W · s_w), -1, 1), scale = 1 / s_w);
  - embedding / head: F32 equal to the latent table, F16 equal to it rounded to fp16, Q8_0 bytes
    equal to gguf-py's own Q8_0 quantizer; norms F32 equal.
Prints a JSON summary per file; exit 1 with the first disagreements when any file fails.
"""
import importlib.metadata
import json
import os
import sys

import numpy as np
import torch
import yaml
from safetensors.numpy import load_file

import jinja2
from transformers import AutoTokenizer

import chat_template_reference

try:
    import gguf
    from gguf import GGMLQuantizationType as T
    from gguf.quants import dequantize, quantize
except ImportError as e:  # pragma: no cover - the message is the point
    sys.exit(f"FAIL: gguf is not importable ({e}); run scripts/setup to install the pinned gguf package")

PROJECTIONS = [("attn_q", "self_attn.q_proj"), ("attn_k", "self_attn.k_proj"), ("attn_v", "self_attn.v_proj"),
               ("attn_output", "self_attn.o_proj"), ("ffn_gate", "mlp.gate_proj"), ("ffn_up", "mlp.up_proj"),
               ("ffn_down", "mlp.down_proj")]
NORMS = [("attn_norm", "input_layernorm"), ("attn_sub_norm", "self_attn.attn_sub_norm"),
         ("ffn_norm", "post_attention_layernorm"), ("ffn_sub_norm", "mlp.ffn_sub_norm")]
FILE_TYPES = {T.TQ2_0: 37, T.TQ1_0: 36}

failures: list[str] = []


def check(ok: bool, what: str) -> None:
    if not ok:
        failures.append(what)


def value(reader: gguf.GGUFReader, key: str):
    field = reader.get_field(key)
    if field is None:
        failures.append(f"missing key {key}")
        return None
    return field.contents()


def expect_key(reader, key: str, want) -> None:
    got = value(reader, key)
    if got is None:
        return
    if isinstance(want, float):
        check(np.float32(got) == np.float32(want), f"{key} is {got}, expected {want}")
    else:
        check(got == want, f"{key} is {got!r}, expected {want!r}")


def ternary_reference(w: np.ndarray) -> tuple[np.ndarray, np.float32]:
    t = torch.from_numpy(w)
    s_w = 1.0 / torch.clamp(t.abs().mean(), min=1e-5)
    codes = torch.clamp(torch.round(t * s_w), -1, 1)
    return codes.numpy(), np.float32((1.0 / s_w).item())


def byte_level(b: int) -> str:
    # GPT-2's byte-to-unicode table: printable bytes as themselves, the other 68 from U+0100 on.
    keep = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    if b in keep:
        return chr(b)
    return chr(0x100 + [x for x in range(256) if x not in keep].index(b))


def check_tokenizer(reader, ckpt: str, vocab: int) -> str:
    tokens = value(reader, "tokenizer.ggml.tokens")
    expect_key(reader, "tokenizer.ggml.model", "gpt2")
    path = os.path.join(ckpt, "tokenizer.json")
    if not os.path.exists(path):  # the byte tokenizer
        expect_key(reader, "tokenizer.ggml.pre", "default")
        expect_key(reader, "tokenizer.ggml.merges", [])
        want = [byte_level(b) for b in range(256)] + ["<bos>", "<eos>", "<pad>"]
        want += [f"<unused_{i}>" for i in range(len(want), vocab)]
        check(tokens == want, "byte vocabulary differs")
        for key, id_ in (("bos", 256), ("eos", 257), ("padding", 258)):
            expect_key(reader, f"tokenizer.ggml.{key}_token_id", id_)
        return "byte"
    with open(path, encoding="utf-8") as f:
        tj = json.load(f)
    want = [f"<unused_{i}>" for i in range(vocab)]
    for text, id_ in tj["model"]["vocab"].items():
        want[id_] = text
    for added in tj.get("added_tokens", []):
        want[added["id"]] = added["content"]
    check(tokens == want, "bpe vocabulary differs from tokenizer.json")
    merges = [m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]]
    check(value(reader, "tokenizer.ggml.merges") == merges, "merges differ from tokenizer.json")
    expect_key(reader, "tokenizer.ggml.pre", "llama-bpe")
    return "bpe"


def check_chat_keys(reader, ckpt: str, config: dict) -> str:
    """tokenizer.chat_template is the Jinja of the run's data.chat_template (the official template
    of that model family, as tests/clients/chat_template_reference.py holds it); the end-of-turn id
    is <|eot_id|> for those, EOS for generic; add_bos_token is what transformers does."""
    name = config.get("data", {}).get("chat_template", "generic")
    template = value(reader, "tokenizer.chat_template")
    eot = value(reader, "tokenizer.ggml.eot_token_id")
    eos = value(reader, "tokenizer.ggml.eos_token_id")
    path = os.path.join(ckpt, "tokenizer.json")
    if name == "generic":
        check(eot == eos, f"generic template: eot_token_id {eot}, expected EOS {eos}")
        tokens = value(reader, "tokenizer.ggml.tokens")
        rendered = jinja2.Environment().from_string(template).render(
            messages=[{"role": "user", "content": "hi"}], add_generation_prompt=True,
            bos_token=tokens[value(reader, "tokenizer.ggml.bos_token_id")], eos_token=tokens[eos])
        want = f"{tokens[value(reader, 'tokenizer.ggml.bos_token_id')]}<|user|>\nhi{tokens[eos]}<|assistant|>\n"
        check(rendered == want, f"generic template renders {rendered!r}, expected {want!r}")
    else:
        check(template == chat_template_reference.OFFICIAL[name], f"tokenizer.chat_template is not {name}'s template")
        with open(path, encoding="utf-8") as f:
            vocab = json.load(f)
        ids = {t["content"]: t["id"] for t in vocab.get("added_tokens", [])}
        check(eot == ids.get("<|eot_id|>"), f"eot_token_id {eot}, expected <|eot_id|> = {ids.get('<|eot_id|>')}")
    add_bos = value(reader, "tokenizer.ggml.add_bos_token")
    if os.path.exists(path):
        tok = AutoTokenizer.from_pretrained(ckpt, local_files_only=True)
        adds = tok("hi").input_ids[:1] == [tok.bos_token_id]
        check(add_bos == adds, f"add_bos_token is {add_bos}, but transformers' tokenizer {'adds' if adds else 'does not add'} BOS")
    else:
        check(add_bos is False, "the byte tokenizer adds no BOS (documents start after EOS)")
    return name


def check_file(gguf_path: str, ckpt: str) -> int:
    failures.clear()
    reader = gguf.GGUFReader(gguf_path)
    with open(os.path.join(ckpt, "config.yaml"), encoding="utf-8") as f:
        config = yaml.safe_load(f)
    m = config["model"]
    latent = load_file(os.path.join(ckpt, "model.safetensors"))
    vocab, hidden = latent["model.embed_tokens.weight"].shape
    relu2 = m["hidden_act"] == "relu2"
    arch = "bitnet-b1.58" if relu2 else "bitnet"
    tensors = {t.name: t for t in reader.tensors}

    expect_key(reader, "general.architecture", arch)
    expect_key(reader, "general.name", config["name"])
    expect_key(reader, "general.quantization_version", 2)
    expect_key(reader, "bitnet_train.hidden_act", m["hidden_act"])
    head_dim = hidden // m["num_heads"]
    for key, want in (("vocab_size", vocab), ("context_length", m["max_seq_len"]), ("embedding_length", hidden),
                      ("block_count", m["num_layers"]), ("feed_forward_length", m["intermediate_size"]),
                      ("attention.head_count", m["num_heads"]), ("attention.head_count_kv", m["num_kv_heads"]),
                      ("attention.layer_norm_rms_epsilon", float(m["rms_norm_eps"])),
                      ("rope.freq_base", float(m["rope_theta"])), ("rope.dimension_count", head_dim)):
        expect_key(reader, f"{arch}.{key}", want)
    tokenizer = check_tokenizer(reader, ckpt, vocab)
    chat = check_chat_keys(reader, ckpt, config)
    expect_key(reader, "general.type", "model")
    expect_key(reader, "general.basename", config["name"])

    # Tensors: names, types, shapes and values.
    want_names = {"token_embd.weight", "output_norm.weight"}
    embd_type = tensors["token_embd.weight"].tensor_type
    tables = [("token_embd.weight", "model.embed_tokens.weight")]
    if not m["tie_embeddings"]:
        tables.append(("output.weight", "lm_head.weight"))
        want_names.add("output.weight")
    for name, hf in tables:
        t, x = tensors[name], latent[hf]
        check(t.tensor_type == embd_type, f"{name} is {t.tensor_type.name}, token_embd {embd_type.name}")
        check(list(t.shape) == [hidden, vocab], f"{name} ne {list(t.shape)}, expected {[hidden, vocab]}")
        if t.tensor_type == T.F32:
            check(np.array_equal(np.asarray(t.data).reshape(x.shape), x), f"{name}: F32 values differ")
        elif t.tensor_type == T.F16:
            check(np.array_equal(np.asarray(t.data).reshape(x.shape), x.astype(np.float16)), f"{name}: F16 values differ")
        elif t.tensor_type == T.Q8_0:
            check(np.array_equal(np.asarray(t.data).reshape(-1), quantize(x, T.Q8_0).reshape(-1)),
                  f"{name}: Q8_0 bytes differ from gguf-py's quantizer")
        else:
            failures.append(f"{name}: unexpected type {t.tensor_type.name}")
    check(np.array_equal(np.asarray(tensors["output_norm.weight"].data), latent["model.norm.weight"]), "output_norm differs")

    ternary_type = tensors["blk.0.attn_q.weight"].tensor_type
    check(ternary_type in FILE_TYPES, f"projections are {ternary_type.name}, expected TQ1_0 or TQ2_0")
    expect_key(reader, "general.file_type", FILE_TYPES.get(ternary_type, -1))
    worst = 0.0
    for layer in range(m["num_layers"]):
        for stem, hf in NORMS:
            name = f"blk.{layer}.{stem}.weight"
            want_names.add(name)
            t = tensors[name]
            check(t.tensor_type == T.F32, f"{name} is {t.tensor_type.name}")
            check(np.array_equal(np.asarray(t.data), latent[f"model.layers.{layer}.{hf}.weight"]), f"{name} differs")
        for stem, hf in PROJECTIONS:
            name, scale_name = f"blk.{layer}.{stem}.weight", f"blk.{layer}.{stem}.scale"
            want_names.update((name, scale_name))
            t, s = tensors[name], tensors[scale_name]
            w = latent[f"model.layers.{layer}.{hf}.weight"]
            check(t.tensor_type == ternary_type, f"{name} is {t.tensor_type.name}")
            check(list(t.shape) == [w.shape[1], w.shape[0]], f"{name} ne {list(t.shape)}, expected {[w.shape[1], w.shape[0]]}")
            check(s.tensor_type == T.F32 and list(s.shape) == [1], f"{scale_name} must be F32 {{1}}")
            codes, scale = ternary_reference(w)
            values = dequantize(np.asarray(t.data), t.tensor_type).reshape(w.shape) * np.asarray(s.data)[0]
            reference = (codes * scale).astype(np.float32)
            if not np.array_equal(values, reference):
                bad = int((values != reference).sum())
                failures.append(f"{name}: {bad} of {w.size} dequantized values differ from codes × scale")
            worst = max(worst, float(np.abs(values - reference).max()))
    parameters = sum(int(t.n_elements) for t in reader.tensors if not t.name.endswith(".scale"))
    expect_key(reader, "general.size_label", gguf.utility.size_label(parameters, 0, 0, 0))
    check(set(tensors) == want_names, f"tensor names: extra {sorted(set(tensors) - want_names)}, "
                                      f"missing {sorted(want_names - set(tensors))}")
    print(json.dumps({"model": os.path.basename(gguf_path), "gguf": importlib.metadata.version("gguf"),
                      "architecture": arch, "ternary": ternary_type.name, "embedding": embd_type.name,
                      "tokenizer": tokenizer, "chat_template": chat, "tensors": len(tensors), "max_abs_diff": worst,
                      "failures": len(failures)}))
    for f in failures[:20]:
        print("FAIL:", f, file=sys.stderr)
    return 1 if failures else 0


def main() -> int:
    args = sys.argv[1:]
    if not args or len(args) % 2:
        print("usage: gguf_py_check.py MODEL.gguf CHECKPOINT_DIR [MODEL.gguf CHECKPOINT_DIR ...]", file=sys.stderr)
        return 2
    return max(check_file(args[i], args[i + 1]) for i in range(0, len(args), 2))


if __name__ == "__main__":
    sys.exit(main())
