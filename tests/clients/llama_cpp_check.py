"""A real llama.cpp (llama-cpp-python, pinned in requirements.lock) against our GGUF exports.

    python llama_cpp_check.py compare MODEL.gguf BITNET_LOGPROBS.json TEXT_FILE MIN_TOP1 MAX_MEAN_KL
        loads the file, checks llama.cpp tokenizes the text into exactly our ids and takes the
        chat keys (end-of-turn token, add_bos_token, chat template) as the file gives them, runs it
        teacher-forced over our tokens (EOS + text) and compares every next-token distribution
        with bitnet-run's: top-1 agreement, mean and max KL(bitnet || llama.cpp) over the whole
        vocabulary. Exit 1 when outside the thresholds.
    python llama_cpp_check.py refuse MODEL.gguf
        exit 0 when llama.cpp refuses to load the file, 1 when it loads it.
    python llama_cpp_check.py relu2-as-bitnet MODEL.gguf BITNET_LOGPROBS.json TEXT_FILE
        MODEL is a ReLU² export ("bitnet-b1.58"). Writes a copy as architecture "bitnet" with
        bitnet.hidden_activation = "relu2" (the key upstream llama.cpp's bitnet graph reads in
        newer versions), runs the comparison above on it and prints the figures. Exit 0 while
        this llama.cpp disagrees with our kernels (0.3.36 ignores the key: the figures are those
        of the same file without it), so the default export stays "bitnet-b1.58"; exit 1 when it
        agrees: then the pinned llama.cpp
        runs ReLU² models as "bitnet", and that should become the default export.

A missing llama_cpp module is a failure with a message, never a skip.
"""
import json
import os
import sys

import numpy as np

try:
    import llama_cpp
except ImportError as e:  # pragma: no cover - the message is the point
    sys.exit(f"FAIL: llama_cpp is not importable ({e}); run scripts/setup to install llama-cpp-python")


def load(path: str, threads: int = 1) -> "llama_cpp.Llama":
    return llama_cpp.Llama(model_path=path, n_ctx=512, n_batch=512, n_threads=threads, logits_all=True,
                           verbose=False)


def refuse(path: str) -> int:
    try:
        load(path)
    except Exception as e:  # llama-cpp-python raises ValueError when llama.cpp refuses the file
        print(f"llama.cpp refused {os.path.basename(path)}: {str(e).splitlines()[0]}")
        return 0
    print(f"FAIL: llama.cpp loaded {path} (it must refuse this file)", file=sys.stderr)
    return 1


def runtime_metadata_problem(llm: "llama_cpp.Llama") -> str:
    """What llama.cpp made of the keys a chat runtime uses, against the raw key values: the
    end-of-turn token it stops on, whether it adds BOS, the chat template its Jinja engine gets."""
    keys = ("tokenizer.ggml.eot_token_id", "tokenizer.ggml.add_bos_token", "tokenizer.chat_template")
    missing = [k for k in keys if k not in llm.metadata]
    if missing:
        return f"the file lacks {missing}"
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    eot = llama_cpp.llama_vocab_eot(vocab)
    if str(eot) != llm.metadata["tokenizer.ggml.eot_token_id"]:
        return f"llama.cpp's end-of-turn token is {eot}, the file says {llm.metadata['tokenizer.ggml.eot_token_id']}"
    add_bos = "true" if llama_cpp.llama_vocab_get_add_bos(vocab) else "false"
    if add_bos != llm.metadata["tokenizer.ggml.add_bos_token"]:
        return f"llama.cpp adds BOS: {add_bos}, the file says {llm.metadata['tokenizer.ggml.add_bos_token']}"
    template = llama_cpp.llama_model_chat_template(llm.model, None)
    if template is None or template.decode("utf-8") != llm.metadata["tokenizer.chat_template"]:
        return "llama.cpp's chat template is not the file's tokenizer.chat_template"
    return ""


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def compare(path: str, ours_path: str, text_path: str, min_top1: float, max_mean_kl: float) -> int:
    with open(ours_path, encoding="utf-8") as f:
        ours = json.load(f)
    with open(text_path, "rb") as f:
        text = f.read()
    llm = load(path)
    theirs = llm.tokenize(text, add_bos=False, special=False)
    expected = ours["tokens"][1:]  # ours starts with EOS
    if theirs != expected:
        at = next((i for i, (a, b) in enumerate(zip(theirs, expected)) if a != b), min(len(theirs), len(expected)))
        print(f"FAIL: tokenization differs from index {at}\n llama.cpp: {theirs[at:at + 20]} ({len(theirs)} tokens)\n"
              f" bitnet:    {expected[at:at + 20]} ({len(expected)} tokens)", file=sys.stderr)
        return 1
    problem = runtime_metadata_problem(llm)
    if problem:
        print(f"FAIL: {problem}", file=sys.stderr)
        return 1
    tokens = ours["tokens"]
    llm.reset()
    llm.eval(tokens)
    q = log_softmax(np.asarray(llm.scores[: len(tokens)]))  # (T, V) llama.cpp
    p = np.asarray(ours["logprobs"], dtype=np.float64)       # (T, V) bitnet-run
    if p.shape != q.shape:
        print(f"FAIL: shapes differ: bitnet {p.shape}, llama.cpp {q.shape}", file=sys.stderr)
        return 1
    kl = (np.exp(p) * (p - q)).sum(axis=-1)
    top1 = float((p.argmax(-1) == q.argmax(-1)).mean())
    mean_kl, max_kl = float(kl.mean()), float(kl.max())
    print(json.dumps({"model": os.path.basename(path), "llama_cpp_python": llama_cpp.__version__,
                      "positions": len(tokens), "top1": top1, "mean_kl": mean_kl, "max_kl": max_kl}))
    if not (top1 >= min_top1 and mean_kl <= max_mean_kl):
        print(f"FAIL: top-1 agreement {top1} (min {min_top1}), mean KL {mean_kl} (max {max_mean_kl})", file=sys.stderr)
        return 1
    return 0


