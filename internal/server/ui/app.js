// The ragtune web UI: chat with sources, the document library, eval
// runs and their comparison, the review of generated test sets and the
// fine-tune-or-RAG decision. Plain modules, no framework, no CDN; every
// piece of text from the server goes into the page as text nodes (see
// md.js), never as HTML.
import { render } from "./md.js";

const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids) if (k !== undefined && k !== null && k !== false) e.append(k);
  return e;
}

// icon is a small inline SVG (no icon font, no emoji font needed).
const ICONS = {
  up: "M7 10v11H3V10h4Zm2 11h8.3a2 2 0 0 0 2-1.6l1.4-7A2 2 0 0 0 18.7 10H14l.7-4.2a1.6 1.6 0 0 0-2.9-1.2L9 9.5V21Z",
  down: "M17 14V3h4v11h-4Zm-2-11H6.7a2 2 0 0 0-2 1.6l-1.4 7A2 2 0 0 0 5.3 14H10l-.7 4.2a1.6 1.6 0 0 0 2.9 1.2L15 14.5V3Z",
  edit: "M4 20h4L19 9l-4-4L4 16v4Zm11-15 4 4",
  trash: "M4 7h16M10 11v6m4-6v6M6 7l1 13h10l1-13M9 7V4h6v3",
  copy: "M9 9h11v11H9zM5 15H4V4h11v1",
  redo: "M20 12a8 8 0 1 1-2.3-5.7M20 4v5h-5",
};
function icon(name) {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "icon icon-" + name);
  const path = document.createElementNS(NS, "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}

// ---------- Key and session ----------
// The key lives in memory, and in sessionStorage only when asked: never
// in localStorage, so it is gone when the tab closes.
const KEY_ITEM = "ragtune.key";
let apiKey = sessionStorage.getItem(KEY_ITEM) || "";
let session = null; // {key, scopes, collection, feedback, ingest}

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (apiKey) h["Authorization"] = "Bearer " + apiKey;
  return h;
}

async function api(path, opts = {}) {
  const res = await fetch(path, Object.assign({}, opts, { headers: headers(opts.headers) }));
  if (res.status === 401) { markKey(false); }
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    const err = new Error((body.error && body.error.message) || `${res.status} ${res.statusText}`);
    err.status = res.status;
    throw err;
  }
  if (res.status === 204) return null;
  const type = res.headers.get("Content-Type") || "";
  return type.includes("json") ? res.json() : res.text();
}

function canWrite() { return !!(session && session.scopes.includes("write")); }

function markKey(ok) {
  const b = $("key-button");
  b.classList.toggle("ok", ok === true);
  b.classList.toggle("bad", ok === false);
  const label = ok === true ? (session.key ? `${session.key} · ${session.scopes.join(", ")}` : "no key needed") : ok === false ? "Enter an API key" : "API key";
  $("key-label").textContent = label;
  b.setAttribute("aria-label", "API key: " + label);
}

async function loadSession() {
  try {
    session = await api("/v1/session");
    markKey(true);
    $("collection").textContent = session.collection;
    $("collection").hidden = false;
  } catch (e) {
    session = null;
    markKey(false);
  }
  document.body.classList.toggle("read-only", !canWrite());
  return session;
}

function openKeyDialog() {
  $("key").value = apiKey;
  $("key-dialog").showModal();
  $("key").focus();
}

$("key-button").addEventListener("click", openKeyDialog);
$("key-form").addEventListener("submit", async () => {
  apiKey = $("key").value.trim();
  if ($("remember").checked && apiKey) sessionStorage.setItem(KEY_ITEM, apiKey);
  else sessionStorage.removeItem(KEY_ITEM);
  await loadSession();
  route();
});
$("key-forget").addEventListener("click", async () => {
  apiKey = "";
  sessionStorage.removeItem(KEY_ITEM);
  $("key").value = "";
  $("key-dialog").close();
  await loadSession();
  route();
});

let toastTimer = 0;
function toast(text) {
  const t = $("toast");
  t.textContent = text;
  t.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove("show"), 2600);
}

