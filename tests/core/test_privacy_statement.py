"""docs/PRIVACY.md and the privacy registry agree (core/privacy/statement.py)."""

from __future__ import annotations

from core.privacy import parts, statement


def test_the_statement_says_what_the_registry_says():
    assert statement.current() == statement.render(), (
        "docs/PRIVACY.md disagrees with the privacy registry: run `manage.py privacy_statement --write` "
        "(with the default settings) and review the change")


def test_every_registered_model_and_every_retention_setting_is_in_the_statement():
    text = statement.DOCUMENT.read_text(encoding="utf-8")
    for part in parts():
        for holds in part.holds:
            assert f"| {holds.model.split('.')[1]} |" in text, holds.model
    for name in statement.RETENTION_SETTINGS:
        assert f"`{name}`" in text, name
    for promise in ("/privacy export", "/privacy forget", "Trust & Safety", "kept"):
        assert promise in text


def test_the_check_fails_when_the_document_drifts(tmp_path, monkeypatch):
    drifted = tmp_path / "PRIVACY.md"
    drifted.write_text(statement.DOCUMENT.read_text(encoding="utf-8").replace("are deleted", "are kept forever"))
    monkeypatch.setattr(statement, "DOCUMENT", drifted)
    assert statement.current() != statement.render()
