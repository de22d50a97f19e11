"""The pages in a real headless Chromium (Debian's ``chromium`` driven by Playwright) against a live
uvicorn server on 127.0.0.1 with the real knowledge base: student chat, calculator card, counselor console,
guide viewer, and 375×812 screenshots of each page (under the pytest tmp dir, copied to build/screenshots/).

Every request the browser makes must stay on 127.0.0.1 (no CDN, no web fonts): anything else is aborted and
fails the test; so does any JavaScript error or console error.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import httpx
import pytest
from conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium (`make test` installs it: "
                "apt-get install -y chromium fonts-wqy-zenhei)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="browser tests need playwright (pip install '.[test]')")

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 375, "height": 812}
SCREENSHOTS = REPO / "build" / "screenshots"
WAIT_MS = 20_000


@pytest.fixture(scope="module")
def base_url(live_url: str) -> str:
    return live_url


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Watch:
    """What went wrong in the page: JavaScript errors, console errors, requests leaving 127.0.0.1."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.external: list[str] = []
        self.allowed: list[str] = []  # "status of 422": the browser logs a failed fetch the test asked for

    def allow(self, text: str) -> None:
        self.allowed.append(text)

    def check(self) -> None:
        assert not self.external, f"requests outside 127.0.0.1: {self.external}"
        errors = [e for e in self.errors if not any(a in e for a in self.allowed)]
        assert not errors, f"errors in the page: {errors}"


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def page(browser: sync_api.Browser, base_url: str, watch: Watch) -> Iterator[sync_api.Page]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN", base_url=base_url, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)

    def only_local(route: sync_api.Route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", None) or route.request.url.startswith(
                ("blob:", "data:")):
            route.continue_()
        else:
            watch.external.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    pg.on("pageerror", lambda exc: watch.errors.append(f"pageerror: {exc}"))
    pg.on("console", lambda msg: msg.type == "error" and watch.errors.append(f"console: {msg.text}"))
    yield pg
    context.close()
    watch.check()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def screenshot(pg: sync_api.Page, shots: Path, name: str) -> Path:
    """A 375×812 screenshot of the viewport, under the pytest tmp dir and in build/screenshots/."""
    path = shots / f"{name}.png"
    pg.screenshot(path=str(path), scale="css")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SCREENSHOTS / path.name)
    return path


def assert_no_sideways_overflow(pg: sync_api.Page) -> None:
    """Nothing is wider than the 375 px screen (the page, and each scrolling box in it)."""
    wide = pg.evaluate("""() => {
        const out = [];
        const root = document.documentElement;
        if (root.scrollWidth > root.clientWidth) out.push(`page ${root.scrollWidth}px`);
        for (const node of document.querySelectorAll('body *')) {
            const r = node.getBoundingClientRect();
            if (!r.width || node.closest('.table-wrap, .chips, .quote')) continue;  // these scroll on purpose
            if (r.right > window.innerWidth + 0.5 || r.left < -0.5) {
                out.push(`${node.tagName}.${node.className} ${Math.round(r.left)}..${Math.round(r.right)}`);
            }
        }
        return out.slice(0, 10);
    }""")
    assert wide == [], f"wider than the screen: {wide}"


def set_city(pg: sync_api.Page, city: str, school: str | None = None) -> None:
    value = json.dumps({"id": city, "name": city, "school": school}, ensure_ascii=False)
    pg.add_init_script(f"localStorage.setItem('yibao.city', {json.dumps(value)})")


def watch_stream(pg: sync_api.Page) -> None:
    """Record (with a MutationObserver, so nothing brief is missed) whether the typing dots and streamed text
    were ever on screen."""
    pg.evaluate("""() => {
        window.__seen = {typing: false, streaming: false};
        new MutationObserver(() => {
            if (document.querySelector('.msg.bot.pending .typing')) window.__seen.typing = true;
            if (document.querySelector('.text.streaming')) window.__seen.streaming = true;
        }).observe(document.getElementById('messages'),
                   {childList: true, subtree: true, characterData: true});
    }""")


def last_answer(pg: sync_api.Page) -> sync_api.Locator:
    pg.wait_for_selector(".msg.bot:not(.pending) .actions >> nth=-1")  # the final response is rendered
    return pg.locator(".msg.bot").last


