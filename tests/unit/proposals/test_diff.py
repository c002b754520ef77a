from app.proposals.diff import changed, render_html, tokenize, word_diff


def test_unchanged_text_is_one_equal_piece():
    pieces = word_diff("No AI fine-tunes.", "No AI fine-tunes.")
    assert not changed(pieces)
    assert [p.op for p in pieces] == ["equal"]


def test_a_replaced_word_is_a_deletion_and_an_insertion():
    pieces = word_diff("Fan art may be sold.", "Fan art may not be sold.")
    assert ("insert", "not ") in [(p.op, p.text) for p in pieces]
    assert all(p.op != "delete" for p in pieces)
    pieces = word_diff("commercial use is allowed", "commercial use is forbidden")
    ops = [(p.op, p.text) for p in pieces]
    assert ("delete", "allowed") in ops
    assert ("insert", "forbidden") in ops


def test_pieces_rebuild_both_texts():
    old = "Credit the original producer, illustrator and model author."
    new = "Credit every original producer and the vocal library."
    pieces = word_diff(old, new)
    assert "".join(p.text for p in pieces if p.op != "insert") == old
    assert "".join(p.text for p in pieces if p.op != "delete") == new


def test_japanese_is_compared_character_by_character():
    assert tokenize("二次創作は可") == ["二", "次", "創", "作", "は", "可"]
    pieces = word_diff("商用利用は可", "商用利用は不可")
    assert [(p.op, p.text) for p in pieces if p.op != "equal"] == [("insert", "不")]


def test_html_marks_changes_and_escapes_text():
    html = str(render_html(word_diff("<b>old</b>", "<b>new</b>")))
    assert "<del>old</del>" in html
    assert "<ins>new</ins>" in html
    assert "<b>" not in html
    assert "&lt;b&gt;" in html
