"""identity_engine (seed Task 10) plus manual links, patterns, fuzzy margin and races."""

from __future__ import annotations

import pytest

from guildsync.models import NotePattern, Player, PlayerCharacter
from guildsync.services import identity_engine as ie
from guildsync.services import identity_links
from guildsync.services.common import GuildSyncError

pytestmark = pytest.mark.django_db


def link_of(char) -> PlayerCharacter:
    return PlayerCharacter.objects.select_related("player").get(character=char)


def test_normalize_name():
    assert ie.normalize_name("Thrall-TwistingNether") == "thrall"
    assert ie.normalize_name("Áltéa") == "altea"
    assert ie.normalize_name("mr.thrall_99", strip_realm=False) == "mrthrall99"


def test_extract_discord_hints_from_note():
    assert ie.extract_discord_hints_from_note("Main tank. Discord: Thrall.Fan") == ["Thrall.Fan"]
    assert ie.extract_discord_hints_from_note("ask @jaina_p for invites") == ["jaina_p"]
    assert ie.extract_discord_hints_from_note("no hint here") == []


def test_alt_reference_styles():
    for note in ("alt of Garrosh", "Garrosh's alt", "Main: Garrosh", "{Garrosh}", "Garrosh alt"):
        assert ie.extract_alt_references(note) == ["Garrosh"], note


def test_fuzzy_match_score():
    assert ie.fuzzy_match_score("Thrall-Draenor", "thrall") == 100
    assert ie.fuzzy_match_score("Thrall", "Jaina") < 50


def test_exact_name_match_creates_player(make):
    char = make.character("Thrall")
    user = make.discord_user("thrall")
    result = ie.run_matching()
    link = link_of(char)
    assert result.players_created == 1 and link.player.discord_user == user
    assert link.link_source == "exact_name" and link.confidence == 1.0
    assert link.player.main_character == char


def test_exact_match_links_to_existing_player(make):
    user = make.discord_user("thrall")
    player = make.player("Thrall", discord_user=user)
    char = make.character("Thrall", realm="draenor")
    result = ie.run_matching()
    assert result.players_created == 0 and link_of(char).player == player


def test_guild_note_match(make):
    char = make.character("Bigtotem", addon_note="Discord: thrallfan")
    user = make.discord_user("thrallfan")
    ie.run_matching()
    link = link_of(char)
    assert link.player.discord_user == user and link.link_source == "note"


def test_officer_note_match(make):
    char = make.character("Bigtotem", addon_officer_note="@thrallfan")
    user = make.discord_user("thrallfan")
    ie.run_matching()
    assert link_of(char).player.discord_user == user and link_of(char).link_source == "note"


def test_alt_grouping_via_notes(make):
    main = make.character("Thrall")
    alt1 = make.character("Gogo", addon_note="alt of Thrall")
    alt2 = make.character("Zuzu", addon_note="Gogo's alt")  # alt of an alt
    make.discord_user("thrall")
    ie.run_matching()
    player = link_of(main).player
    assert link_of(alt1).player == player and link_of(alt2).player == player
    assert link_of(alt1).link_source == "alt_note"
    assert player.main_character == main


def test_alt_with_discord_hint_joins_main_player_and_sets_discord(make):
    main_player = make.player("Old", characters=[make.character("Garrosh")])
    alt = make.character("Hellscream", addon_note="alt of Garrosh, Discord: gh")
    user = make.discord_user("gh")
    ie.run_matching()
    main_player.refresh_from_db()
    assert link_of(alt).player == main_player and main_player.discord_user == user


def test_orphan_alt_group_becomes_player_without_discord(make):
    a = make.character("Nobody")
    b = make.character("Nobodyalt", addon_note="alt of Nobody")
    lone = make.character("Loner")
    ie.run_matching()
    player = link_of(a).player
    assert link_of(b).player == player and player.discord_user is None and player.display_name == "Nobody"
    assert not PlayerCharacter.objects.filter(character=lone).exists()


def test_fuzzy_match_above_threshold_with_clear_margin(make):
    char = make.character("Thrallx")
    user = make.discord_user("thrall")
    ie.run_matching()
    link = link_of(char)
    assert link.player.discord_user == user and link.link_source == "fuzzy" and 0.88 <= link.confidence < 1


def test_fuzzy_match_below_threshold_skipped(make):
    char = make.character("Thrallmaster")
    make.discord_user("thrall")
    result = ie.run_matching()
    assert result.links_created == 0 and not PlayerCharacter.objects.filter(character=char).exists()


def test_fuzzy_match_without_clear_margin_skipped(make):
    char = make.character("Jainaa")
    make.discord_user("jainab")
    make.discord_user("jainac")
    ie.run_matching(threshold=80, margin=5)
    assert not PlayerCharacter.objects.filter(character=char).exists()


def test_ambiguous_exact_name_not_guessed(make):
    char = make.character("Arthas")
    make.discord_user("arthas")
    make.discord_user("Arthas!", display_name="Arthas")
    result = ie.run_matching()
    assert not PlayerCharacter.objects.filter(character=char).exists() and result.ambiguous


