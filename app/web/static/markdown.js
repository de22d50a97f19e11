/* A small, safe Markdown renderer for the guides: headings (id = heading text, so "#section" links work),
   paragraphs, lists, tables, quotes, rules, **bold**, `code` and links. It builds DOM nodes and sets text with
   text nodes only: nothing from the document is ever parsed as HTML. */
"use strict";

const YBMarkdown = (() => {
  const HEADING = /^(#{1,6})\s+(.+?)\s*#*\s*$/;
  const BULLET = /^\s*[-*+]\s+(.*)$/;
  const ORDERED = /^\s*(\d{1,3})[.)、]\s+(.*)$/;
  const RULE = /^\s*([-*_])(\s*\1){2,}\s*$/;
  const INLINE = /\*\*([^*]+?)\*\*|`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)/g;

  function safeHref(href) {
    return /^(https?:\/\/|\/(?!\/)|#)/i.test(href) ? href : null;
  }

  /** Inline spans of one text as nodes. */
  function inline(text) {
    const nodes = [];
    let last = 0;
    let m;
    INLINE.lastIndex = 0;
    while ((m = INLINE.exec(text)) !== null) {
      if (m.index > last) nodes.push(document.createTextNode(text.slice(last, m.index)));
      if (m[1] !== undefined) {
        const strong = document.createElement("strong");
        strong.textContent = m[1];
        nodes.push(strong);
      } else if (m[2] !== undefined) {
        const code = document.createElement("code");
        code.textContent = m[2];
        nodes.push(code);
      } else {
        const href = safeHref(m[4]);
        if (href) {
          const a = document.createElement("a");
          a.textContent = m[3];
          a.href = href;
          if (/^https?:/i.test(href)) { a.target = "_blank"; a.rel = "noopener noreferrer"; }
          nodes.push(a);
        } else {
          nodes.push(document.createTextNode(m[3]));
        }
      }
      last = INLINE.lastIndex;
    }
    if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
    return nodes;
  }

  function node(tag, children, attrs) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v);
    for (const c of children) n.append(c);
    return n;
  }

  function cells(row) {
    let s = row.trim();
    if (s.startsWith("|")) s = s.slice(1);
    if (s.endsWith("|") && !s.endsWith("\\|")) s = s.slice(0, -1);
    return s.split("|").map((c) => c.trim());
  }

  function isDivider(row) {
    const cs = cells(row);
    return cs.length > 0 && cs.every((c) => /^:?-{2,}:?$/.test(c) || c === "");
  }

  /** Markdown text → a DocumentFragment, plus the headings [{level, text, id}] in order. */
  function render(markdown) {
    const lines = String(markdown || "").replace(/\r\n?/g, "\n").split("\n");
    const frag = document.createDocumentFragment();
    const headings = [];
    const used = new Map();
    let i = 0;

    const uniqueId = (text) => {
      const count = used.get(text) || 0;
      used.set(text, count + 1);
      return count ? `${text}-${count + 1}` : text;
    };

    while (i < lines.length) {
      const line = lines[i];
      if (!line.trim()) { i++; continue; }
      let m;
      if ((m = HEADING.exec(line.trim()))) {
        const level = m[1].length;
        const text = m[2].trim();
        const id = uniqueId(text);
        headings.push({ level, text: text.replace(/\*\*/g, ""), id });
        frag.append(node(`h${level}`, inline(text), { id }));
        i++;
      } else if (RULE.test(line)) {
        frag.append(document.createElement("hr"));
        i++;
      } else if (line.trim().startsWith("|")) {
        const block = [];
        while (i < lines.length && lines[i].trim().startsWith("|")) block.push(lines[i++]);
        const rows = block.filter((r) => !isDivider(r)).map(cells);
        const hasHead = block.length > 1 && isDivider(block[1]);
        const table = document.createElement("table");
        if (hasHead) {
          table.append(node("thead", [node("tr", rows[0].map((c) => node("th", inline(c))))]));
        }
        table.append(node("tbody", (hasHead ? rows.slice(1) : rows).map((r) =>
          node("tr", r.map((c) => node("td", inline(c)))))));
        frag.append(node("div", [table], { class: "table-wrap" }));
      } else if (BULLET.test(line) || ORDERED.test(line)) {
        const ordered = !BULLET.test(line);
        const list = document.createElement(ordered ? "ol" : "ul");
        const first = ORDERED.exec(line);
        if (ordered && first && first[1] !== "1") list.setAttribute("start", first[1]);
        while (i < lines.length && lines[i].trim()) {
          const b = BULLET.exec(lines[i]);
          const o = ORDERED.exec(lines[i]);
          if (ordered ? o : b) {
            list.append(node("li", inline((ordered ? o[2] : b[1]).trim())));
          } else if ((ordered ? b : o) || HEADING.test(lines[i].trim()) || lines[i].trim().startsWith("|")) {
            break; // the other kind of list, or a new block
          } else if (list.lastChild) {
            list.lastChild.append(document.createTextNode("\n"), ...inline(lines[i].trim())); // continuation
          }
          i++;
        }
        frag.append(list);
      } else if (line.trim().startsWith(">")) {
        const block = [];
        while (i < lines.length && lines[i].trim().startsWith(">")) block.push(lines[i++].trim().replace(/^>\s?/, ""));
        frag.append(node("blockquote", inline(block.join("\n"))));
      } else {
        const block = [];
        while (i < lines.length && lines[i].trim() && !HEADING.test(lines[i].trim()) && !lines[i].trim().startsWith("|")
          && !BULLET.test(lines[i]) && !ORDERED.test(lines[i]) && !lines[i].trim().startsWith(">")) {
          block.push(lines[i++].trim());
        }
        frag.append(node("p", inline(block.join("\n"))));
      }
    }
    return { fragment: frag, headings };
  }

  return { render, inline };
})();
