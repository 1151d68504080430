// llama.cpp (node-llama-cpp from tests/clients) timed on a GGUF file, printed as one row of
// `bitnet bench generate`'s table: prefill and decode tokens/s with the given thread count.
//   node bench/llama_cpp_bench.mjs MODEL.gguf THREADS PROMPT_TOKENS DECODE_TOKENS BOUND_TOK_S
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.join(here, "..", "tests", "clients", "node_modules", "node-llama-cpp", "dist", "index.js");
if (!fs.existsSync(entry)) {
  console.error(`${entry} is missing: run scripts/clients`);
  process.exit(2);
}
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);
const [modelPath, threadsArg, promptArg, decodeArg, boundArg] = process.argv.slice(2);
const threads = Number(threadsArg), nPrompt = Number(promptArg), nDecode = Number(decodeArg), bound = Number(boundArg);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath, useMmap: true });
const context = await model.createContext({ contextSize: 512, batchSize: 512, threads });
const seq = context.getSequence();
const prompt = Array.from({ length: nPrompt }, (_, i) => 32 + ((i * 7) % 90));  // same tokens as ours
await seq.evaluateWithoutGeneratingNewTokens([prompt[0]]);  // warm-up
await seq.clearHistory();
let t0 = performance.now();
await seq.evaluateWithoutGeneratingNewTokens(prompt);
const prefill = nPrompt / ((performance.now() - t0) / 1000);
// Decode computes the logits of every token (greedy), as ours does.
let n = 0;
t0 = performance.now();
for await (const token of seq.evaluate([65], { temperature: 0 })) {
  if (++n >= nDecode) break;
}
const decode = n / ((performance.now() - t0) / 1000);
const pad = (s, n) => String(s).padStart(n);
console.log(`${String(threads).padEnd(8)} ${"llama.cpp".padEnd(10)} ${pad(prefill.toFixed(1), 14)} ${pad(decode.toFixed(2), 14)} ${pad("", 12)} ${pad((100 * decode / bound).toFixed(0), 13)}%`);
await context.dispose();
await model.dispose();
