"""Reference chat renderings from transformers' apply_chat_template with the chat template of
the tokenizer directory's tokenizer_config.json, for tests/data/chat_llama3_test.

    python llama3_chat_reference.py TOKENIZER_DIR CHATS_JSON

reads a JSON array of conversations (arrays of {role, content}) and prints one JSON array of
token-id arrays on stdout. Offline: the directory is read in place.
"""
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from transformers import AutoTokenizer  # noqa: E402


def token_ids(rendered) -> list:
    # transformers 5 returns a BatchEncoding when tokenize=True; older versions a list.
    if hasattr(rendered, "keys") and "input_ids" in rendered:
        rendered = rendered["input_ids"]
    return [int(t) for t in rendered]


def main() -> None:
    tokenizer = AutoTokenizer.from_pretrained(sys.argv[1], local_files_only=True)
    with open(sys.argv[2], encoding="utf-8") as f:
        conversations = json.load(f)
    ids = [token_ids(tokenizer.apply_chat_template(c, tokenize=True)) for c in conversations]
    sys.stdout.write(json.dumps(ids) + "\n")


if __name__ == "__main__":
    main()