// ---------- Routing ----------
const views = ["chat", "documents", "eval", "review", "decision"];
function route() {
  const [, name, arg] = (location.hash.match(/^#\/(\w+)(?:\/(.+))?/) || []);
  const view = views.includes(name) ? name : "chat";
  for (const v of views) $("view-" + v).hidden = v !== view;
  for (const a of document.querySelectorAll(".tabs a")) {
    if (a.dataset.view === view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `${view === "eval" ? "Evaluation" : view[0].toUpperCase() + view.slice(1)} · ragtune`;
  if (view === "documents") { loadDocs(); startIngestStatus(); } else stopIngestStatus();
  if (view === "eval") loadRuns(arg ? decodeURIComponent(arg) : "");
  if (view === "review") loadTestSets();
}
window.addEventListener("hashchange", route);

// ---------- Conversations ----------
// Kept in this tab's sessionStorage: the questions and answers of a team
// stay on the machine that asked them and go when the tab closes; the
// server keeps none (it records interactions only when feedback is on).
const CONV_ITEM = "ragtune.conversations";
let convs = JSON.parse(sessionStorage.getItem(CONV_ITEM) || "[]");
let current = null; // the open conversation
let streaming = false;

function saveConvs() {
  try { sessionStorage.setItem(CONV_ITEM, JSON.stringify(convs)); } catch (e) { toast("This tab's storage is full: older conversations will not be kept."); }
}
function newId() { return Date.now().toString(36) + Math.random().toString(36).slice(2, 8); }

function newConversation() {
  current = { id: newId(), title: "New chat", created: Date.now(), turns: [] };
  renderConvList();
  renderThread();
  closeSource();
  $("question").focus();
}

function openConversation(id) {
  current = convs.find((c) => c.id === id) || null;
  renderConvList();
  renderThread();
  closeSource();
  $("conversations").classList.remove("open");
  $("toggle-convs").setAttribute("aria-expanded", "false");
}

function renderConvList() {
  const list = $("conv-list");
  list.textContent = "";
  if (!convs.length) list.append(el("li", { class: "hint", text: "No conversations yet." }));
  for (const c of convs) {
    const li = el("li", { "aria-current": current && c.id === current.id ? "true" : "false" },
      el("button", { class: "open", type: "button", text: c.title, title: c.title, onclick: () => openConversation(c.id) }),
      el("span", { class: "acts" },
        el("button", { class: "ghost", type: "button", "aria-label": `Rename “${c.title}”`, title: "Rename", onclick: () => renameConversation(c) }, icon("edit")),
        el("button", { class: "ghost danger", type: "button", "aria-label": `Delete “${c.title}”`, title: "Delete", onclick: () => deleteConversation(c) }, icon("trash"))));
    list.append(li);
  }
  $("conv-title").textContent = current ? current.title : "New chat";
}

function renameConversation(c) {
  const title = prompt("Name this conversation", c.title);
  if (title === null || !title.trim()) return;
  c.title = title.trim().slice(0, 120);
  saveConvs();
  renderConvList();
}

function deleteConversation(c) {
  if (!confirm(`Delete the conversation “${c.title}”?`)) return;
  convs = convs.filter((x) => x.id !== c.id);
  saveConvs();
  if (current && current.id === c.id) newConversation();
  else renderConvList();
}

$("new-chat").addEventListener("click", newConversation);
$("toggle-convs").addEventListener("click", () => {
  const open = $("conversations").classList.toggle("open");
  $("toggle-convs").setAttribute("aria-expanded", String(open));
  if (open) $("new-chat").focus();
});

function renderThread() {
  const thread = $("thread");
  thread.textContent = "";
  if (!current || !current.turns.length) {
    thread.append(el("div", { class: "empty", id: "empty-chat" },
      el("h2", { text: "Ask your documents" }),
      el("p", { text: "Answers come only from the documents in this collection, with their sources. When they do not say, ragtune declines and tells you why." })));
    return;
  }
  current.turns.forEach((t, i) => thread.append(...turnNodes(t, i)));
}

function turnNodes(turn, index) {
  const user = el("div", { class: "msg-user" }, el("div", { class: "bubble", text: turn.q }));
  const bot = el("article", { class: "msg-bot", "aria-label": "Answer" });
  turn.node = bot;
  drawAnswer(turn, index);
  return [user, bot];
}

// history is the conversation before turn i, as /v1/ask takes it.
function historyBefore(i) {
  const h = [];
  for (const t of current.turns.slice(0, i)) {
    if (!t.a || !t.a.text || t.a.error) continue;
    h.push({ role: "user", content: t.q }, { role: "assistant", content: t.a.text });
  }
  return h.slice(-40);
}

// drawAnswer (re)draws a turn's answer: the refusal, the rendered
// Markdown with citation chips, the sources, the actions.
function drawAnswer(turn, index) {
  const bot = turn.node, a = turn.a || {};
  bot.textContent = "";
  bot.classList.toggle("declined", !!a.abstained);
  if (a.abstained) {
    bot.append(el("div", { class: "refusal", role: "note" },
      el("span", { class: "icon", "aria-hidden": "true", text: "⚠" }),
      el("div", {}, el("strong", { text: "Not answered from your documents" }),
        el("span", { text: humanReason(a.reason) }))));
  }
  const body = el("div", { class: "body" + (a.streaming ? " typing" : "") });
  body.append(render(a.text || "", (n) => citeButton(turn, n)));
  bot.append(body);
  const cited = (a.citations || []);
  if (cited.length) {
    const ul = el("ul", { class: "sources", "aria-label": "Sources" });
    for (const c of cited) {
      ul.append(el("li", {}, el("button", { class: "chip", type: "button", "data-n": c.n, onclick: () => showSource(turn, c.n), title: `Open source ${c.n}` },
      el("span", { class: "n", text: c.n }), el("span", { class: "path", text: `${displayPath(a, c.doc)} · ${c.lines[0]}–${c.lines[1]}` }))));
    }
    bot.append(ul);
  }
  if (a.error) bot.append(el("p", { class: "msg-status error", role: "alert", text: "Error: " + a.error }));
  else if (a.streaming && !a.text) bot.append(el("p", { class: "msg-status", text: "Searching your documents…" }));
  if (!a.streaming) bot.append(answerActions(turn, index));
}

function humanReason(r) {
  if (!r) return "The documents do not answer this question.";
  const known = {
    "no_results": "Nothing in the documents matched the question.",
    "low_retrieval_score": "The closest passages are too far from the question to answer it.",
    "unsupported_answer": "No passage supports an answer strongly enough.",
    "model_declined": "The model found no answer in the passages it was given.",
  };
  return known[r] || `Reason: ${r}.`;
}

function displayPath(a, doc) { return (a.paths && a.paths[doc]) || doc; }

function citeButton(turn, n) {
  const a = turn.a || {};
  const c = (a.citations || []).find((c) => c.n === n);
  const h = (a.hits || [])[n - 1];
  if (!c && !h) return `[${n}]`;
  const doc = c ? c.doc : h.doc;
  return el("button", { class: "cite", type: "button", "data-n": n, "aria-label": `Source ${n}: ${displayPath(a, doc)}`, text: String(n),
    onclick: () => showSource(turn, n) });
}

function answerActions(turn, index) {
  const a = turn.a || {};
  const row = el("div", { class: "actions" });
  if (a.text) row.append(el("button", { type: "button", class: "ghost", onclick: async () => {
    try { await navigator.clipboard.writeText(a.text); toast("Answer copied"); } catch (e) { toast("Could not copy: " + e.message); }
  } }, icon("copy"), "Copy"));
  if (index === current.turns.length - 1 && !streaming) {
    row.append(el("button", { type: "button", class: "ghost", onclick: () => ask(turn.q, index) }, icon("redo"), "Regenerate"));
  }
  if (a.interaction_id) {
    const up = el("button", { type: "button", class: "ghost", "aria-pressed": String(a.rating === "up"), "aria-label": "Good answer", title: "Good answer" }, icon("up"));
    const down = el("button", { type: "button", class: "ghost", "aria-pressed": String(a.rating === "down"), "aria-label": "Bad answer", title: "Bad answer" }, icon("down"));
    up.addEventListener("click", () => rate(turn, "up", "", ""));
    down.addEventListener("click", () => feedbackForm(turn, row));
    row.append(up, down);
    if (a.rated) row.append(el("span", { class: "thanks", role: "status", text: "Thanks — feedback recorded." }));
  }
  return row;
}

function feedbackForm(turn, row) {
  if (turn.node.querySelector(".feedback-form")) { turn.node.querySelector(".feedback-form textarea").focus(); return; }
  const id = "corr-" + newId();
  const form = el("form", { class: "feedback-form" },
    el("label", { for: id, text: "What should the answer have been? (optional)" }),
    el("textarea", { id, rows: "3", maxlength: "4000" }),
    el("div", { class: "row" },
      el("button", { type: "button", class: "ghost", text: "Cancel", onclick: () => form.remove() }),
      el("button", { type: "submit", class: "primary", text: "Send feedback" })));
  form.addEventListener("submit", (e) => { e.preventDefault(); rate(turn, "down", form.querySelector("textarea").value.trim(), ""); });
  row.after(form);
  form.querySelector("textarea").focus();
}

async function rate(turn, rating, correction, comment) {
  try {
    await api("/v1/feedback", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ interaction_id: turn.a.interaction_id, rating, correction, comment }) });
    turn.a.rating = rating;
    turn.a.rated = true;
    saveConvs();
    drawAnswer(turn, current.turns.indexOf(turn));
    toast("Feedback recorded");
  } catch (e) {
    toast("Feedback failed: " + e.message);
  }
}

// ---------- Sources ----------
function closeSource() {
  $("source-panel").hidden = true;
  document.querySelector(".chat").classList.remove("with-source");
  for (const b of document.querySelectorAll(".cite.active, .chip.active")) b.classList.remove("active");
}
$("close-source").addEventListener("click", closeSource);
document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !$("source-panel").hidden && !document.querySelector("dialog[open]")) closeSource(); });

