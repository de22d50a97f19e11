/* Shared helpers for the yibao pages. No framework; every server string goes into the DOM as text. */
"use strict";

const YB = (() => {
  /** el("div", {class: "x", onclick: fn}, child, "text", ...) — text children become text nodes (escaped). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** JSON request; throws Error(<Chinese detail>) on a non-2xx answer or a network failure. */
  async function api(path, body, options = {}) {
    let resp;
    try {
      resp = await fetch(path, {
        method: body === undefined ? "GET" : "POST",
        headers: body === undefined ? {} : { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: options.signal,
      });
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      throw new Error("无法连接到医保助手服务，请检查网络后重试");
    }
    if (!resp.ok) throw new Error(await errorDetail(resp));
    return resp.json();
  }

  async function errorDetail(resp) {
    try {
      const data = await resp.json();
      if (typeof data.detail === "string") return data.detail;
      if (Array.isArray(data.detail)) return data.detail.map((d) => d.msg || "").join("；") || "输入有误";
    } catch (_) { /* not JSON */ }
    if (resp.status === 503) return "服务正在准备中，请稍后再试";
    return `请求失败（${resp.status}）`;
  }

  /**
   * POST and read a text/event-stream from the response body. onEvent(name, data) per event; data is parsed
   * JSON when possible. Resolves when the stream ends.
   */
  async function postStream(path, body, onEvent, signal) {
    let resp;
    try {
      resp = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      throw new Error("无法连接到医保助手服务，请检查网络后重试");
    }
    if (!resp.ok) throw new Error(await errorDetail(resp));
    const reader = resp.body.getReader();
    const decoder = new TextDecoder("utf-8");
    let buffer = "";
    const flush = (block) => {
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") name = value;
        else if (field === "data") data.push(value);
      }
      if (!data.length) return;
      const raw = data.join("\n");
      let parsed = raw;
      try { parsed = JSON.parse(raw); } catch (_) { /* plain text */ }
      onEvent(name, parsed);
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (value) buffer += decoder.decode(value, { stream: true });
      buffer = buffer.replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        flush(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
      }
      if (done) break;
    }
    buffer += decoder.decode();
    if (buffer.trim()) flush(buffer);
  }

  /** The guide heading a citation points at: the last part of "A > B > C". */
  function sectionAnchor(section) {
    const parts = String(section || "").split(" > ");
    return parts[parts.length - 1].trim();
  }

  function sourceUrl(docId, section) {
    const anchor = sectionAnchor(section);
    return `/sources/${encodeURIComponent(docId)}${anchor ? "#" + encodeURIComponent(anchor) : ""}`;
  }

  /** The answer without its "来源：" paragraph (the page shows the citations itself). */
  function stripSources(text) {
    return String(text || "")
      .split(/\n{2,}/)
      .filter((para) => !/^来源[：:]/.test(para.trim()))
      .join("\n\n")
      .trim();
  }

  /** An answer's citations: always an array. */
  function citationsOf(resp) {
    return resp && Array.isArray(resp.citations) ? resp.citations : [];
  }

  /** {text, citations} of an answer: with citations the text loses its "来源：" paragraph (the page lists them). */
  function splitAnswer(resp) {
    const citations = citationsOf(resp);
    const text = citations.length ? stripSources(resp.answer) : String(resp.answer || "");
    return { text, citations };
  }

  /** el("a") to a guide section, opened in a new tab. */
  function sourceLink(docId, section, cls, ...children) {
    return el("a", { class: cls, href: sourceUrl(docId, section), target: "_blank", rel: "noopener" }, ...children);
  }

  /** Markdown emphasis marks are noise in a quote shown as plain text. */
  function plainQuote(text) {
    return String(text || "").replace(/\*\*/g, "").replace(/^#{1,6}\s+/gm, "").replace(/\n{2,}/g, "\n").trim();
  }

  /**
   * Text with "[n]" markers into nodes: plain text nodes plus a button per marker (makeRef(n) builds it).
   * Line breaks stay "\n" characters: the container uses white-space: pre-wrap.
   */
  function textWithRefs(text, makeRef) {
    const nodes = [];
    const re = /\[(\d{1,3})\]/g;
    let last = 0;
    let m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) nodes.push(document.createTextNode(text.slice(last, m.index)));
      const ref = makeRef ? makeRef(Number(m[1])) : null;
      nodes.push(ref || document.createTextNode(m[0]));
      last = re.lastIndex;
    }
    if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
    return nodes;
  }

  async function copyText(text) {
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        return true;
      }
    } catch (_) { /* fall back below */ }
    const area = el("textarea", { readonly: true, class: "offscreen" });  // no style="": the CSP forbids inline styles
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch (_) { ok = false; }
    area.remove();
    return ok;
  }

  let toastTimer = null;
  function toast(message) {
    let box = document.getElementById("toast");
    if (!box) {
      box = el("div", { id: "toast", class: "toast", role: "status", "aria-live": "polite" });
      document.body.append(box);
    }
    box.textContent = message;
    box.classList.add("show");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => box.classList.remove("show"), 1800);
  }

  function download(filename, content, type) {
    const blob = new Blob([content], { type });
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: filename, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  let citiesPromise = null;
  let cityNames = new Map(); // city id → Chinese name, filled when cities() has loaded
  /** GET /api/cities once per page; resolves to [] when the catalog is not available. */
  function cities() {
    citiesPromise = citiesPromise || api("/api/cities").then((d) => d.cities || []).catch(() => [])
      .then((list) => {
        cityNames = new Map(list.map((c) => [c.id, c.name]));
        return list;
      });
    return citiesPromise;
  }

  /** A city's Chinese name once cities() has loaded; until then, or for an unknown id, the id itself. */
  function cityName(id) {
    return cityNames.get(id) || id;
  }

  /** A textarea as tall as its text, up to maxPx; extraPx covers borders that scrollHeight leaves out. */
  function autoGrow(area, maxPx, extraPx = 0) {
    area.style.height = "auto";
    area.style.height = `${Math.min(area.scrollHeight + extraPx, maxPx)}px`;
  }

  function money(value) {
    if (value === null || value === undefined || value === "") return "—";
    const n = Number(value);
    if (!Number.isFinite(n)) return String(value);
    return n.toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " 元";
  }

  return { el, api, postStream, sectionAnchor, sourceUrl, sourceLink, stripSources, citationsOf, splitAnswer,
    plainQuote, textWithRefs, copyText, toast, download, cities, cityName, autoGrow, money };
})();