def write_relu2_as_bitnet(src: str, dst: str) -> None:
    import gguf  # llama.cpp's own GGUF package, pinned in requirements.lock

    class Writer(gguf.GGUFWriter):
        def _pack_val(self, val, vtype, add_vtype, sub_type=None):
            # An empty array (the byte tokenizer's merges) is valid GGUF that gguf-py refuses to write.
            if vtype == gguf.GGUFValueType.ARRAY and len(val) == 0:
                head = self._pack("I", vtype) if add_vtype else b""
                return head + self._pack("I", gguf.GGUFValueType.STRING) + self._pack("Q", 0)
            return super()._pack_val(val, vtype, add_vtype, sub_type)

    reader = gguf.GGUFReader(src)
    if reader.get_field("general.architecture").contents() != "bitnet-b1.58":
        raise SystemExit(f"FAIL: {src} is not a ReLU² export (bitnet-b1.58)")
    writer = Writer(dst, "bitnet")
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name in ("general.architecture", "bitnet_train.hidden_act"):
            continue
        sub_type = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(name.replace("bitnet-b1.58.", "bitnet."), field.contents(), field.types[0], sub_type=sub_type)
    writer.add_string("bitnet.hidden_activation", "relu2")
    for t in reader.tensors:
        writer.add_tensor(t.name, np.asarray(t.data), raw_dtype=t.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def relu2_as_bitnet(path: str, ours_path: str, text_path: str) -> int:
    copy = os.path.splitext(path)[0] + "-as-bitnet.gguf"
    write_relu2_as_bitnet(path, copy)
    # The thresholds of a faithful runtime (docs/formats.md): inside them means llama.cpp computes ReLU².
    if compare(copy, ours_path, text_path, 0.9, 2e-4) == 0:
        print(f"FAIL: llama-cpp-python {llama_cpp.__version__} runs a ReLU² model written as \"bitnet\" with "
              "bitnet.hidden_activation = relu2 like our kernels: make that the default export for ReLU² models "
              "(export/export_gguf.cpp, docs/formats.md)", file=sys.stderr)
        return 1
    print(f"llama-cpp-python {llama_cpp.__version__} does not run a ReLU² model written as \"bitnet\" with "
          "bitnet.hidden_activation = relu2 like our kernels: ReLU² models stay \"bitnet-b1.58\"")
    return 0


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "refuse" and len(sys.argv) == 3:
        return refuse(sys.argv[2])
    if mode == "relu2-as-bitnet" and len(sys.argv) == 5:
        return relu2_as_bitnet(sys.argv[2], sys.argv[3], sys.argv[4])
    if mode == "compare" and len(sys.argv) == 7:
        return compare(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), float(sys.argv[6]))
    print("usage: compare MODEL JSON TEXT MIN_TOP1 MAX_MEAN_KL | refuse MODEL | relu2-as-bitnet MODEL JSON TEXT",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