# ---------------------------------------------------------------------------------------------------------
def test_student_asks_and_sees_streamed_answer_with_expanding_citation(page: sync_api.Page) -> None:
    page.goto("/")
    assert page.title() == "医保助手"
    assert "选择学校" in page.locator("#city-label").inner_text()
    # the input grows with its text up to 112 px (YB.autoGrow), and shrinks back
    height = "() => document.getElementById('question').style.height"
    page.fill("#question", "\n".join(["第一行"] * 8))
    assert page.evaluate(height) == "112px"
    page.fill("#question", "短")
    assert float(page.evaluate(height).removesuffix("px")) < 80
    watch_stream(page)
    with page.expect_response("**/api/ask/stream") as resp_info:
        page.fill("#question", "武汉住院报销比例是多少")
        page.keyboard.press("Enter")
    response = resp_info.value
    assert response.status == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert page.locator(".msg.me .text").last.inner_text() == "武汉住院报销比例是多少"
    answer = last_answer(page)
    assert page.evaluate("window.__seen") == {"typing": True, "streaming": True}
    assert answer.locator(".typing").count() == 0
    text = answer.locator(".text").first.inner_text()
    assert "60%" in text and "来源：" not in text  # the sources paragraph became footnotes
    assert page.evaluate("sessionStorage.getItem('yibao.session_id')")

    # a [n] marker in the text opens its footnote: the quote and a link to the guide section
    ref = answer.locator(".text .ref").first
    n = ref.inner_text().strip("[]")
    note = answer.locator(f".fn[data-n='{n}']")
    assert note.locator(".fn-body").is_hidden()
    ref.click()
    assert note.locator(".fn-body").is_visible()
    assert note.locator(".fn-head").get_attribute("aria-expanded") == "true"
    assert len(note.locator(".quote").inner_text()) > 20
    link = note.locator("a.fn-link")
    href = link.get_attribute("href") or ""
    assert href.startswith("/sources/wuhan_2025#")
    note.locator(".fn-head").click()  # and closes again
    assert note.locator(".fn-body").is_hidden()

    # the link opens the guide at that section
    note.locator(".fn-head").click()
    with page.context.expect_page() as new_page_info:
        link.click()
    guide = new_page_info.value
    guide.wait_for_selector("#doc h2")
    hit = guide.locator("#doc .hit")
    assert hit.count() == 1
    assert hit.get_attribute("id") == unquote(href.split("#", 1)[1])
    assert hit.is_visible()
    guide.close()


def test_quick_reply_chip_and_remembered_school(page: sync_api.Page) -> None:
    page.goto("/")
    page.click("#city-button")
    page.locator(".school", has_text="武汉大学").first.click()
    assert page.locator("#city-sheet").is_hidden()
    assert page.locator("#city-label").inner_text() == "武汉大学"
    chip = page.locator("#chips .chip", has_text="异地就医备案")
    question = chip.get_attribute("title")
    with page.expect_request("**/api/ask/stream") as req_info:
        chip.click()
    body = json.loads(req_info.value.post_data or "{}")
    assert body["city"] == "wuhan" and body["question"] == question
    answer = last_answer(page)
    assert page.locator(".msg.me .text").last.inner_text() == question
    assert "备案" in answer.locator(".text").first.inner_text()
    assert answer.locator(".fn").count() >= 1
    assert [c.inner_text() for c in page.locator("#chips .chip").all()] == [
        "暂停老家医保", "异地就医备案", "看病报销", "交多少钱", "能报多少"]
    # the school survives a reload (localStorage); the conversation id is kept for the tab
    session = page.evaluate("sessionStorage.getItem('yibao.session_id')")
    page.reload()
    assert page.locator("#city-label").inner_text() == "武汉大学"
    assert page.evaluate("sessionStorage.getItem('yibao.session_id')") == session


