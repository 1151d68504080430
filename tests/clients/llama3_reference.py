"""Reference encodings of the LLaMA 3 tokenizer from Hugging Face `tokenizers` (the Rust
encoder transformers uses), for tests/data/bpe_llama3_test.

    python llama3_reference.py TOKENIZER_JSON STRINGS_JSON

reads a JSON array of strings and prints one JSON array of token-id arrays
(add_special_tokens=False) on stdout.
"""
import json
import sys

from tokenizers import Tokenizer


def main() -> None:
    tokenizer = Tokenizer.from_file(sys.argv[1])
    with open(sys.argv[2], encoding="utf-8") as f:
        texts = json.load(f)
    ids = [tokenizer.encode(t, add_special_tokens=False).ids for t in texts]
    sys.stdout.write(json.dumps(ids) + "\n")


if __name__ == "__main__":
    main()