def test_users_without_guild_role_or_departed_ignored(make):
    make.character("Thrall")
    make.character("Jaina")
    make.discord_user("thrall", role="")
    make.discord_user("jaina", is_present=False)
    assert ie.run_matching().links_created == 0


def test_no_duplicate_player_creation(make):
    for name in ("Thrall", "Jaina", "Anduin"):
        make.character(name)
        make.discord_user(name.lower())
    make.character("Gogo", addon_note="alt of Thrall")
    make.character("Nobody")
    make.character("Nobodyalt", addon_note="{Nobody}")
    first = ie.run_matching()
    before = (Player.objects.count(), PlayerCharacter.objects.count())
    second = ie.run_matching()
    assert first.players_created == 4 and second.players_created == 0 and second.links_created == 0
    assert (Player.objects.count(), PlayerCharacter.objects.count()) == before


def test_manual_links_never_changed(make):
    char = make.character("Thrall")
    make.discord_user("thrall")
    other = make.player("Somebody else")
    identity_links.link_character(char.pk, player_id=other.pk, actor="officer")
    ie.run_matching()
    link = link_of(char)
    assert link.player == other and link.link_source == "manual" and link.confidence == 1.0


def test_manual_link_to_discord_user_creates_player_and_unlink(make):
    char = make.character("Sylvanas")
    user = make.discord_user("banshee")
    link = identity_links.link_character(char.pk, discord_user_id=user.pk, actor="officer")
    assert link.player.discord_user == user and link.player.main_character == char
    identity_links.unlink_character(link.pk, actor="officer")
    assert not PlayerCharacter.objects.filter(character=char).exists()
    with pytest.raises(GuildSyncError, match="does not exist"):
        identity_links.unlink_character(link.pk, actor="officer")
    with pytest.raises(GuildSyncError, match="either"):
        identity_links.link_character(char.pk)


def test_note_patterns_are_configurable(make):
    NotePattern.objects.create(name="twink von X", kind="alt_of", regex=r"twink von (\w+)", priority=5)
    main = make.character("Garrosh")
    make.discord_user("garrosh")
    twink = make.character("Kleiner", addon_note="Twink von Garrosh")
    ie.run_matching()
    assert link_of(twink).player == link_of(main).player


def test_matching_query_count_does_not_grow(make, django_assert_max_num_queries):
    for i in range(60):
        make.character(f"Hero{i:02d}")
        make.discord_user(f"hero{i:02d}")
        make.character(f"Alt{i:02d}", addon_note=f"alt of Hero{i:02d}")
    with django_assert_max_num_queries(12):
        result = ie.run_matching()
    assert result.links_created == 120


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_create_each_player_once(make, run_in_parallel):
    for i in range(30):
        make.character(f"Hero{i:02d}")
        make.discord_user(f"hero{i:02d}")
    results = run_in_parallel(lambda i: ie.run_matching(), 4)
    assert all(not isinstance(r, BaseException) for r in results), results
    assert sum(r.players_created for r in results) == 30
    assert Player.objects.count() == 30 and PlayerCharacter.objects.count() == 30


@pytest.mark.django_db(transaction=True)
def test_concurrent_manual_links_to_one_discord_user_create_one_player(make, run_in_parallel):
    """Officers (admin, API, bot) linking characters to the same Discord user at once: the
    first creates the player, the others join it, by snowflake or by row id alike."""
    user = make.discord_user("bigfamily", discord_id=1_234_567_890_123_456_789)
    chars = [make.character(f"Kid{i}") for i in range(6)]

    def link(i: int):
        if i % 2:
            return identity_links.link_character(chars[i].pk, discord_id=user.discord_id, actor="a")
        return identity_links.link_character(chars[i].pk, discord_user_id=user.pk, actor="b")

    results = run_in_parallel(link, 6)
    assert all(not isinstance(r, BaseException) for r in results), results
    player = Player.objects.get()
    assert player.discord_user == user and player.character_links.count() == 6


def test_fuzzy_hits_same_with_and_without_numpy(monkeypatch):
    queries, choices = ["thrallx", "jainaa", "nobody"], ["thrall", "jainab", "jainac", "garrosh"]
    try:
        import numpy  # noqa: F401
    except ImportError:
        pytest.skip("numpy not installed: only the fallback path exists here")
    with_numpy = [sorted(h) for h in ie._fuzzy_hits(queries, choices, 80)]
    monkeypatch.setitem(__import__("sys").modules, "numpy", None)
    without = [sorted(h) for h in ie._fuzzy_hits(queries, choices, 80)]
    assert [[i for i, _ in h] for h in with_numpy] == [[i for i, _ in h] for h in without] == [[0], [1, 2], []]


def test_unlinked_character_is_not_relinked_by_matching(make):
    char = make.character("Thrall")
    make.discord_user("thrall")
    ie.run_matching()
    identity_links.unlink_character(link_of(char).pk, actor="officer")
    assert ie.run_matching().links_created == 0
    char.refresh_from_db()
    assert char.skip_auto_match and not PlayerCharacter.objects.filter(character=char).exists()
    identity_links.link_character(char.pk, player_id=make.player("Right one").pk, actor="officer")
    char.refresh_from_db()
    assert not char.skip_auto_match
