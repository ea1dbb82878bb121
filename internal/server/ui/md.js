// A small Markdown renderer for answers and passages. It builds DOM
// nodes (never innerHTML), so text from a model or a document cannot
// inject markup: the only elements it makes are the ones below, links
// only to http(s) and mailto, and [n] markers become citation buttons
// through the cite callback.
//
// Blocks: paragraphs, # headings, - * + and 1. lists, > quotes, ```
// fenced code, --- rules, | tables |. Inline: `code`, **strong**,
// *em* / _em_, [text](url), bare https:// links, [n] citations.

const SAFE_URL = /^(https?:\/\/|mailto:)/i;

// Bounds that keep rendering linear in the text: inline Markdown is
// parsed in the first MAX_INLINE characters of a line, quotes nest at
// most MAX_QUOTE deep.
const MAX_INLINE = 20000;
const MAX_QUOTE = 8;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// inline appends the inline content of s to parent.
export function inline(parent, s, cite) {
  // Every part is bounded (backtick runs, code and link text lengths), so
  // no input can make the pattern backtrack for long; text past
  // MAX_INLINE is appended as it is.
  if (s.length > MAX_INLINE) {
    inline(parent, s.slice(0, MAX_INLINE), cite);
    parent.append(s.slice(MAX_INLINE));
    return;
  }
  const re = /(`{1,8})([^`]{1,2000})\1(?!`)|\*\*([^*]{1,2000}?)\*\*|__([^_]{1,2000}?)__|\*([^*\s][^*]{0,2000}?)\*|(?<![\w])_([^_\s][^_]{0,2000}?)_(?![\w])|\[(\d{1,3})\]|\[([^\]\n]{1,500})\]\(([^)\s]{1,2000})\)|(https?:\/\/[^\s<>()]{1,2000}[^\s<>().,;:!?'"])/g;
  let last = 0, m;
  while ((m = re.exec(s)) !== null) {
    if (m.index > last) parent.append(s.slice(last, m.index));
    last = re.lastIndex;
    if (m[1]) parent.append(el("code", "", m[2]));
    else if (m[3] || m[4]) { const b = el("strong"); inline(b, m[3] || m[4], cite); parent.append(b); }
    else if (m[5] || m[6]) { const i = el("em"); inline(i, m[5] || m[6], cite); parent.append(i); }
    else if (m[7]) parent.append(cite ? cite(Number(m[7])) : m[0]);
    else if (m[8]) parent.append(link(m[9], m[8], cite));
    else if (m[10]) parent.append(link(m[10], m[10]));
  }
  if (last < s.length) parent.append(s.slice(last));
}

function link(url, text, cite) {
  if (!SAFE_URL.test(url)) return text;
  const a = el("a");
  a.href = url;
  a.rel = "noopener noreferrer nofollow";
  a.target = "_blank";
  inline(a, text, cite);
  return a;
}

const LIST = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;

// render returns a fragment with the Markdown text rendered.
export function render(text, cite, depth = 0) {
  const frag = document.createDocumentFragment();
  const lines = String(text).replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (/^\s*$/.test(line)) { i++; continue; }
    const fence = line.match(/^\s*(```+|~~~+)\s*([\w+-]*)/);
    if (fence) {
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i++;
      const pre = el("pre");
      const code = el("code", fence[2] ? "lang-" + fence[2] : "", body.join("\n"));
      pre.append(code);
      frag.append(pre);
      continue;
    }
    const h = line.match(/^(#{1,6})\s+(.*?)\s*#*\s*$/);
    if (h) {
      // Headings inside an answer sit below the page's own: h3 to h6.
      const level = Math.min(6, h[1].length + 2);
      const e = el("h" + level, "md-h");
      inline(e, h[2], cite);
      frag.append(e);
      i++;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { frag.append(el("hr")); i++; continue; }
    if (/^\s*>/.test(line)) {
      const body = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) body.push(lines[i++].replace(/^\s*>\s?/, ""));
      const q = el("blockquote");
      if (depth < MAX_QUOTE) q.append(render(body.join("\n"), cite, depth + 1));
      else q.append(body.join("\n"));
      frag.append(q);
      continue;
    }
    if (/^\s*\|.*\|\s*$/.test(line) && i + 1 < lines.length && /^\s*\|?[\s:|-]+\|?\s*$/.test(lines[i + 1]) && lines[i + 1].includes("-")) {
      const cells = (l) => l.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());
      const table = el("table", "md-table");
      const head = el("thead"), tr = el("tr");
      for (const c of cells(line)) { const th = el("th"); th.scope = "col"; inline(th, c, cite); tr.append(th); }
      head.append(tr);
      table.append(head);
      const tbody = el("tbody");
      i += 2;
      while (i < lines.length && /^\s*\|.*\|\s*$/.test(lines[i])) {
        const row = el("tr");
        for (const c of cells(lines[i++])) { const td = el("td"); inline(td, c, cite); row.append(td); }
        tbody.append(row);
      }
      table.append(tbody);
      const wrap = el("div", "md-table-wrap");
      wrap.tabIndex = 0;
      wrap.append(table);
      frag.append(wrap);
      continue;
    }
    const item = line.match(LIST);
    if (item) {
      const ordered = /\d/.test(item[2]);
      const list = el(ordered ? "ol" : "ul");
      if (ordered && parseInt(item[2], 10) !== 1) list.start = parseInt(item[2], 10);
      const indent = item[1].length;
      while (i < lines.length) {
        const m = lines[i].match(LIST);
        if (!m || m[1].length !== indent || /\d/.test(m[2]) !== ordered) break;
        const body = [m[3]];
        i++;
        // Continuation lines and nested lists belong to the item.
        const strip = new RegExp("^\\s{0," + (indent + 3) + "}");
        while (i < lines.length && !/^\s*$/.test(lines[i]) && lines[i].match(/^\s*/)[0].length > indent) body.push(lines[i++].replace(strip, ""));
        const li = el("li");
        if (body.length === 1) inline(li, body[0], cite);
        else li.append(render(body.join("\n"), cite));
        list.append(li);
        while (i < lines.length && /^\s*$/.test(lines[i]) && i + 1 < lines.length && (lines[i + 1].match(LIST) || [])[1]?.length === indent) i++;
      }
      frag.append(list);
      continue;
    }
    const para = [];
    while (i < lines.length && !/^\s*$/.test(lines[i]) && !/^(#{1,6})\s|^\s*(```|~~~|>)/.test(lines[i]) && !(para.length && LIST.test(lines[i]))) para.push(lines[i++]);
    const p = el("p");
    para.forEach((l, n) => {
      if (n) p.append(l.endsWith("  ") || para[n - 1].endsWith("  ") ? el("br") : " ");
      inline(p, l.trim(), cite);
    });
    frag.append(p);
  }
  return frag;
}
