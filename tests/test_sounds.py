from app.understanding.sounds import SoundIndex, pinyin_of


def test_pinyin_of_drops_tones_and_keeps_other_characters() -> None:
    assert pinyin_of("报销A1") == ["bao", "xiao", "a", "1"]


def test_longest_sound_alike_wins() -> None:
    index = SoundIndex([("克拉", "short"), ("克拉玛依", "long")])
    assert index.find("去克拉码依看病") == [(1, 5, "long")]
    assert index.find("克拉") == [(0, 2, "short")]


def test_scan_skips_past_each_match_without_overlaps() -> None:
    index = SoundIndex([("报销", "报销"), ("销售", "销售")])
    assert index.find("报消售后再报消") == [(0, 2, "报销"), (5, 7, "报销")]  # 消售 overlaps the first match


def test_no_match() -> None:
    index = SoundIndex([("备案", "备案")])
    assert index.find("怎么参保") == []
    assert index.find("bei an") == []  # no Chinese characters, no match
    assert SoundIndex[str]().find("备案") == []


def test_accept_falls_back_to_a_shorter_candidate_and_ties_keep_order_added() -> None:
    index = SoundIndex([("医保", "医保"), ("医保码", "医保码"), ("一包", "一包")])
    assert index.find("医保吗", lambda start, end, value: value != "医保码") == [(0, 2, "医保")]
    assert index.find("一包药", lambda start, end, value: value != "医保") == [(0, 2, "一包")]
    assert index.find("医保码") == [(0, 3, "医保码")]