def test_clarification_options_set_the_city_and_resend(page: sync_api.Page) -> None:
    page.goto("/")
    page.fill("#question", "住院报销比例是多少")
    page.click("#send")
    answer = last_answer(page)
    options = answer.locator(".option-chips .chip")
    assert options.count() >= 5
    names = [o.inner_text() for o in options.all()]
    assert "武汉" in names
    with page.expect_request("**/api/ask/stream") as req_info:
        options.nth(names.index("武汉")).click()
    assert json.loads(req_info.value.post_data or "{}")["city"] == "wuhan"
    # the new bubble streams in: wait for Wuhan's 三级医疗机构 ratio (in the lead or the rows under it)
    sync_api.expect(page.locator(".msg.bot").last).to_contain_text("60%", timeout=WAIT_MS)
    assert page.locator("#city-label").inner_text() == "武汉"
    assert json.loads(page.evaluate("localStorage.getItem('yibao.city')"))["id"] == "wuhan"


def test_calculator_card_recomputes(page: sync_api.Page, base_url: str, watch: Watch) -> None:
    set_city(page, "wuhan")
    page.goto("/")
    page.locator("#chips .chip", has_text="能报多少").click()
    answer = last_answer(page)
    card = answer.locator(".calc-card")
    assert card.is_visible()
    assert card.locator("input[name=cost]").input_value() == "10000"
    assert card.locator("select[name=hospital_level]").input_value() == "3"
    assert card.locator(".fund").inner_text() == "5,520.00 元"  # (10000 − 800) × 60%
    expected = httpx.post(f"{base_url}/api/calc/benefit", json={
        "city": "wuhan", "care": "inpatient", "hospital_level": 2, "cost": 50000, "admission": 2}).json()

    card.locator("input[name=cost]").fill("50000")
    card.locator("select[name=hospital_level]").select_option("2")
    card.locator("input[name=admission]").fill("2")
    with page.expect_response("**/api/calc/benefit") as resp_info:
        card.locator(".calc-go").click()
    sent = json.loads(resp_info.value.request.post_data or "{}")
    assert sent["cost"] == "50000" and sent["hospital_level"] == 2 and sent["admission"] == 2
    assert sent["city"] == "wuhan" and sent["care"] == "inpatient"

    def yuan(value: float) -> str:
        return f"{value:,.2f} 元"

    card.locator(".fund", has_text=yuan(expected["fund_pays"])).wait_for()
    assert card.locator(".own").inner_text() == yuan(expected["out_of_pocket"])
    steps = card.locator(".calc-steps li")
    assert steps.count() == len(expected["steps"])
    assert steps.first.locator(".step-amount").inner_text() == "50,000.00 元"
    assert card.locator(".calc-steps").get_attribute("open") is not None
    labels = [s.locator(".step-label").inner_text() for s in steps.all()]
    assert labels == [s["label"] for s in expected["steps"]]
    assert expected["steps"][1]["rule"] in card.locator(".step-rule").nth(1).inner_text()

    # bad input: the calculator's Chinese message, the old result stays
    watch.allow("status of 422")
    card.locator("input[name=cost]").fill("-5")
    card.locator(".calc-go").click()
    card.locator(".calc-error").wait_for()
    assert "费用" in card.locator(".calc-error").inner_text()
    assert card.locator(".own").inner_text() == yuan(expected["out_of_pocket"])


def test_copy_and_feedback(page: sync_api.Page) -> None:
    set_city(page, "shanghai")
    page.goto("/")
    page.fill("#question", "异地就医备案怎么办")
    page.click("#send")
    answer = last_answer(page)
    answer.locator(".act.copy").click()
    page.locator("#toast.show", has_text="已复制").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("【上海】") and "来源：" in copied
    with page.expect_response("**/api/feedback") as resp_info:
        answer.locator(".act.thumb").first.click()
    assert resp_info.value.status == 200 and resp_info.value.json()["ok"] is True
    sent = json.loads(resp_info.value.request.post_data or "{}")
    assert sent["rating"] == "up" and sent["question"] == "异地就医备案怎么办" and sent["session_id"]
    assert "chosen" in (answer.locator(".act.thumb").first.get_attribute("class") or "")
    assert answer.locator(".act.thumb").last.is_disabled()