const words = (s) => new Set((s.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) || []));

// citedSentences are the answer's sentences that cite passage n.
function citedSentences(text, n) {
  return (text.match(/[^.!?\n]+[.!?]?(\s*\[\d+\])*/g) || []).filter((s) => s.includes(`[${n}]`)).map((s) => s.replace(/\[\d+\]/g, ""));
}

function showSource(turn, n) {
  const a = turn.a;
  const h = (a.hits || [])[n - 1];
  const c = (a.citations || []).find((c) => c.n === n);
  const body = $("source-body");
  body.textContent = "";
  if (!h) { body.append(el("p", { text: "That passage is not in this answer's context." })); }
  else {
    const from = c ? c.lines[0] : h.line_start, to = c ? c.lines[1] : h.line_end;
    body.append(el("div", { class: "src-path", text: `[${n}] ${displayPath(a, h.doc)}` }));
    body.append(el("div", { class: "src-meta", text: `${h.heading ? h.heading + " · " : ""}lines ${h.line_start}–${h.line_end}` + (typeof h.score === "number" ? ` · score ${h.score.toFixed(3)}` : "") }));
    // The lines the answer drew on: those sharing most words with the
    // sentences that cite this passage; else the cited range.
    const lines = String(h.text).split("\n");
    const want = citedSentences(a.text || "", n).map(words);
    const hit = lines.map((l) => {
      const w = words(l);
      if (!w.size) return false;
      return want.some((s) => { let k = 0; for (const x of s) if (w.has(x)) k++; return s.size && k / Math.min(s.size, w.size) >= 0.5; });
    });
    const any = hit.some(Boolean);
    const pre = el("div", { class: "lines", role: "list", "aria-label": "Passage lines" });
    lines.forEach((l, i) => {
      const no = h.line_start + i;
      const marked = any ? hit[i] : no >= from && no <= to;
      pre.append(el("div", { class: "ln" + (marked ? " hit" : ""), role: "listitem" },
        el("span", { class: "no", "aria-hidden": "true", text: String(no) }),
        marked ? el("mark", { class: "tx", text: l || " " }) : el("span", { class: "tx", text: l || " " })));
    });
    body.append(pre);
  }
  $("source-title").textContent = `Source ${n}`;
  $("source-panel").hidden = false;
  document.querySelector(".chat").classList.add("with-source");
  for (const b of document.querySelectorAll(".cite.active, .chip.active")) b.classList.remove("active");
  for (const b of turn.node.querySelectorAll(`[data-n="${n}"]`)) b.classList.add("active");
  $("close-source").focus();
}

