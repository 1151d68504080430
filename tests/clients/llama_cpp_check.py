"""A real llama.cpp (llama-cpp-python, pinned in requirements.lock) against our GGUF exports.

    python llama_cpp_check.py compare MODEL.gguf BITNET_LOGPROBS.json TEXT_FILE MIN_TOP1 MAX_MEAN_KL
        loads the file, checks llama.cpp tokenizes the text into exactly our ids, runs it
        teacher-forced over our tokens (EOS + text) and compares every next-token distribution
        with bitnet-run's: top-1 agreement, mean and max KL(bitnet || llama.cpp) over the whole
        vocabulary. Exit 1 when outside the thresholds.
    python llama_cpp_check.py refuse MODEL.gguf
        exit 0 when llama.cpp refuses to load the file, 1 when it loads it.

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


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "refuse" and len(sys.argv) == 3:
        return refuse(sys.argv[2])
    if mode == "compare" and len(sys.argv) == 7:
        return compare(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), float(sys.argv[6]))
    print("usage: compare MODEL JSON TEXT MIN_TOP1 MAX_MEAN_KL | refuse MODEL", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