def test_counselor_pastes_three_questions_and_downloads_csv(page: sync_api.Page, tmp_path: Path) -> None:
    page.goto("/counselor")
    page.fill("#paste", "张同学：武汉的大学生医保一年交多少钱？\n"
                        "李同学：我在上海读书，放假回老家看病怎么办理异地就医备案？我手机13812345678\n"
                        "王同学：克拉玛依住院报销比例是多少？")
    with page.expect_response("**/api/batch"):
        page.click("#run")
    rows = page.locator("#results tbody tr")
    rows.nth(2).wait_for()
    assert rows.count() == 3
    assert "3 个问题" in page.locator("#status").inner_text()
    questions = [r.locator(".question").inner_text() for r in rows.all()]
    assert "13812345678" not in questions[1] and "异地就医备案" in questions[1]  # masked, as returned
    answers = [r.locator("textarea.answer").input_value() for r in rows.all()]
    assert "400" in answers[0] and answers[1].startswith("【上海】") and answers[2].startswith("【克拉玛依】")
    assert all("来源：" not in a for a in answers)  # the sources have their own column
    link = rows.nth(0).locator(".c-s a").first
    assert link.get_attribute("href").startswith("/sources/wuhan_2025#")
    assert link.get_attribute("target") == "_blank" and link.get_attribute("rel") == "noopener"

    # each answer box is as tall as its text, up to 480 px (YB.autoGrow)
    box = rows.nth(0).locator("textarea.answer")
    box.fill("短")
    assert float(box.evaluate("a => a.style.height").removesuffix("px")) < 200
    box.fill("\n".join(["一行"] * 40))
    assert box.evaluate("a => a.style.height") == "480px"

    # edit an answer, then "复制回复" gives a ready-to-send message with it
    edited = answers[0] + "\n如有疑问请联系辅导员。"
    rows.nth(0).locator("textarea.answer").fill(edited)
    rows.nth(0).locator(".copy-reply").click()
    page.locator("#toast.show").wait_for()
    reply = page.evaluate("navigator.clipboard.readText()")
    assert reply.startswith(f"问：{questions[0]}\n答：") and "如有疑问请联系辅导员。" in reply
    assert "\n来源：\n[1] " in reply

    with page.expect_download() as dl_info:
        page.click("#export-csv")
    download = dl_info.value
    assert download.suggested_filename.endswith(".csv")
    raw = (tmp_path / "out.csv")
    download.save_as(raw)
    data = raw.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Chinese correctly
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == ["序号", "问题", "回答", "城市", "来源"]
    assert [r[0] for r in table[1:]] == ["1", "2", "3"]
    assert [r[1] for r in table[1:]] == questions
    assert table[1][2] == edited and table[1][3] == "武汉" and "[1] " in table[1][4]

    with page.expect_download() as dl_info:
        page.click("#export-md")
    md_path = tmp_path / "out.md"
    dl_info.value.save_as(md_path)
    md = md_path.read_text(encoding="utf-8")
    assert md.startswith("# 医保问答（3 个问题）") and f"## 3. {questions[2]}" in md and "/sources/" in md


def test_counselor_uploads_a_csv(page: sync_api.Page) -> None:
    page.goto("/counselor")
    content = "序号,question,备注\n1,武汉住院报销比例是多少,\n2,\"上海异地就医备案怎么办，要带什么材料\",急\n"
    page.set_input_files("#file", files=[{"name": "questions.csv", "mimeType": "text/csv",
                                          "buffer": content.encode("utf-8-sig")}])
    page.locator("#file-note", has_text="2 个问题").wait_for()
    assert page.locator("#paste").input_value() == (
        "武汉住院报销比例是多少\n上海异地就医备案怎么办，要带什么材料")
    with page.expect_request("**/api/batch") as req_info:
        page.click("#run")
    assert json.loads(req_info.value.post_data or "{}")["questions"] == [
        "武汉住院报销比例是多少", "上海异地就医备案怎么办，要带什么材料"]
    page.locator("#results tbody tr").nth(1).wait_for()
    assert page.locator("#results tbody tr").count() == 2