// ---------- Asking ----------
async function ask(question, replace) {
  if (streaming) return;
  if (!current) newConversation();
  if (!convs.includes(current)) { convs.unshift(current); }
  if (current.title === "New chat") current.title = question.slice(0, 60);
  let index = replace;
  if (index === undefined) { current.turns.push({ q: question }); index = current.turns.length - 1; }
  const turn = current.turns[index];
  turn.a = { text: "", streaming: true };
  streaming = true;
  $("ask").disabled = true;
  renderConvList();
  renderThread();
  closeSource();
  turn.node.scrollIntoView({ block: "end" });
  try {
    const res = await fetch("/v1/ask?stream=true", { method: "POST", headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify({ question, history: historyBefore(index), conversation_id: current.id }) });
    if (!res.ok) {
      const err = await res.json().catch(() => ({}));
      if (res.status === 401) markKey(false);
      throw new Error((err.error && err.error.message) || res.status);
    }
    await readEvents(res, (event, ev) => {
      const a = turn.a;
      if (event === "retrieved") { a.hits = ev.hits; a.paths = ev.paths; }
      else if (event === "token") a.text += ev.text;
      else if (event === "citation") (a.citations = a.citations || []).push(ev.citation);
      else if (event === "abstain") { a.abstained = true; a.reason = ev.reason; }
      else if (event === "error") a.error = ev.error;
      else if (event === "done") a.interaction_id = ev.interaction_id || "";
      drawAnswer(turn, index);
    });
  } catch (e) {
    turn.a.error = e.message;
  }
  turn.a.streaming = false;
  streaming = false;
  $("ask").disabled = false;
  for (const t of current.turns) delete t.node; // not saved
  saveConvs();
  renderThread();
  const last = $("thread").lastElementChild;
  if (last) last.scrollIntoView({ block: "end" });
}

async function readEvents(res, on) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let event = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) on(event, JSON.parse(data));
    }
  }
}

$("ask-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const q = $("question").value.trim();
  if (!q || streaming) return;
  $("question").value = "";
  growComposer();
  ask(q);
});
$("question").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("ask-form").requestSubmit(); }
});
function growComposer() {
  const q = $("question");
  q.style.height = "";
  if (q.scrollHeight > q.clientHeight + 6) q.style.height = Math.min(180, q.scrollHeight + 2) + "px";
}
$("question").addEventListener("input", growComposer);

// ---------- Documents ----------
let docTimer = 0;
async function loadDocs() {
  const tbody = $("docs");
  const name = $("doc-search").value.trim();
  try {
    const body = await api("/v1/documents?limit=1000" + (name ? "&name=" + encodeURIComponent(name) : ""));
    tbody.textContent = "";
    $("docs-count").textContent = `${body.total} document${body.total === 1 ? "" : "s"}${name ? ` matching “${name}”` : ""}`;
    if (!body.documents.length) tbody.append(el("tr", { class: "empty-row" }, el("td", { colspan: "5", text: name ? "No document matches that name." : "No documents yet. Drop files above to add some." })));
    for (const d of body.documents) {
      const when = d.ingested_at ? new Date(d.ingested_at) : null;
      tbody.append(el("tr", {},
        el("td", { class: "path", title: d.title || "" }, d.display_path || d.path),
        el("td", {}, ...(d.tags || []).map((t) => el("span", { class: "tag", text: t }))),
        el("td", { class: "num", text: String(d.chunks) }),
        el("td", {}, when ? el("time", { datetime: d.ingested_at, title: when.toLocaleString(), text: relTime(when) }) : ""),
        el("td", { class: "num" }, canWrite() ? el("button", { type: "button", class: "ghost small danger", "aria-label": `Delete ${d.display_path || d.path}`, text: "Delete",
          onclick: () => deleteDoc(d) }) : "")));
    }
  } catch (e) {
    tbody.textContent = "";
    tbody.append(el("tr", { class: "empty-row" }, el("td", { colspan: "5", text: e.status === 401 ? "Enter an API key to see the documents." : "Could not list documents: " + e.message })));
  }
}

function relTime(d) {
  const s = (Date.now() - d.getTime()) / 1000;
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  if (s < 86400 * 30) return `${Math.floor(s / 86400)} days ago`;
  return d.toLocaleDateString();
}

async function deleteDoc(d) {
  if (!confirm(`Delete ${d.display_path || d.path} from the collection?`)) return;
  try {
    await api("/v1/documents/" + encodeURIComponent(d.id), { method: "DELETE" });
    toast("Deleted " + (d.display_path || d.path));
  } catch (e) { toast("Delete failed: " + e.message); }
  loadDocs();
}

// ---------- Ingest status ----------
// While the Documents view is open (and the tab visible), the server's
// watched folders, crawled sites and uploads are polled every few
// seconds; when one finishes a round, the list is read again.
const STATUS_EVERY = 3000;
let statusTimer = 0;
let seenRounds = null; // "kind source" -> rounds finished, at the last poll

function startIngestStatus() {
  stopIngestStatus();
  if (document.hidden || !session || !session.ingest_status) return;
  pollIngestStatus();
  statusTimer = setInterval(pollIngestStatus, STATUS_EVERY);
}
function stopIngestStatus() { clearInterval(statusTimer); statusTimer = 0; }
document.addEventListener("visibilitychange", () => {
  if (document.hidden) stopIngestStatus();
  else if (!$("view-documents").hidden) startIngestStatus();
});

async function pollIngestStatus() {
  let sources;
  try { sources = (await api("/v1/ingest/status")).sources; } catch (e) { stopIngestStatus(); return; }
  if ($("view-documents").hidden) return;
  const rounds = new Map(sources.map((s) => [s.kind + " " + s.source, s.rounds]));
  const finished = seenRounds && sources.some((s) => s.rounds > (seenRounds.get(s.kind + " " + s.source) || 0));
  seenRounds = rounds;
  drawIngestStatus(sources);
  if (finished) loadDocs();
}

const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
function inTime(iso) {
  const min = Math.round((new Date(iso).getTime() - Date.now()) / 60000);
  if (min < 1) return "in under a minute";
  if (min < 90) return `in ${min} min`;
  return `in ${Math.round(min / 60)} h`;
}

