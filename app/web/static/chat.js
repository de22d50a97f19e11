/* Student chat at "/": WeChat-like conversation, streamed answers, citations, calculator card, feedback. */
"use strict";

(() => {
  const { el, api, postStream, sourceLink, sectionAnchor, splitAnswer, plainQuote, textWithRefs, copyText, toast,
    cityName, autoGrow, money } = YB;

  const CITY_KEY = "yibao.city"; // localStorage: {id, name, school}
  const SESSION_KEY = "yibao.session_id"; // sessionStorage: one conversation per tab
  const QUICK = [ // one question each (a "？" in the middle would make the service answer two)
    ["暂停老家医保", "来学校参加了大学生医保，老家的医保要暂停吗，怎么办理？"],
    ["异地就医备案", "放假回老家生病了，怎么办理异地就医备案？"],
    ["看病报销", "在学校看门诊、住院怎么报销？"],
    ["交多少钱", "大学生医保每年交多少钱，什么时候交？"],
    ["能报多少", "在三级医院住院花了1万元，医保能报多少？"],
  ];
  const CARE = { inpatient: "住院", outpatient: "门诊" };
  const LEVELS = { 1: "一级医院", 2: "二级医院", 3: "三级医院" };

  const messages = document.getElementById("messages");
  const form = document.getElementById("ask-form");
  const input = document.getElementById("question");
  const sendButton = document.getElementById("send");
  const chipBar = document.getElementById("chips");
  const cityButton = document.getElementById("city-button");
  const cityLabel = document.getElementById("city-label");
  const sheet = document.getElementById("city-sheet");
  const cityList = document.getElementById("city-list");

  let busy = false;

  // ---------- state kept in the browser ----------
  function storedCity() {
    try {
      const value = JSON.parse(localStorage.getItem(CITY_KEY) || "null");
      return value && typeof value.id === "string" ? value : null;
    } catch (_) {
      return null;
    }
  }

  function setCity(value) {
    try {
      if (value) localStorage.setItem(CITY_KEY, JSON.stringify(value));
      else localStorage.removeItem(CITY_KEY);
    } catch (_) { /* private mode: keep it for this page only */ }
    current = value;
    showCity();
  }

  let current = storedCity();

  function showCity() {
    const name = current ? current.school || current.name || cityName(current.id) : "";
    cityLabel.textContent = name || "选择学校";
    cityButton.classList.toggle("unset", !current);
    cityButton.title = current ? `当前：${name}（点击更换）` : "选择城市或学校";
  }

  function sessionId() {
    try { return sessionStorage.getItem(SESSION_KEY); } catch (_) { return null; }
  }

  function saveSession(id) {
    try { if (id) sessionStorage.setItem(SESSION_KEY, id); } catch (_) { /* ignore */ }
  }

  // ---------- layout helpers ----------
  function nearBottom() {
    return messages.scrollHeight - messages.scrollTop - messages.clientHeight < 120;
  }

  function scrollDown(force) {
    if (force || nearBottom()) messages.scrollTop = messages.scrollHeight;
  }

  function addMessage(who, ...content) {
    const avatar = el("img", { class: "avatar", alt: who === "bot" ? "医保助手" : "我",
      src: who === "bot" ? "/static/avatar-bot.svg" : "/static/avatar-user.svg", width: 40, height: 40 });
    const bubble = el("div", { class: "bubble" }, ...content);
    const row = el("div", { class: `msg ${who}` }, avatar, bubble);
    messages.append(row);
    scrollDown(true);
    return bubble;
  }

  function typing() {
    return el("span", { class: "typing", "aria-label": "正在输入" }, el("i"), el("i"), el("i"));
  }

  function setBusy(value) {
    busy = value;
    sendButton.disabled = value;
    for (const chip of document.querySelectorAll(".chip")) chip.disabled = value;
  }

  // ---------- asking ----------
  async function ask(question) {
    question = question.trim();
    if (!question || busy) return;
    setBusy(true);
    addMessage("me", el("div", { class: "text" }, question));
    const bubble = addMessage("bot", typing());
    bubble.parentElement.classList.add("pending");
    const body = { question, city: current ? current.id : null, session_id: sessionId() };
    let textNode = null;
    let final = null;
    let failure = null;
    try {
      await postStream("/api/ask/stream", body, (name, data) => {
        if (name === "delta") {
          if (!textNode) {
            textNode = document.createTextNode("");
            bubble.replaceChildren(el("div", { class: "text streaming" }, textNode), typing());
          }
          textNode.appendData(data && typeof data.text === "string" ? data.text : "");
          scrollDown();
        } else if (name === "final") {
          final = data;
        } else if (name === "error") {
          failure = (data && data.detail) || "生成回答时出错，请稍后再试";
        }
      });
      if (!final && !failure) failure = "回答中断了，请重试";
    } catch (err) {
      failure = err.message || "出错了，请重试";
    }
    bubble.parentElement.classList.remove("pending");
    if (final && typeof final === "object") {
      saveSession(final.session_id);
      renderAnswer(bubble, final, question);
    } else {
      renderError(bubble, failure, question);
    }
    setBusy(false);
    scrollDown();
  }

  function renderError(bubble, message, question) {
    bubble.classList.add("error");
    bubble.replaceChildren(
      el("div", { class: "text" }, `抱歉，${message}`),
      el("div", { class: "actions" },
        el("button", { type: "button", class: "link-button", onclick: () => ask(question) }, "重试")),
    );
  }

  function renderAnswer(bubble, resp, question) {
    const { text, citations } = splitAnswer(resp);
    const byN = new Map(citations.map((c) => [c.n, c]));
    const notes = citations.length ? footnotes(citations) : null;
    const makeRef = (n) => {
      if (!byN.has(n)) return null;
      return el("button", { type: "button", class: "ref", "aria-label": `来源 ${n}`,
        onclick: () => notes && notes.open(n, true) }, `[${n}]`);
    };
    const parts = [];
    if (resp.calculation && typeof resp.calculation === "object") { // the totals first; the working follows
      bubble.classList.add("wide");
      parts.push(calculatorCard(resp.calculation));
    }
    parts.push(el("div", { class: "text" }, textWithRefs(text, makeRef)));
    if (resp.clarification && Array.isArray(resp.clarification.options) && resp.clarification.options.length) {
      parts.push(el("div", { class: "option-chips" }, resp.clarification.options.map((id) =>
        el("button", { type: "button", class: "chip option", onclick: () => {
          setCity({ id, name: cityName(id), school: null });
          ask(question);
        } }, cityName(id)))));
    }
    if (notes) parts.push(notes.node);
    parts.push(actions(resp, question));
    bubble.replaceChildren(...parts);
  }

  // ---------- citations as footnotes ----------
  function footnotes(citations) {
    const items = new Map();
    const list = el("ol", { class: "footnotes", "aria-label": "来源" });
    for (const c of citations) {
      const quote = plainQuote(c.quote);
      const panel = el("div", { class: "fn-body", hidden: true },
        el("div", { class: "fn-doc" }, `《${c.title}》`),
        el("blockquote", { class: "quote" }, quote),
        sourceLink(c.doc_id, c.section, "fn-link", "查看指南原文 ›"));
      const head = el("button", { type: "button", class: "fn-head", "aria-expanded": "false",
        onclick: () => toggle(c.n) },
        el("span", { class: "fn-n" }, `[${c.n}]`),
        el("span", { class: "fn-title" }, sectionAnchor(c.section) || c.title,
          el("span", { class: "fn-snippet" }, quote.replace(/\s+/g, " ").slice(0, 60))));
      const item = el("li", { class: "fn", dataset: { n: String(c.n) } }, head, panel);
      items.set(c.n, { item, head, panel });
      list.append(item);
    }
    function toggle(n, forceOpen) {
      const entry = items.get(n);
      if (!entry) return;
      const open = forceOpen === true ? true : entry.panel.hidden;
      entry.panel.hidden = !open;
      entry.head.setAttribute("aria-expanded", String(open));
      entry.item.classList.toggle("open", open);
      if (forceOpen) {
        entry.item.classList.add("flash");
        setTimeout(() => entry.item.classList.remove("flash"), 900);
        entry.item.scrollIntoView({ block: "nearest", behavior: "smooth" });
      }
    }
    const node = el("div", { class: "sources" }, el("div", { class: "sources-title" }, "来源"), list);
    return { node, open: toggle };
  }

  // ---------- calculator card ----------
  function calculatorCard(calc) {
    const base = { ...(calc.input || {}) };
    const city = base.city || calc.city;
    const careSel = el("select", { name: "care" },
      Object.entries(CARE).map(([v, label]) => el("option", { value: v }, label)));
    careSel.value = base.care === "outpatient" ? "outpatient" : "inpatient";
    const levelSel = el("select", { name: "hospital_level" },
      Object.entries(LEVELS).map(([v, label]) => el("option", { value: v }, label)));
    levelSel.value = String(base.hospital_level || 3);
    const cost = el("input", { name: "cost", type: "number", inputmode: "decimal", min: "0", step: "0.01",
      value: base.cost !== undefined && base.cost !== null ? String(Number(base.cost)) : "" });
    const admission = el("input", { name: "admission", type: "number", inputmode: "numeric", min: "1", max: "366",
      step: "1", value: String(base.admission || 1) });
    const admissionLabel = el("span", {}, "");
    const syncLabel = () => {
      admissionLabel.textContent = careSel.value === "outpatient" ? "第几次就诊" : "第几次住院";
    };
    syncLabel();
    careSel.addEventListener("change", syncLabel);
    const error = el("div", { class: "calc-error", role: "alert", hidden: true });
    const result = el("div", { class: "calc-result" });
    const submit = el("button", { type: "submit", class: "calc-go" }, "重新计算");
    const field = (label, control) => el("label", { class: "calc-field" },
      typeof label === "string" ? el("span", {}, label) : label, control);
    const formNode = el("form", { class: "calc-form", novalidate: true },
      field("就医类型", careSel), field("医院级别", levelSel), field("合规费用（元）", cost),
      field(admissionLabel, admission), submit);
    formNode.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      const request = { ...base, city, care: careSel.value, hospital_level: Number(levelSel.value),
        cost: cost.value.trim(), admission: Number(admission.value || 1) };
      if (request.cost === "" || !Number.isFinite(Number(request.cost))) {
        error.textContent = "请输入费用（元）";
        error.hidden = false;
        return;
      }
      submit.disabled = true;
      submit.textContent = "计算中…";
      try {
        const out = await api("/api/calc/benefit", request);
        showResult(result, out, true); // the answer text above still shows the first calculation
        Object.assign(base, request);
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
      } finally {
        submit.disabled = false;
        submit.textContent = "重新计算";
      }
    });
    showResult(result, calc);
    const title = `报销计算器 · ${cityName(calc.city)}${calc.policy_year ? `（${calc.policy_year}年度标准）` : ""}`;
    return el("section", { class: "calc-card", "aria-label": "报销计算器" },
      el("div", { class: "calc-title" }, title), formNode, error, result);
  }

  function showResult(node, out, openSteps) {
    const parts = [];
    if (!out.computable) {
      parts.push(el("div", { class: "calc-reason" }, out.reason || "这种情况无法计算"));
    } else {
      parts.push(el("dl", { class: "calc-totals" },
        el("div", { class: "total main" }, el("dt", {}, "医保基金支付"), el("dd", { class: "fund" }, money(out.fund_pays))),
        el("div", { class: "total" }, el("dt", {}, "其中基本医保"), el("dd", {}, money(out.basic_pays))),
        el("div", { class: "total" }, el("dt", {}, "其中大病保险"), el("dd", {}, money(out.serious_illness_pays))),
        el("div", { class: "total main" }, el("dt", {}, "个人负担"), el("dd", { class: "own" }, money(out.out_of_pocket)))));
    }
    if (Array.isArray(out.steps) && out.steps.length) {
      parts.push(el("details", { class: "calc-steps", open: Boolean(openSteps) },
        el("summary", {}, "计算过程"),
        el("ol", {}, out.steps.map((s) => el("li", {},
          el("div", { class: "step-line" }, el("span", { class: "step-label" }, s.label),
            el("span", { class: "step-amount" }, s.amount === null || s.amount === undefined ? "" : money(s.amount))),
          el("div", { class: "step-rule" }, s.rule || ""),
          s.source && s.source.doc_id ? sourceLink(s.source.doc_id, s.source.section, "step-src", "依据 ›") : null)))));
    }
    if (Array.isArray(out.notes) && out.notes.length) {
      parts.push(el("details", { class: "calc-notes" }, el("summary", {}, `说明（${out.notes.length}）`),
        el("ul", {}, out.notes.map((n) => el("li", {}, n)))));
    }
    node.replaceChildren(...parts);
  }

  // ---------- copy and feedback ----------
  /** A thumbs-up (or, turned over, thumbs-down) icon drawn inline: emoji fonts are not on every machine. */
  function thumb(down) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "15");
    svg.setAttribute("height", "15");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", down ? "icon down" : "icon");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M2 10h4v11H2zM8 21h9.2a2 2 0 0 0 2-1.6l1.6-7.4A2 2 0 0 0 18.8 9.6H14l.9-4.3A1.9 1.9 0 0 0 "
      + "13 3l-5 6.6z");
    path.setAttribute("fill", "currentColor");
    svg.append(path);
    return svg;
  }

  function actions(resp, question) {
    const up = el("button", { type: "button", class: "act thumb", "aria-label": "👍 有帮助", title: "有帮助" },
      thumb(false), "有用");
    const down = el("button", { type: "button", class: "act thumb", "aria-label": "👎 没帮助", title: "没帮助" },
      thumb(true), "没用");
    const copy = el("button", { type: "button", class: "act copy", title: "复制回答" }, "复制");
    copy.addEventListener("click", async () => {
      toast((await copyText(String(resp.answer || ""))) ? "已复制" : "复制失败，请长按文字复制");
    });
    const rate = async (rating, button) => {
      if (up.disabled || down.disabled) return;
      up.disabled = down.disabled = true;
      button.classList.add("chosen");
      try {
        await api("/api/feedback", { session_id: resp.session_id || sessionId(), question,
          answer: String(resp.answer || ""), rating });
        toast(rating === "up" ? "感谢你的反馈！" : "感谢反馈，我们会改进");
      } catch (err) {
        up.disabled = down.disabled = false;
        button.classList.remove("chosen");
        toast(`反馈失败：${err.message}`);
      }
    };
    up.addEventListener("click", () => rate("up", up));
    down.addEventListener("click", () => rate("down", down));
    return el("div", { class: "actions" }, copy, el("span", { class: "spacer" }), up, down);
  }

  // ---------- city / school picker ----------
  function openSheet() {
    sheet.hidden = false;
    document.body.classList.add("sheet-open");
    renderCities();
  }

  function closeSheet() {
    sheet.hidden = true;
    document.body.classList.remove("sheet-open");
  }

  async function renderCities() {
    const cities = await YB.cities();
    if (!cities.length) {
      cityList.replaceChildren(el("p", { class: "muted" }, "暂时无法读取城市列表，请稍后再试"));
      return;
    }
    const pick = (value) => {
      setCity(value);
      closeSheet();
      toast(value ? `已选择：${value.school || value.name}` : "已取消选择，回答时按问题中的地名判断");
    };
    const rows = cities.map((c) => {
      const years = [...new Set((c.docs || []).map((d) => d.policy_year))].join("、");
      const selected = current && current.id === c.id;
      return el("section", { class: `city${selected ? " selected" : ""}` },
        el("button", { type: "button", class: "city-name", dataset: { city: c.id },
          onclick: () => pick({ id: c.id, name: c.name, school: null }) },
          el("strong", {}, c.name), years ? el("span", { class: "muted" }, `指南 ${years} 年`) : null),
        (c.schools || []).length ? el("div", { class: "school-list" }, c.schools.map((s) =>
          el("button", { type: "button", class: `school${selected && current.school === s ? " selected" : ""}`,
            onclick: () => pick({ id: c.id, name: c.name, school: s }) }, s))) : null);
    });
    cityList.replaceChildren(
      el("button", { type: "button", class: "city-none", onclick: () => pick(null) }, "不指定（按问题中的地名判断）"),
      ...rows);
  }

  // ---------- start ----------
  function welcome() {
    const intro = "你好！我是医保助手。\n可以帮你查大学生医保：参保缴费、暂停老家医保、异地就医备案、看病报销、能报多少钱。\n"
      + "回答依据各地官方指南，并注明出处；具体以当地医保部门为准。";
    const parts = [el("div", { class: "text" }, intro)];
    if (!current) {
      parts.push(el("button", { type: "button", class: "chip option", onclick: openSheet }, "先选择我的学校"));
    }
    addMessage("bot", ...parts);
  }

  function quickChips() {
    chipBar.replaceChildren(...QUICK.map(([label, question]) =>
      el("button", { type: "button", class: "chip", title: question, onclick: () => ask(question) }, label)));
  }

  const grow = () => autoGrow(input, 112); // 112px: the max-height in chat.css

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = input.value;
    if (!question.trim() || busy) return;
    input.value = "";
    grow();
    ask(question);
  });
  input.addEventListener("input", grow);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  cityButton.addEventListener("click", openSheet);
  sheet.addEventListener("click", (event) => { if (event.target.dataset.close) closeSheet(); });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape" && !sheet.hidden) closeSheet(); });

  showCity();
  quickChips();
  welcome();
  YB.cities().then((cities) => {
    if (current && cities.length && !cities.some((c) => c.id === current.id)) setCity(null); // no longer covered
    showCity();
  });
})();
