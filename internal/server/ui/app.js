// The ragtune web UI: asks over the SSE endpoint and renders tokens and
// citations as they arrive; a citation opens the passage it cites.
const $ = (id) => document.getElementById(id);
const keyInput = $("key");
keyInput.value = localStorage.getItem("ragtune-key") || "";
keyInput.addEventListener("change", () => { localStorage.setItem("ragtune-key", keyInput.value); loadDocs(); });

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (keyInput.value) h["Authorization"] = "Bearer " + keyInput.value;
  return h;
}

let hits = [];
// The conversation so far: each question and its answer, sent with the
// next question so a follow-up ("and how is that done?") is understood.
let history = [];
let last = null; // the question and answer on screen, kept when the next is asked

function newChat() {
  history = [];
  last = null;
  $("conversation").innerHTML = "";
  $("answer").textContent = "";
  $("sources").innerHTML = "";
  $("passage").style.display = "none";
  $("status").textContent = "";
}

// keepTurn moves the finished question and answer into the conversation.
function keepTurn(question, text) {
  if (!text) return;
  history.push({role: "user", content: question}, {role: "assistant", content: text});
  const li = document.createElement("li");
  const q = document.createElement("div");
  q.className = "q";
  q.textContent = question;
  const a = document.createElement("div");
  a.textContent = text;
  li.append(q, a);
  $("conversation").append(li);
}

function showPassage(n) {
  const h = hits[n - 1];
  if (!h) return;
  const p = $("passage");
  p.style.display = "block";
  p.textContent = `[${n}] ${h.doc}:${h.line_start}-${h.line_end}${h.heading ? "  (" + h.heading + ")" : ""}\n\n${h.text}`;
  p.dataset.n = n;
}

function renderAnswer(text) {
  const a = $("answer");
  a.textContent = "";
  const re = /\[(\d+)\]/g;
  let last = 0, m;
  while ((m = re.exec(text)) !== null) {
    a.append(text.slice(last, m.index));
    const s = document.createElement("span");
    s.className = "cite";
    s.textContent = m[0];
    const n = Number(m[1]);
    s.addEventListener("click", () => showPassage(n));
    a.append(s);
    last = re.lastIndex;
  }
  a.append(text.slice(last));
}

async function ask(question) {
  if (last) keepTurn(last.question, last.text);
  last = null;
  const earlier = history.slice();
  $("answer").textContent = "";
  $("answer").className = "";
  $("sources").innerHTML = "";
  $("passage").style.display = "none";
  $("status").textContent = "thinking…";
  let text = "";
  const res = await fetch("/v1/ask?stream=true", {
    method: "POST", headers: headers({"Content-Type": "application/json"}), body: JSON.stringify({question, history: earlier}),
  });
  if (!res.ok) {
    const err = await res.json().catch(() => ({}));
    $("status").textContent = "error: " + ((err.error && err.error.message) || res.status);
    return;
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buf += decoder.decode(value, {stream: true});
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let event = "", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        if (line.startsWith("data: ")) data += line.slice(6);
      }
      const ev = JSON.parse(data);
      if (event === "retrieved") hits = ev.hits;
      if (event === "token") { text += ev.text; renderAnswer(text); }
      if (event === "citation") {
        const c = ev.citation;
        const li = document.createElement("li");
        li.value = c.n;
        li.textContent = `${c.doc}:${c.lines[0]}-${c.lines[1]}${c.heading ? "  (" + c.heading + ")" : ""}`;
        li.addEventListener("click", () => showPassage(c.n));
        $("sources").append(li);
      }
      if (event === "abstain") { $("answer").className = "declined"; $("status").textContent = "declined: " + ev.reason; }
      if (event === "error") $("status").textContent = "error: " + ev.error;
      if (event === "done" && $("status").textContent === "thinking…") $("status").textContent = "";
    }
  }
  last = {question, text};
}

async function loadDocs() {
  const res = await fetch("/v1/documents", {headers: headers()});
  const list = $("docs");
  list.innerHTML = "";
  if (!res.ok) { list.innerHTML = "<li class=muted>enter an API key to list documents</li>"; return; }
  const body = await res.json();
  for (const d of body.documents) {
    const li = document.createElement("li");
    li.textContent = `${d.path} (${d.chunks} chunks)`;
    list.append(li);
  }
}

$("ask-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const q = $("question").value.trim();
  if (q) ask(q);
});

$("new-chat").addEventListener("click", newChat);

$("upload-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const files = $("file").files;
  if (!files.length) return;
  const form = new FormData();
  for (const f of files) form.append("file", f);
  const res = await fetch("/v1/ingest", {method: "POST", headers: headers(), body: form});
  const body = await res.json().catch(() => ({}));
  $("upload-status").textContent = res.ok ? `ingested ${body.files} file(s)` : "upload failed: " + ((body.error && body.error.message) || res.status);
  loadDocs();
});

loadDocs();
