/* Guide viewer at "/sources/{doc_id}": GET /api/sources/{doc_id}, render it, jump to the "#section" heading. */
"use strict";

(() => {
  const { el, api } = YB;
  const meta = document.getElementById("meta");
  const toc = document.getElementById("toc");
  const doc = document.getElementById("doc");
  const back = document.getElementById("back");

  const docId = decodeURIComponent(location.pathname.replace(/^\/sources\//, "").replace(/\/$/, ""));

  if (document.referrer && new URL(document.referrer).origin === location.origin && history.length > 1) {
    back.addEventListener("click", (event) => { event.preventDefault(); history.back(); });
  }

  /** The heading a hash names: the exact id, else the last part of "A > B", else any part. */
  function target() {
    let hash = location.hash.slice(1);
    if (!hash) return null;
    try { hash = decodeURIComponent(hash); } catch (_) { /* keep it raw */ }
    const tries = [hash, ...hash.split(" > ").map((s) => s.trim()).reverse()];
    for (const id of tries) {
      const found = id && document.getElementById(id);
      if (found && doc.contains(found)) return found;
    }
    return null;
  }

  function jump() {
    for (const old of doc.querySelectorAll(".hit")) old.classList.remove("hit");
    const heading = target();
    if (!heading) return;
    heading.classList.add("hit");
    heading.scrollIntoView({ block: "start" });
  }

  async function load() {
    let data;
    try {
      data = await api(`/api/sources/${encodeURIComponent(docId)}`);
    } catch (err) {
      doc.replaceChildren(el("p", { class: "error" }, err.message),
        el("p", {}, el("a", { href: "/" }, "回到医保助手")));
      return;
    }
    document.title = `${data.title} · 医保助手`;
    const facts = [data.policy_year ? `${data.policy_year} 年度` : null, data.doc_id].filter(Boolean).join(" · ");
    meta.replaceChildren(
      el("div", { class: "doc-title" }, data.title),
      el("div", { class: "muted" }, facts),
      data.valid_note ? el("div", { class: "valid-note" }, el("strong", {}, "时效说明："), data.valid_note) : null,
    );
    const { fragment, headings } = YBMarkdown.render(data.markdown);
    doc.replaceChildren(fragment);
    const sections = headings.filter((h) => h.level >= 2 && h.level <= 3);
    if (sections.length > 2) {
      toc.replaceChildren(el("details", {},
        el("summary", {}, `目录（${sections.length}）`),
        el("ul", {}, sections.map((h) => el("li", { class: `lv${h.level}` },
          el("a", { href: `#${encodeURIComponent(h.id)}` }, h.text))))));
      toc.hidden = false;
    }
    jump();
  }

  window.addEventListener("hashchange", jump);
  load();
})();
