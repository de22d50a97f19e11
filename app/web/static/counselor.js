/* Counselor console at "/counselor": paste or upload questions → POST /api/batch → editable answers, export. */
"use strict";

(() => {
  const { el, api, sourceUrl, sourceLink, sectionAnchor, splitAnswer, citationsOf, copyText, toast, download, cityName,
    autoGrow } = YB;

  // "/counselor?token=…" has set the (HttpOnly) cookie: keep the token out of the address bar and history
  if (new URLSearchParams(window.location.search).has("token")) {
    window.history.replaceState(null, "", window.location.pathname + window.location.hash);
  }

  const form = document.getElementById("batch-form");
  const paste = document.getElementById("paste");
  const citySel = document.getElementById("city");
  const fileInput = document.getElementById("file");
  const fileNote = document.getElementById("file-note");
  const runButton = document.getElementById("run");
  const status = document.getElementById("status");
  const resultsCard = document.getElementById("results-card");
  const tbody = document.querySelector("#results tbody");

  let uploaded = null; // {name, questions, text}: sent as a list while the textarea still holds exactly them
  let rows = []; // [{question, response, answer (textarea)}]

  // ---------- file upload ----------
  function decode(buffer) {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(buffer);
    } catch (_) {
      return new TextDecoder("gb18030").decode(buffer); // Excel on Chinese Windows saves CSV as GBK
    }
  }

  /** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF. */
  function parseCsv(text) {
    const out = [];
    let row = [];
    let field = "";
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (quoted) {
        if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
        else if (ch === '"') quoted = false;
        else field += ch;
      } else if (ch === '"' && field === "") quoted = true;
      else if (ch === ",") { row.push(field); field = ""; }
      else if (ch === "\n" || ch === "\r") {
        if (ch === "\r" && text[i + 1] === "\n") i++;
        row.push(field); out.push(row); row = []; field = "";
      } else field += ch;
    }
    if (field !== "" || row.length) { row.push(field); out.push(row); }
    return out;
  }

  function questionsFrom(name, text) {
    text = text.replace(/^\ufeff/, "");
    if (!/\.csv$/i.test(name)) {
      return text.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
    }
    const table = parseCsv(text).filter((r) => r.some((c) => c.trim()));
    if (!table.length) return [];
    const header = table[0].map((c) => c.trim().toLowerCase());
    let column = header.findIndex((c) => c === "question" || c === "问题" || c === "questions");
    let body = table;
    if (column >= 0) body = table.slice(1);
    else column = 0;
    return body.map((r) => (r[column] || "").trim()).filter(Boolean);
  }

  fileInput.addEventListener("change", async () => {
    const file = fileInput.files && fileInput.files[0];
    if (!file) return;
    if (file.size > 2 * 1024 * 1024) {
      showStatus("文件太大（最多 2 MB）", true);
      fileInput.value = "";
      return;
    }
    const questions = questionsFrom(file.name, decode(await file.arrayBuffer()));
    fileInput.value = "";
    if (!questions.length) {
      showStatus(`“${file.name}”里没有找到问题`, true);
      return;
    }
    paste.value = questions.join("\n");
    uploaded = { name: file.name, questions, text: paste.value };
    fileNote.textContent = `已读取 ${file.name}：${questions.length} 个问题（可在上面修改）`;
    fileNote.hidden = false;
    showStatus("");
  });

  // ---------- asking ----------
  function showStatus(message, isError) {
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = paste.value.trim();
    if (!text) {
      showStatus("请先粘贴问题或上传文件", true);
      paste.focus();
      return;
    }
    const body = { city: citySel.value || null };
    if (uploaded && uploaded.text === paste.value) body.questions = uploaded.questions;
    else body.text = text;
    runButton.disabled = true;
    runButton.textContent = "正在回答…";
    showStatus("正在拆分问题并逐条回答，请稍候…");
    try {
      const data = await api("/api/batch", body);
      rows = (data.items || []).map((item) => ({ question: item.question, response: item.response }));
      renderRows();
      showStatus(`共 ${rows.length} 个问题，已全部回答。`);
    } catch (err) {
      showStatus(err.message, true);
    } finally {
      runButton.disabled = false;
      runButton.textContent = "生成回答";
    }
  });

  document.getElementById("clear").addEventListener("click", () => {
    paste.value = "";
    uploaded = null;
    fileNote.hidden = true;
    rows = [];
    tbody.replaceChildren();
    resultsCard.hidden = true;
    showStatus("");
    paste.focus();
  });

  // ---------- the table ----------
  const autoSize = (area) => autoGrow(area, 480, 2); // +2: the answer box's 1px borders

  function renderRows() {
    tbody.replaceChildren(...rows.map((row, i) => {
      const resp = row.response || {};
      const { text: answerText, citations } = splitAnswer(resp);
      const area = el("textarea", { class: "answer", rows: 6, "aria-label": `第 ${i + 1} 题的回答` });
      area.value = answerText;
      area.addEventListener("input", () => autoSize(area));
      row.answer = area;
      const copy = el("button", { type: "button", class: "btn small copy-reply" }, "复制回复");
      copy.addEventListener("click", async () => {
        toast((await copyText(replyText(row))) ? "已复制，可直接发送" : "复制失败，请手动选择文字复制");
      });
      const city = resp.city ? el("span", { class: "tag" }, cityName(resp.city)) : null;
      const flags = [];
      if (resp.clarification) flags.push(el("span", { class: "tag warn" }, "需确认城市"));
      if (resp.refused) flags.push(el("span", { class: "tag warn" }, "无法回答"));
      const sources = citations.length
        ? el("ol", { class: "src-list" }, citations.map((c) => el("li", {},
          sourceLink(c.doc_id, c.section, null, `[${c.n}] ${c.title} › ${sectionAnchor(c.section)}`))))
        : el("span", { class: "muted" }, "无");
      return el("tr", { dataset: { index: String(i) } },
        el("td", { class: "c-n", "data-label": "#" }, String(i + 1)),
        el("td", { class: "c-q", "data-label": "问题" }, el("div", { class: "question" }, row.question), city, flags),
        el("td", { class: "c-a", "data-label": "回答" }, area, el("div", { class: "row-actions" }, copy)),
        el("td", { class: "c-s", "data-label": "来源" }, sources));
    }));
    resultsCard.hidden = false;
    for (const row of rows) autoSize(row.answer);
    resultsCard.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  function sourceLines(row) {
    return citationsOf(row.response || {}).map((c) => `[${c.n}] ${c.title} › ${sectionAnchor(c.section)}`);
  }

  function replyText(row) {
    const lines = [`问：${row.question}`, `答：${row.answer.value.trim()}`];
    const sources = sourceLines(row);
    if (sources.length) lines.push("来源：", ...sources);
    return lines.join("\n");
  }

  // ---------- export ----------
  function stamp() {
    const d = new Date();
    const p = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}`;
  }

  function csvCell(value) {
    let text = String(value === null || value === undefined ? "" : value);
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`; // a cell Excel would run as a formula
    return `"${text.replace(/"/g, '""')}"`;
  }

  function exportCsv() {
    if (!rows.length) return;
    const header = ["序号", "问题", "回答", "城市", "来源"];
    const lines = [header.map(csvCell).join(",")];
    rows.forEach((row, i) => {
      const resp = row.response || {};
      lines.push([i + 1, row.question, row.answer.value.trim(), cityName(resp.city) || "",
        sourceLines(row).join("\n")].map(csvCell).join(","));
    });
    // UTF-8 with a BOM: Excel then opens the Chinese text correctly
    download(`医保问答_${stamp()}.csv`, "\ufeff" + lines.join("\r\n") + "\r\n", "text/csv;charset=utf-8");
  }

  function exportMarkdown() {
    if (!rows.length) return;
    const out = [`# 医保问答（${rows.length} 个问题）`, ""];
    rows.forEach((row, i) => {
      out.push(`## ${i + 1}. ${row.question.replace(/\s+/g, " ")}`, "", row.answer.value.trim(), "");
      const sources = citationsOf(row.response || {});
      if (sources.length) {
        out.push("来源：", "");
        for (const c of sources) {
          out.push(`- [${c.n}] [${c.title} › ${sectionAnchor(c.section)}](${location.origin}${sourceUrl(c.doc_id, c.section)})`);
        }
        out.push("");
      }
    });
    download(`医保问答_${stamp()}.md`, out.join("\n"), "text/markdown;charset=utf-8");
  }

  document.getElementById("export-csv").addEventListener("click", exportCsv);
  document.getElementById("export-md").addEventListener("click", exportMarkdown);

  // ---------- start ----------
  YB.cities().then((cities) => {
    citySel.append(...cities.map((c) => el("option", { value: c.id }, c.name)));
  });
})();