// roundText says what a source's last round did.
function roundText(s) {
  const parts = [["added", s.added], ["updated", s.updated], ["deleted", s.deleted]].filter(([, n]) => n > 0)
    .map(([verb, n]) => `${verb} ${n} document${n === 1 ? "" : "s"}`);
  if (s.failed) parts.push(`${s.failed} failed`);
  return parts.length ? parts.join(", ") : "no changes";
}

const SOURCE_VERB = { watch: "Watching", crawl: "Crawling", upload: "Uploads to" };

// ingestLine is one source's line: what it is, what it is doing or what
// its last round did; a crawl's next round counts down beside a time
// that does not change, which is what a screen reader hears.
function ingestLine(s) {
  const li = el("li", { class: s.state, "data-kind": s.kind });
  if (s.state === "running") li.append(el("span", { class: "spinner", "aria-hidden": "true" }));
  const text = el("span", {}, `${SOURCE_VERB[s.kind] || s.kind} `, el("span", { class: "src", text: s.source }), " — ");
  if (s.state === "running") text.append(s.kind === "crawl" ? "fetching…" : "ingesting…");
  else if (s.state === "failed") text.append(`failed at ${clock(s.finished_at)}: ${s.error || "unknown error"}`);
  else if (s.finished_at) text.append(`${roundText(s)} at `, el("time", { datetime: s.finished_at, text: clock(s.finished_at) }));
  else text.append(s.kind === "crawl" ? "first fetch pending" : "waiting for changes");
  if (s.next_at && s.state !== "running") {
    text.append(el("span", { class: "when" }, " · next ", el("span", { "aria-hidden": "true", text: inTime(s.next_at) }),
      el("span", { class: "visually-hidden", text: "at " + clock(s.next_at) })));
  }
  li.append(text);
  return li;
}

function drawIngestStatus(sources) {
  const box = $("ingest-status"), list = $("ingest-sources");
  box.hidden = !sources.length;
  const have = new Map([...list.children].map((li) => [li.dataset.key, li]));
  const keep = new Set();
  let prev = null;
  for (const s of sources) {
    const key = s.kind + " " + s.source;
    // A line is redrawn only when its round changes, so the live region
    // announces rounds, not the countdown.
    const sig = [s.state, s.rounds, s.error, s.next_at].join("|");
    let li = have.get(key);
    if (!li || li.dataset.sig !== sig) {
      const fresh = ingestLine(s);
      fresh.dataset.key = key;
      fresh.dataset.sig = sig;
      if (li) li.replaceWith(fresh);
      li = fresh;
    } else {
      for (const c of li.querySelectorAll(".when [aria-hidden]")) c.textContent = inTime(s.next_at);
    }
    if (prev ? prev.nextSibling !== li : list.firstChild !== li) (prev ? prev.after(li) : list.prepend(li));
    prev = li;
    keep.add(key);
  }
  for (const [key, li] of have) if (!keep.has(key)) li.remove();
}

$("doc-search").addEventListener("input", () => { clearTimeout(docTimer); docTimer = setTimeout(loadDocs, 200); });

// upload sends files with XMLHttpRequest, whose upload events give the
// progress that fetch does not.
function upload(files) {
  if (!files.length) return;
  const form = new FormData();
  const tags = $("upload-tags").value.split(",").map((t) => t.trim()).filter(Boolean);
  if (tags.length) form.append("tags", JSON.stringify(tags));
  for (const f of files) form.append("file", f);
  const status = $("upload-status");
  status.className = "status";
  status.textContent = `Uploading ${files.length} file${files.length === 1 ? "" : "s"}…`;
  $("upload-progress").hidden = false;
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/v1/ingest");
  if (apiKey) xhr.setRequestHeader("Authorization", "Bearer " + apiKey);
  xhr.upload.addEventListener("progress", (e) => {
    if (!e.lengthComputable) return;
    const pct = Math.round((100 * e.loaded) / e.total);
    $("upload-bar").value = pct;
    $("upload-pct").textContent = pct + "%";
    if (pct === 100) status.textContent = "Ingesting…";
  });
  xhr.addEventListener("load", () => {
    let body = {};
    try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
    $("upload-progress").hidden = true;
    if (xhr.status >= 200 && xhr.status < 300) {
      status.className = "status ok";
      status.textContent = `Ingested ${body.files} file${body.files === 1 ? "" : "s"}.`;
    } else {
      status.className = "status error";
      status.textContent = "Upload failed: " + ((body.error && body.error.message) || xhr.status);
    }
    $("file").value = "";
    loadDocs();
    if (statusTimer) pollIngestStatus();
  });
  xhr.addEventListener("error", () => { $("upload-progress").hidden = true; status.className = "status error"; status.textContent = "Upload failed: the connection broke."; });
  xhr.send(form);
}

$("file").addEventListener("change", () => upload($("file").files));
const zone = $("dropzone");
for (const ev of ["dragenter", "dragover"]) zone.addEventListener(ev, (e) => { e.preventDefault(); zone.classList.add("over"); });
for (const ev of ["dragleave", "drop"]) zone.addEventListener(ev, () => zone.classList.remove("over"));
zone.addEventListener("drop", (e) => { e.preventDefault(); upload(e.dataTransfer.files); });

// ---------- Evaluation ----------
const fmt = (v) => (typeof v === "number" ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3)) : "–");
const HEADLINE = { qa: ["contains", "f1", "faithfulness", "abstain_rate"], retrieval: ["ndcg@10", "recall@100", "mrr@10"] };
let runs = [];
const picked = new Set();

