"""The figures `make assurance` gathers and the document it writes from them."""

from tests import assurance


def test_nothing_is_written_outside_make_assurance(tmp_path, monkeypatch):
    monkeypatch.delenv(assurance.DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assurance.record("leaks", requests=3)
    assert list(tmp_path.iterdir()) == []


def test_whole_numbers_add_up_across_calls_and_text_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv(assurance.DIR_ENV, str(tmp_path))
    assurance.record("fuzz", examples=10, server_errors=0, note="first")
    assurance.record("fuzz", examples=5, server_errors=0, note="second")
    text = assurance.render(tmp_path)
    assert "| generated examples submitted | 15 |" in text
    assert "| server errors | 0 | 0: met |" in text


def test_a_figure_off_its_goal_or_not_measured_is_called_out(tmp_path, monkeypatch):
    monkeypatch.setenv(assurance.DIR_ENV, str(tmp_path))
    assurance.record("leaks", canaries_found=2)
    text = assurance.render(tmp_path)
    assert "| canaries found outside the user's scope or in logs | 2 | 0: **missed** |" in text
    assert "| server errors | not measured | 0: not measured |" in text
    assert "Not measured in this run:" in text
    assert "Outcome: the tests did not run." in text
