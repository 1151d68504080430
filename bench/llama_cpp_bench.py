"""llama.cpp (llama-cpp-python from .venv) timed on a GGUF file, printed as one row of
`bitnet bench generate`'s table: prefill and decode tokens/s with the given thread count.

    python bench/llama_cpp_bench.py MODEL.gguf THREADS PROMPT_TOKENS DECODE_TOKENS BOUND_TOK_S
"""
import sys
import time

import llama_cpp


def main() -> None:
    path, threads, n_prompt, n_decode, bound = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    llm = llama_cpp.Llama(model_path=path, n_ctx=512, n_batch=512, n_threads=threads, n_threads_batch=threads,
                          use_mmap=True, verbose=False)
    prompt = [32 + (i * 7) % 90 for i in range(n_prompt)]  # the same tokens as ours
    llm.eval(prompt[:1])  # warm-up
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(prompt)
    prefill = n_prompt / (time.perf_counter() - t0)
    # Decode: one token at a time with the logits of each (greedy), as ours does.
    token = 65
    t0 = time.perf_counter()
    for _ in range(n_decode):
        llm.eval([token])
        token = int(llm.scores[llm.n_tokens - 1].argmax())
    decode = n_decode / (time.perf_counter() - t0)
    print(f"{threads:<8} {'llama.cpp':<10} {prefill:14.1f} {decode:14.2f} {'':>12} {100 * decode / bound:13.0f}%")


if __name__ == "__main__":
    main()
