// Drives a ragtune server with the official openai npm SDK: the base URL
// and key come in RAGTUNE_URL and RAGTUNE_KEY. Prints one JSON line of
// findings; exits 1 on the first thing that does not hold.
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.env.RAGTUNE_URL + "/v1", apiKey: process.env.RAGTUNE_KEY, maxRetries: 0 });
const fail = (msg) => { console.error(msg); process.exit(1); };
const out = {};

const models = await client.models.list();
out.models = models.data.map((m) => m.id);
if (!out.models.includes("ragtune/hybrid")) fail("models: " + JSON.stringify(out.models));

const question = [{ role: "user", content: "How often do signing keys rotate?" }];
const res = await client.chat.completions.create({ model: "ragtune", messages: question });
out.answer = res.choices[0].message.content;
out.usage = res.usage;
if (!out.answer.includes("ninety days") || !(res.usage.prompt_tokens > 0) || !(res.usage.completion_tokens > 0)) fail("completion: " + JSON.stringify(res));

const stream = await client.chat.completions.create({ model: "ragtune", messages: question, stream: true, stream_options: { include_usage: true } });
let streamed = "", pieces = 0, streamUsage = null;
for await (const chunk of stream) {
  if (chunk.usage) streamUsage = chunk.usage;
  const piece = chunk.choices[0]?.delta?.content;
  if (piece) { streamed += piece; pieces++; }
}
out.pieces = pieces;
if (streamed !== out.answer || pieces < 3 || !streamUsage || streamUsage.completion_tokens !== res.usage.completion_tokens) fail("stream: " + JSON.stringify({ streamed, pieces, streamUsage }));

try {
  await client.chat.completions.create({ model: "gpt-nonexistent", messages: question });
  fail("an unknown model was accepted");
} catch (e) {
  if (!(e instanceof OpenAI.NotFoundError)) fail("unknown model: " + e);
  out.unknownModel = e.status;
}

// The SDK asks for base64 by default and decodes it itself.
const emb = await client.embeddings.create({ model: "ragtune", input: ["signing keys rotate", "backups"] });
out.dims = emb.data.map((d) => d.embedding.length);
const norm = Math.sqrt(emb.data[0].embedding.reduce((s, x) => s + x * x, 0));
if (emb.data.length !== 2 || !(Math.abs(norm - 1) < 1e-3)) fail("embeddings: dims " + out.dims + ", norm " + norm);
out.norm = norm;

try {
  await client.embeddings.create({ model: "ragtune", input: "x", dimensions: 3 });
  fail("a wrong dimensions was accepted");
} catch (e) {
  if (!(e instanceof OpenAI.BadRequestError)) fail("dimensions: " + e);
}
console.log(JSON.stringify(out));
