// Drives ragtune's MCP server with the official TypeScript SDK client,
// over stdio (spawning RAGTUNE_BIN mcp) and over streamable HTTP
// (RAGTUNE_URL/mcp with RAGTUNE_KEY). Prints one JSON line per transport;
// exits 1 on the first thing that does not hold.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const fail = (msg) => { console.error(msg); process.exit(1); };

async function probe(name, transport) {
  const client = new Client({ name: "ragtune-test", version: "1.0.0" });
  await client.connect(transport);
  const tools = (await client.listTools()).tools.map((t) => t.name).sort();
  if (tools.join(",") !== "ask,get_document,list_documents,search") fail(name + " tools: " + tools);
  const ask = await client.callTool({ name: "ask", arguments: { query: "Why is an unchanged file skipped on the next ingest?" } });
  const text = ask.content.map((c) => c.text).join("");
  if (ask.isError || !text.includes("[1]") || !text.includes("Sources:") || !ask.structuredContent?.citations?.length) fail(name + " ask: " + JSON.stringify(ask));
  const refusal = await client.callTool({ name: "ask", arguments: { query: "Who designed the ragtune logo?" } });
  if (!refusal.structuredContent?.abstained) fail(name + " refusal: " + JSON.stringify(refusal));
  const bad = await client.callTool({ name: "search", arguments: { query: "x", mode: "sideways" } });
  if (!bad.isError) fail(name + " a bad mode was not a tool error");
  const docs = await client.callTool({ name: "list_documents", arguments: {} });
  const first = docs.structuredContent.documents[0].path;
  const res = await client.readResource({ uri: "ragtune://document/" + encodeURIComponent(first) });
  if (!res.contents[0].text) fail(name + " resource " + first + " is empty");
  await client.close();
  console.log(JSON.stringify({ transport: name, tools, cited: ask.structuredContent.citations.length, documents: docs.structuredContent.total }));
}

await probe("stdio", new StdioClientTransport({ command: process.env.RAGTUNE_BIN, args: ["--config", process.env.RAGTUNE_CONFIG, "mcp"],
  env: { ...process.env, RAGTUNE_TEST_AS_CLI: "1" } }));
await probe("http", new StreamableHTTPClientTransport(new URL(process.env.RAGTUNE_URL + "/mcp"),
  { requestInit: { headers: { Authorization: "Bearer " + process.env.RAGTUNE_KEY } } }));
