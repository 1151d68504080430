// A real llama.cpp (node-llama-cpp, pinned in tests/clients) against our exports.
//   node export_llama_cpp.mjs compare MODEL.gguf BITNET_LOGPROBS.json TEXT_FILE MIN_TOP1 MAX_MEAN_KL
//     loads the file, checks llama.cpp tokenizes the text into exactly our ids, runs it teacher-
//     forced over EOS + text and compares every next-token distribution with bitnet-run's
//     (top-1 agreement, mean and max KL(bitnet || llama.cpp)); exit 1 when outside the thresholds.
//   node export_llama_cpp.mjs refuse MODEL.gguf
//     exit 0 when llama.cpp refuses to load the file, 1 when it loads it.
// A missing node-llama-cpp is a failure with a message, never a skip.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.join(here, "..", "clients", "node_modules", "node-llama-cpp", "dist", "index.js");
if (!fs.existsSync(entry)) {
  console.error(`FAIL: ${entry} is missing: run scripts/clients (npm ci in tests/clients) to install node-llama-cpp`);
  process.exit(2);
}
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });

const [mode, modelPath, ...rest] = process.argv.slice(2);
if (mode === "refuse") {
  try {
    const model = await llama.loadModel({ modelPath });
    console.error(`FAIL: llama.cpp loaded ${modelPath} (it must refuse a ReLU² bitnet-b1.58 file)`);
    await model.dispose();
    process.exit(1);
  } catch (e) {
    console.log(`llama.cpp refused ${path.basename(modelPath)}: ${String(e.message ?? e).split("\n")[0]}`);
    process.exit(0);
  }
}
if (mode !== "compare") {
  console.error("usage: compare MODEL JSON TEXT MIN_TOP1 MAX_MEAN_KL | refuse MODEL");
  process.exit(2);
}
const [jsonPath, textPath, minTop1, maxMeanKl] = rest;
const ours = JSON.parse(fs.readFileSync(jsonPath, "utf8"));
const text = fs.readFileSync(textPath, "utf8");
const model = await llama.loadModel({ modelPath });
const theirs = Array.from(model.tokenize(text, false));
const expected = ours.tokens.slice(1);  // ours starts with EOS
if (JSON.stringify(theirs) !== JSON.stringify(expected)) {
  let at = 0;
  while (at < theirs.length && theirs[at] === expected[at]) ++at;
  console.error(`FAIL: tokenization differs from index ${at}\n llama.cpp: ${theirs.slice(at, at + 20)} (${theirs.length} tokens)\n bitnet:    ${expected.slice(at, at + 20)} (${expected.length} tokens)`);
  process.exit(1);
}
const context = await model.createContext({ contextSize: 512, threads: 1 });
const seq = context.getSequence();
const items = ours.tokens.map((t) => [t, { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } }]);
const out = await seq.controlledEvaluate(items);
const vocab = ours.logprobs[0].length;
let agree = 0, klSum = 0, klMax = 0;
for (let t = 0; t < ours.tokens.length; ++t) {
  const probs = out[t].next.probabilities;
  const q = new Float64Array(vocab).fill(1e-12);
  let qMax = -1, qArg = -1;
  for (const [tok, p] of probs) {
    q[tok] = Math.max(p, 1e-12);
    if (p > qMax) { qMax = p; qArg = tok; }
  }
  const lp = ours.logprobs[t];
  let pArg = 0, kl = 0;
  for (let i = 0; i < vocab; ++i) {
    if (lp[i] > lp[pArg]) pArg = i;
    const p = Math.exp(lp[i]);
    if (p > 0) kl += p * (lp[i] - Math.log(q[i]));
  }
  agree += pArg === qArg ? 1 : 0;
  klSum += kl;
  klMax = Math.max(klMax, kl);
}
const n = ours.tokens.length;
const top1 = agree / n, meanKl = klSum / n;
console.log(JSON.stringify({ model: path.basename(modelPath), positions: n, top1, mean_kl: meanKl, max_kl: klMax }));
await context.dispose();
await model.dispose();
if (!(top1 >= Number(minTop1)) || !(meanKl <= Number(maxMeanKl))) {
  console.error(`FAIL: top-1 agreement ${top1} (min ${minTop1}), mean KL ${meanKl} (max ${maxMeanKl})`);
  process.exit(1);
}