def test_guide_page_renders_markdown_safely(page: sync_api.Page) -> None:
    section = "八、武汉大学生医保异地住院结算如何办理"
    page.goto(f"/sources/wuhan_2025#{quote(section)}")
    page.wait_for_selector("#doc h2")
    title = page.locator(".doc-title").inner_text()
    assert title.startswith("市医保局关于切实做好2025年度大学生参保工作的通知")
    assert "2025" in page.title()
    hit = page.locator("#doc .hit")
    assert hit.get_attribute("id") == section and hit.is_visible()
    assert page.locator("#doc table").count() >= 1 and page.locator("#doc ol li").count() >= 5
    # a full section path ("A > B") also finds its heading
    path = "武汉大学生2025年度医保参保缴费热点问题问答 > 六、武汉大学生住院医保如何报销"
    page.goto("/sources/wuhan_2025#" + quote(path))
    page.wait_for_selector("#doc .hit")
    assert page.locator("#doc .hit").get_attribute("id") == "六、武汉大学生住院医保如何报销"
    # markup in a document is shown as text, never run
    rendered = page.evaluate("""() => {
        const {fragment} = YBMarkdown.render('# <img src=x onerror="window.__xss=1">\\n\\n'
            + 'a <script>window.__xss=2</script> **b** [x](javascript:alert(1))\\n\\n'
            + '| h |\\n|---|\\n| <b>c</b> |');
        const box = document.createElement('div');
        box.append(fragment);
        document.body.append(box);
        return {imgs: box.querySelectorAll('img, script, b').length, links: box.querySelectorAll('a').length,
                text: box.textContent, id: box.querySelector('h1').id, xss: window.__xss || null};
    }""")
    assert rendered["imgs"] == 0 and rendered["links"] == 0 and rendered["xss"] is None
    assert '<img src=x onerror="window.__xss=1">' == rendered["id"]
    assert "<script>window.__xss=2</script>" in rendered["text"] and "<b>c</b>" in rendered["text"]


def test_unknown_guide_says_so(page: sync_api.Page, watch: Watch) -> None:
    page.goto("/sources/no_such_doc")
    page.locator("#doc .error").wait_for()
    assert "没有这份指南" in page.locator("#doc .error").inner_text()
    watch.allow("status of 404")  # the browser logs the failed fetch itself


def test_answers_are_escaped(page: sync_api.Page) -> None:
    """A question full of markup comes back in the answer and the bubbles as text."""
    page.goto("/")
    page.fill("#question", '<img src=x onerror="window.__xss=1">武汉住院报销比例是多少')
    page.click("#send")
    last_answer(page)
    assert page.locator("#messages img:not(.avatar)").count() == 0
    assert page.evaluate("window.__xss || null") is None
    assert page.locator(".msg.me .text").last.inner_text().startswith("<img src=x")


def test_phone_screenshots(page: sync_api.Page, shots: Path) -> None:
    """375×812 screenshots of the three pages; nothing sticks out sideways. (Look at build/screenshots/.)"""
    set_city(page, "wuhan", "华中科技大学")
    page.goto("/")
    page.fill("#question", "住院花了2万能报多少")
    page.click("#send")
    answer = last_answer(page)
    answer.locator(".fn-head").first.click()
    assert_no_sideways_overflow(page)
    page.evaluate("document.querySelector('.msg.me').scrollIntoView()")
    chat = screenshot(page, shots, "chat")
    answer.locator(".calc-card").scroll_into_view_if_needed()
    page.evaluate("document.querySelector('.calc-card').scrollIntoView()")
    screenshot(page, shots, "chat-calculator")

    page.goto("/counselor")
    page.fill("#paste", "1. 武汉大学生医保一年交多少钱？\n2. 在上海读书，老家医保要停吗？\n"
                        "3. 克拉玛依住院能报多少？")
    page.click("#run")
    page.locator("#results tbody tr").nth(2).wait_for()
    assert_no_sideways_overflow(page)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)  # the smooth scroll to the results settles
    page.evaluate("window.scrollTo(0, 0)")
    counselor = screenshot(page, shots, "counselor")
    page.evaluate("document.getElementById('results-card').scrollIntoView()")
    screenshot(page, shots, "counselor-results")

    page.goto("/sources/wuhan_2025#" + quote("六、武汉大学生住院医保如何报销"))
    page.wait_for_selector("#doc .hit")
    assert_no_sideways_overflow(page)
    guide = screenshot(page, shots, "guide")
    page.goto("/sources/chongqing_cqmu_2018")
    page.wait_for_selector("#doc table")
    assert_no_sideways_overflow(page)
    screenshot(page, shots, "guide-top")

    for path in (chat, counselor, guide):
        png = path.read_bytes()
        assert png.startswith(b"\x89PNG") and int.from_bytes(png[16:20], "big") == 375
        assert int.from_bytes(png[20:24], "big") == 812