function settingsText(cfg) {
  const keys = ["mode", "k", "chunk_strategy", "chunk_size", "generator", "rerank", "arm"];
  return keys.filter((k) => cfg && cfg[k] !== undefined && cfg[k] !== "").map((k) => `${k}=${cfg[k]}`).join(" · ");
}

async function loadRuns(open) {
  const tbody = $("runs");
  try {
    runs = (await api("/v1/eval/runs")).runs;
  } catch (e) {
    tbody.textContent = "";
    tbody.append(el("tr", { class: "empty-row" }, el("td", { colspan: "7", text: e.status === 401 ? "Enter an API key to see the runs." : "Could not list runs: " + e.message })));
    return;
  }
  tbody.textContent = "";
  if (!runs.length) tbody.append(el("tr", { class: "empty-row" }, el("td", { colspan: "7" }, "No eval runs yet. Try ", el("code", { text: "ragtune eval run" }), ".")));
  for (const r of runs) {
    const others = (HEADLINE[r.kind] || []).filter((k) => k !== r.primary_metric && r.metrics[k] !== undefined).slice(0, 2);
    const box = el("input", { type: "checkbox", "aria-label": `Compare run ${r.id}` });
    box.checked = picked.has(r.id);
    box.addEventListener("change", () => { if (box.checked) picked.add(r.id); else picked.delete(r.id); updateCompare(); });
    tbody.append(el("tr", { class: "clickable" },
      el("td", {}, box),
      el("td", {}, el("button", { type: "button", class: "link-button run-id", text: r.id, onclick: () => { location.hash = "#/eval/" + encodeURIComponent(r.id); } }),
        el("div", { class: "settings", text: new Date(r.created_at).toLocaleString() })),
      el("td", { text: r.kind }),
      el("td", { text: r.dataset }),
      el("td", { class: "settings", text: settingsText(r.config) }),
      el("td", { class: "num" }, el("strong", { text: fmt(r.metrics[r.primary_metric]) }), el("div", { class: "settings", text: r.primary_metric })),
      el("td", { class: "num settings", text: others.map((k) => `${k} ${fmt(r.metrics[k])}`).join(" · ") })));
  }
  updateCompare();
  if (open) openRun(open);
  else $("run-detail").hidden = true;
}

function updateCompare() {
  $("compare").disabled = picked.size !== 2;
  $("compare-hint").textContent = picked.size === 2 ? "Two runs selected." : `Select two runs (${picked.size} selected).`;
}

function metricCards(metrics, keys) {
  const grid = el("div", { class: "metrics" });
  for (const k of keys) {
    const v = metrics[k];
    const card = el("div", { class: "metric" }, el("div", { class: "k", text: k }), el("div", { class: "v", text: fmt(v) }));
    if (v >= 0 && v <= 1) { const bar = el("div", { class: "bar" }, el("span")); bar.firstChild.style.width = (v * 100).toFixed(1) + "%"; card.append(bar); }
    grid.append(card);
  }
  return grid;
}

