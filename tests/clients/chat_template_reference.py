"""Reference chat renderings for tests/data/chat_llama3_test: transformers' apply_chat_template
with the Jinja chat template of a model family, token ids and the assistant mask.

    python chat_template_reference.py TOKENIZER_DIR TEMPLATE CHATS_JSON
    python chat_template_reference.py --official TEMPLATE     prints OFFICIAL[TEMPLATE]

TEMPLATE is `bitnet-2b4t` or `llama3`. Reads a JSON array of conversations (arrays of {role,
content}) and prints one JSON array on stdout, per conversation {"ids", "mask", "prompt_ids"}:
the training rendering (no generation prompt), its assistant mask (1 = the token overlaps
assistant content or its end-of-turn token) and the rendering with the generation prompt.

OFFICIAL holds each family's template as its model card ships it. transformers computes the mask
from `{% generation %}` blocks, which the official templates lack, so MARKED holds the same
templates with those blocks; every conversation is rendered with both and must give the same
text, so the markers change nothing else. Offline: the tokenizer directory is read in place.
"""
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

OFFICIAL = {
    # microsoft/bitnet-b1.58-2B-4T tokenizer_config.json
    "bitnet-2b4t": (
        "{% set loop_messages = messages %}{% for message in loop_messages %}"
        "{% set content = message['role'] | capitalize + ': '+ message['content'] | trim + '<|eot_id|>' %}"
        "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
        "{{ content }}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant: ' }}{% endif %}"
    ),
    # meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json
    "llama3": (
        "{% set loop_messages = messages %}{% for message in loop_messages %}"
        "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
        "+ message['content'] | trim + '<|eot_id|>' %}"
        "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
        "{{ content }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
    ),
}

MARKED = {
    "bitnet-2b4t": (
        "{%- for message in messages -%}"
        "{%- if loop.first %}{{ bos_token }}{% endif -%}"
        "{{ message['role'] | capitalize + ': ' }}"
        "{%- if message['role'] == 'assistant' -%}"
        "{% generation %}{{ message['content'] | trim + '<|eot_id|>' }}{% endgeneration %}"
        "{%- else -%}{{ message['content'] | trim + '<|eot_id|>' }}{%- endif -%}"
        "{%- endfor -%}"
        "{%- if add_generation_prompt %}{{ 'Assistant: ' }}{% endif -%}"
    ),
    "llama3": (
        "{%- for message in messages -%}"
        "{%- if loop.first %}{{ bos_token }}{% endif -%}"
        "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' }}"
        "{%- if message['role'] == 'assistant' -%}"
        "{% generation %}{{ message['content'] | trim + '<|eot_id|>' }}{% endgeneration %}"
        "{%- else -%}{{ message['content'] | trim + '<|eot_id|>' }}{%- endif -%}"
        "{%- endfor -%}"
        "{%- if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif -%}"
    ),
}


def render(tokenizer, name: str, conversation: list) -> dict:
    for prompt in (False, True):
        texts = [tokenizer.apply_chat_template(conversation, chat_template=t[name], tokenize=False,
                                               add_generation_prompt=prompt) for t in (OFFICIAL, MARKED)]
        if texts[0] != texts[1]:
            raise SystemExit(f"{name}: the marked template renders {texts[1]!r}, the official one {texts[0]!r}")
    train = tokenizer.apply_chat_template(conversation, chat_template=MARKED[name], tokenize=True,
                                          return_dict=True, return_assistant_tokens_mask=True)
    prompt = tokenizer.apply_chat_template(conversation, chat_template=MARKED[name], tokenize=True,
                                           return_dict=True, add_generation_prompt=True)
    return {"ids": list(train["input_ids"]), "mask": list(train["assistant_masks"]),
            "prompt_ids": list(prompt["input_ids"])}


def main() -> None:
    if sys.argv[1] == "--official":
        sys.stdout.write(OFFICIAL[sys.argv[2]])
        return
    from transformers import AutoTokenizer  # not needed to print a template

    tokenizer = AutoTokenizer.from_pretrained(sys.argv[1], local_files_only=True)
    name = sys.argv[2]
    if name not in OFFICIAL:
        raise SystemExit(f"unknown template {name!r} (known: {', '.join(OFFICIAL)})")
    with open(sys.argv[3], encoding="utf-8") as f:
        conversations = json.load(f)
    sys.stdout.write(json.dumps([render(tokenizer, name, c) for c in conversations]) + "\n")


if __name__ == "__main__":
    main()
