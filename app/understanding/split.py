"""Split a pasted message (a counselor's paste, a group chat) into separate questions (pure)."""

from __future__ import annotations

import re

# a number marker may follow punctuation too (汇总几个问题：1）…？2）…); 第二 only a line start (，第二次住院) and
# not before a unit it counts (freshman 第一年需要交吗, 第二次住院)
_MARKERS = re.compile(
    r"(?:(?:^|\s|(?<=[：:，,。；;？?！!]))(?:\d{1,2}[.、．)）](?!\d)|[①②③④⑤⑥⑦⑧⑨⑩]|[（(]\d{1,2}[）)])"
    r"|(?:^|\s)第[一二三四五六七八九十]+(?![一二三四五六七八九十年次回档天月周批届学类种步]|个?月)[个，,、]?)"
)
# "另外" starts a new question only at the start of a clause (自己另外买 is one question); in chat a space after 吗
# ends a question as a question mark would (医保交400就行了吗 长护险是必须交的吗)
_BREAKS = re.compile(r"[\n\r]+|(?<=[？?！!])|(?<=[。；;])|(?<=吗)\s+|(?:(?<=[，,\s])|^)(?=另外|还有一个|还有就是|再问一下|顺便问)")
_SPEAKER = re.compile(r"^(?:[^：:\s]{1,12}(?:同学|学生|老师|家长|辅导员)?[A-Za-z0-9甲乙丙丁]?)\s*(?:问|说)?[：:]\s*")
_FILLER = re.compile(r"^(?:老师|您|你|大家)?好[啊呀！!,，。~]*|^(?:谢谢|麻烦了|请问)[！!,，。~]*")
# a paste's greeting (【辅导员】各位老师好) and its asker introducing themselves (我是…辅导员, 本人是…班主任)
_HELLO = r"^[【\[(（]?(?:辅导员|老师|班主任|家长)?(?:转发?)?[】\])）]?(?:各位|亲爱的)?(?:老师们?|您|你|大家|同学们)?"
_GREETING = re.compile(_HELLO + r"好[啊呀！!~]*[，,。！!]?$")
_ASKER = re.compile(_HELLO + r"好?[，,！!]?(?:我是|我们是|本人是?)[^，,。；;]{0,20}"
                    r"(?:辅导员|老师|班主任|学工|家长|妈妈|爸爸)[，,。；;：:]?$")
# "帮学生汇总几个问题", "班上有几个新生的医保问题想咨询", "转个学生的问题" announce questions, they do not ask one;
# nor does asking for the answers ("麻烦看看怎么回复", "烦请解答")
_ANNOUNCE = re.compile(r"(?:几|两|三|四|\d|以下|下面|下列|如下|这些|这几)(?:个|位|名|件)?[^，,。；;？?！!]{0,8}问题|"
                       r"转(?:一?个|一下)[^，,。；;？?！!]{0,6}问题|"
                       r"(?:麻烦|烦请|请|帮忙)[^，,。；;？?！!]{0,4}(?:看看?|解答|回复|答复|回答)(?:一下)?(?:怎么回复)?")
# "…要办备案吗？具体咋办": asking for the details of the question before it, not a question of its own (unless
# it is an item of a numbered list)
_DETAILS = re.compile(r"具体")
_ITEM = "\x00"  # where a list marker was (not whitespace: strip() keeps it)
_QUESTIONY = re.compile(r"[？?吗呢么]|怎么|怎样|如何|多少|多久|哪|能不能|可不可以|是否|要不要|有没有|会不会|咋|啥|什么|几|"
                        r"是不是|用不用|需不需要|行不行|对不对")


# "…问，1 一档二档多少钱 2 截止到哪天": bare numbers before Chinese are markers only when they count 1, 2 (, 3…)
_BARE = re.compile(r"(?:^|(?<=[\s，,：:。；;]))(\d)\s+(?=[\u4e00-\u9fff])")


def _bare_markers(text: str) -> str:
    found = list(_BARE.finditer(text))
    numbers = [int(m.group(1)) for m in found]
    if len(numbers) < 2 or numbers != list(range(1, len(numbers) + 1)):
        return text
    for m in reversed(found):
        text = f"{text[:m.start()]}\n{text[m.end():]}"
    return text


def _asks(piece: str) -> bool:
    return bool(_QUESTIONY.search(_ANNOUNCE.sub("", piece)))


def split_questions(text: str, *, min_chars: int = 4) -> list[str]:
    """Questions in the order they appear; a single question comes back as itself."""
    text = _MARKERS.sub("\n" + _ITEM, _bare_markers(text.strip()))
    pieces, numbered = [], set()
    for raw in _BREAKS.split(text):
        item = raw.strip().startswith(_ITEM)
        piece = _SPEAKER.sub("", raw.strip().lstrip(_ITEM).strip())
        piece = _FILLER.sub("", piece).strip(" ，,。；;~：:")
        if piece:
            if item:
                numbered.add(len(pieces))
            pieces.append(piece)
    questions: list[str] = []
    for n, piece in enumerate(pieces):
        # a statement (context: "我是华科的大一新生") joins the question that follows it
        if questions and not _asks(questions[-1]):
            questions[-1] = f"{questions[-1]}，{piece}"
        elif (len(piece) < min_chars or _DETAILS.match(piece) and n not in numbered) and questions:
            questions[-1] = f"{questions[-1]}{piece}"
        else:
            questions.append(piece)
    if questions and not _asks(questions[-1]) and len(questions) > 1:
        tail = questions.pop()
        questions[-1] = f"{questions[-1]}，{tail}"
    if len(questions) > 1:
        # who is asking ("我是洪山区某高校25级辅导员") and "汇总几个问题" are said to the whole paste (the caller
        # reads its city from the whole text): they would pull the first question's search to their words
        questions = [_without_asker(q) for q in questions]
    text = text.replace(_ITEM, "").strip()
    return questions or ([text] if text else [])


def _without_asker(question: str) -> str:
    clauses = re.split(r"(?<=[，,。；;：:])", question)
    kept = [c for c in clauses if not (_ASKER.search(c) or _GREETING.search(c) or _ANNOUNCE.search(c) and not _asks(c))]
    return "".join(kept).strip(" ，,。；;：:") or question