async function openRun(id) {
  const box = $("run-detail");
  box.hidden = false;
  box.textContent = "Loading…";
  try {
    const { run, queries } = await api("/v1/eval/runs/" + encodeURIComponent(id));
    box.textContent = "";
    const scoreKeys = Object.keys(run.metrics).filter((k) => run.metrics[k] >= 0 && run.metrics[k] <= 1 && !/tokens|cost|judge_items|_errors/.test(k)).sort();
    const head = (HEADLINE[run.kind] || []).filter((k) => run.metrics[k] !== undefined);
    box.append(el("div", { class: "detail-head" },
      el("h2", { tabindex: "-1", id: "run-heading", text: `Run ${run.id}` }),
      el("button", { type: "button", text: "Full report", onclick: () => showReport("/v1/eval/runs/" + encodeURIComponent(run.id) + "/report", `Report of run ${run.id}`) })));
    box.append(el("p", { class: "muted", text: `${run.kind} on ${run.dataset} · ${new Date(run.created_at).toLocaleString()} · ${settingsText(run.config)}` }));
    box.append(metricCards(run.metrics, [...new Set([...head, ...scoreKeys])].slice(0, 12)));
    const cols = queries.length ? Object.keys(queries[0].scores).filter((k) => (HEADLINE[run.kind] || []).includes(k) || k === run.primary_metric).slice(0, 4) : [];
    const table = el("table", { class: "table" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Query" }), ...cols.map((c) => el("th", { scope: "col", class: "num", text: c })))),
      el("tbody", {}, ...queries.slice(0, 200).map((q) => el("tr", {},
        el("td", {}, q.text || q.id, el("div", { class: "settings", text: q.id })),
        ...cols.map((c) => el("td", { class: "num", text: fmt(q.scores[c]) }))))));
    box.append(el("h3", { text: `Queries, worst first (${queries.length})` }), el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Per-query scores" }, table));
    $("run-heading").focus();
  } catch (e) {
    box.textContent = "Could not open the run: " + e.message;
  }
}

$("compare").addEventListener("click", async () => {
  const [a, b] = runs.filter((r) => picked.has(r.id)).map((r) => r.id).reverse(); // older first
  const box = $("run-detail");
  box.hidden = false;
  box.textContent = "Comparing…";
  try {
    const { diff, runs: pair } = await api(`/v1/eval/diff?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
    box.textContent = "";
    box.append(el("h2", { tabindex: "-1", id: "diff-heading", text: `${pair[0].id} → ${pair[1].id}` }));
    if (!diff.same_corpus) box.append(el("p", { class: "muted", text: "The two runs were made on different corpora or datasets." }));
    const changes = Object.entries(diff.config_changes || {});
    box.append(el("h3", { text: "Settings that changed" }),
      changes.length ? el("ul", {}, ...changes.map(([k, [x, y]]) => el("li", {}, el("code", { text: k }), `: ${x ?? "–"} → ${y ?? "–"}`))) : el("p", { class: "muted", text: "None." }));
    const rows = (diff.metrics || []).filter((m) => !/tokens|cost/.test(m.metric));
    box.append(el("h3", { text: "Metrics" }), el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Metric changes" }, el("table", { class: "table" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Metric" }), el("th", { scope: "col", class: "num", text: "A" }), el("th", { scope: "col", class: "num", text: "B" }), el("th", { scope: "col", class: "num", text: "Change" }))),
      el("tbody", {}, ...rows.map((m) => el("tr", {}, el("td", { text: m.metric }), el("td", { class: "num", text: fmt(m.a) }), el("td", { class: "num", text: fmt(m.b) }),
        el("td", { class: "num delta " + (m.delta > 1e-9 ? "up" : m.delta < -1e-9 ? "down" : ""), text: (m.delta > 0 ? "+" : "") + fmt(m.delta) })))))));
    if (diff.test && typeof diff.test.p_value === "number") box.append(el("p", { class: "muted", text: `Paired test on ${diff.query_metric}: p = ${diff.test.p_value.toFixed(3)}${diff.test.significant ? " (significant)" : " (not significant)"}.` }));
    const flips = (title, list, cls) => el("div", {}, el("h3", { text: `${title} (${list.length})` }),
      list.length ? el("ul", { class: "flips" }, ...list.slice(0, 50).map((f) => el("li", {}, el("div", { text: f.text || f.query }),
        el("span", { class: "settings", text: `${f.query} · ${diff.query_metric} ${fmt(f.a)} → ` }), el("span", { class: "delta " + cls, text: fmt(f.b) })))) : el("p", { class: "muted", text: "None." }));
    box.append(el("div", { class: "columns" }, flips("Improved in B", diff.improved || [], "up"), flips("Worsened in B", diff.worsened || [], "down")));
    $("diff-heading").focus();
  } catch (e) {
    box.textContent = "Could not compare: " + e.message;
  }
});

// showReport shows a server-drawn report page in a sandboxed frame: no
// scripts, no same-origin access; it is fetched with the key, which a
// frame's own request could not carry.
async function showReport(path, title) {
  try {
    const html = await api(path);
    $("report-title").textContent = title;
    $("report-frame").title = title;
    $("report-frame").srcdoc = html;
    $("report-dialog").showModal();
    $("close-report").focus();
  } catch (e) { toast("Could not open the report: " + e.message); }
}
$("close-report").addEventListener("click", () => $("report-dialog").close());

// ---------- Review ----------
async function loadTestSets() {
  const sel = $("testset");
  const keep = sel.value;
  try {
    const { testsets } = await api("/v1/testsets");
    sel.textContent = "";
    const usable = testsets.filter((t) => !t.error);
    for (const t of usable) sel.append(el("option", { value: t.name, text: `${t.name} (${t.items} items)` }));
    if (!usable.length) {
      $("review-items").textContent = "";
      $("review-items").append(el("li", { class: "muted" }, "No generated test sets yet. Make one with ", el("code", { text: "ragtune eval generate" }), "."));
      return;
    }
    if (keep && usable.some((t) => t.name === keep)) sel.value = keep;
    loadItems();
  } catch (e) {
    $("review-items").textContent = e.status === 401 ? "Enter an API key to review test sets." : "Could not list test sets: " + e.message;
  }
}

async function loadItems(offset = 0) {
  const name = $("testset").value, status = $("review-status").value;
  const list = $("review-items");
  try {
    const page = await api(`/v1/testsets/${encodeURIComponent(name)}?limit=50&offset=${offset}${status ? "&status=" + status : ""}`);
    const s = page.summary.by_status || {};
    $("review-summary").textContent = `${s.proposed || 0} proposed · ${s.accepted || 0} accepted · ${s.rejected || 0} rejected`;
    if (offset === 0) list.textContent = "";
    list.querySelectorAll("li.more").forEach((m) => m.remove());
    if (!page.items.length && offset === 0) list.append(el("li", { class: "muted", text: "Nothing to show with this filter." }));
    for (const it of page.items) list.append(reviewCard(name, it));
    if (page.next_offset && page.next_offset < page.total) {
      // The next page on demand: a set of hundreds stays reviewable.
      list.append(el("li", { class: "more" }, el("button", { type: "button", text: `Show more (${page.total - page.next_offset} left)`, onclick: () => loadItems(page.next_offset) })));
    }
  } catch (e) { list.textContent = "Could not read the test set: " + e.message; }
}

// highlight puts the quote's byte ranges of text in <mark>.
function highlight(text, ranges) {
  const frag = document.createDocumentFragment();
  const bytes = new TextEncoder().encode(text), dec = new TextDecoder();
  let at = 0;
  for (const r of (ranges || []).slice().sort((x, y) => x.start - y.start)) {
    if (r.start < at) continue;
    frag.append(dec.decode(bytes.slice(at, r.start)), el("mark", { text: dec.decode(bytes.slice(r.start, r.end)) }));
    at = r.end;
  }
  frag.append(dec.decode(bytes.slice(at)));
  return frag;
}

function reviewCard(name, ri) {
  const it = ri.item;
  const li = el("li", { class: "card" });
  const left = el("div", {},
    el("span", { class: "badge " + ri.status, text: ri.status }),
    el("h2", { text: it.question }),
    el("div", { class: "settings", text: "Answer" + ((it.answers || []).length > 1 ? "s" : "") }),
    el("ul", { class: "answers" }, ...(it.answers || []).map((a) => el("li", { text: a }))),
    el("div", { class: "settings", text: [it.id, it.kind, it.provenance && it.provenance.method].filter(Boolean).join(" · ") }));
  const acts = el("div", { class: "actions write-only" },
    el("button", { type: "button", class: "primary", text: "Accept", onclick: () => decide(name, it.id, { status: "accepted" }, li) }),
    el("button", { type: "button", text: "Edit", onclick: () => editForm(name, it, li, acts) }),
    el("button", { type: "button", class: "danger", text: "Reject", onclick: () => decide(name, it.id, { status: "rejected" }, li) }));
  left.append(acts);
  const right = el("div", {});
  if (!ri.passages.length) right.append(el("p", { class: "muted", text: "Written by hand: no source passage." }));
  for (const p of ri.passages) {
    right.append(el("div", { class: "passage-meta", text: `${p.doc}${p.line_start ? ` · lines ${p.line_start}–${p.line_end}` : ""}` }));
    right.append(p.error ? el("p", { class: "passage muted", text: "The passage is gone: " + p.error }) : el("p", { class: "passage" }, highlight(p.text, p.quote_ranges)));
  }
  li.append(left, right);
  return li;
}

function editForm(name, it, li, acts) {
  const qid = "q-" + newId(), aid = "a-" + newId();
  const form = el("form", { class: "edit-form" },
    el("label", { for: qid, text: "Question" }), el("textarea", { id: qid, rows: "2" }),
    el("label", { for: aid, text: "Answers (one a line)" }), el("textarea", { id: aid, rows: "2" }),
    el("div", { class: "actions" }, el("button", { type: "button", text: "Cancel", onclick: () => { form.remove(); acts.hidden = false; } }),
      el("button", { type: "submit", class: "primary", text: "Save and accept" })));
  form.querySelector("#" + qid).value = it.question;
  form.querySelector("#" + aid).value = (it.answers || []).join("\n");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const answers = form.querySelector("#" + aid).value.split("\n").map((s) => s.trim()).filter(Boolean);
    decide(name, it.id, { status: "accepted", question: form.querySelector("#" + qid).value.trim(), answers }, li);
  });
  acts.hidden = true;
  acts.after(form);
  form.querySelector("textarea").focus();
}

async function decide(name, id, body, li) {
  try {
    const ri = await api(`/v1/testsets/${encodeURIComponent(name)}/items/${encodeURIComponent(id)}/review`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const card = reviewCard(name, ri);
    li.replaceWith(card);
    toast(`${id}: ${ri.status}`);
    card.querySelector("h2").setAttribute("tabindex", "-1");
    card.querySelector("h2").focus();
  } catch (e) { toast("Review failed: " + e.message); }
}

$("testset").addEventListener("change", () => loadItems());
$("review-status").addEventListener("change", () => loadItems());

// ---------- Decision ----------
const money = (x) => "$" + (x >= 100 ? Math.round(x).toLocaleString() : x.toFixed(2));
const VERDICT = { rag: "Use RAG", "fine-tune": "Fine-tune", hybrid: "Hybrid: fine-tune for behaviour, retrieve for knowledge" };

$("advise-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const params = new URLSearchParams();
  for (const [k, v] of new FormData($("advise-form"))) if (v !== "") params.set(k, v);
  const box = $("decision");
  box.hidden = false;
  box.textContent = "Deciding…";
  try {
    const { report: r, chart_svg } = await api("/v1/advise?" + params);
    box.textContent = "";
    box.append(el("div", { class: "verdict" }, el("div", {}, el("div", { class: "settings", text: "Recommendation" }),
      el("h2", { class: "big", tabindex: "-1", id: "verdict", text: VERDICT[r.recommendation] || r.recommendation }))));
    box.append(el("h3", { text: "Why" }), el("ul", {}, ...r.reasons.map((x) => el("li", { text: x }))));
    const next = el("div", { class: "next" }, el("strong", { text: "Next step: " }), r.next_step);
    for (const c of (r.next && r.next.commands) || []) next.append(el("pre", {}, el("code", { text: "$ " + c })));
    box.append(next);
    const m = r.monthly_cost_usd, best = Math.min(m.rag, m["fine-tune"], m.hybrid);
    box.append(el("h3", { text: `Monthly cost at ${Math.round(r.workload.monthly_requests).toLocaleString()} requests` }),
      el("div", { class: "costs" }, ...[["RAG", m.rag], ["Fine-tune", m["fine-tune"]], ["Hybrid", m.hybrid]].map(([k, v]) =>
        el("div", { class: "cost" + (v === best ? " best" : "") }, el("div", { class: "settings", text: k }), el("div", { class: "v", text: money(v) })))),
      el("p", { class: "muted", text: "Break-even: " + r.break_even_reason + ` Prices as of ${r.prices_as_of}.` }));
    const img = el("img", { alt: `Monthly cost of RAG, fine-tuning and hybrid against requests per month; ${r.break_even_reason}`, src: "data:image/svg+xml;charset=utf-8," + encodeURIComponent(chart_svg) });
    box.append(el("div", { class: "chart" }, img));
    if (r.measured && r.measured.run) box.append(el("p", { class: "muted", text: `Measured by eval run ${r.measured.run}${typeof r.measured.accuracy === "number" ? `: accuracy ${fmt(r.measured.accuracy)}` : ""}.` }));
    box.append(el("div", { class: "actions" }, el("button", { type: "button", text: "Full decision page", onclick: () => showReport("/v1/advise?" + params + "&format=html", "Decision page") })));
    $("verdict").focus();
  } catch (e) {
    box.textContent = "Could not decide: " + e.message;
  }
});

// ---------- Start ----------
(async () => {
  renderConvList();
  renderThread();
  await loadSession();
  if (!session) openKeyDialog();
  route();
})();
