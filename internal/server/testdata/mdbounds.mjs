// Renders inputs that made the old inline pattern backtrack for minutes
// (3,000 backticks took 15 s, 20,000 "[" 2.3 s) and a quote nested
// 50,000 deep (a stack overflow), under node with a minimal DOM, and
// prints what came out. md.js is given as the first argument.
class Node { constructor(tag) { this.tag = tag; this.children = []; this.textContent = ""; } append(...c) { this.children.push(...c); } }
globalThis.document = { createElement: (t) => new Node(t), createDocumentFragment: () => new Node("#fragment") };
const { render } = await import(process.argv[2]);
const inputs = {
  backticks: "`".repeat(6000) + "a",
  brackets: "[".repeat(50000),
  quotes: ">".repeat(50000) + " deep",
  stars: "*a".repeat(30000),
  plain: "Signing keys **rotate** every `90` days [1]; see [the runbook](https://example.org/keys).",
};
const out = {};
for (const [name, s] of Object.entries(inputs)) out[name] = render(s, (n) => "cite" + n).children.length;
console.log(JSON.stringify(out));
