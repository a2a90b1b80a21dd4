"""A player's main character is one of the player's own characters, in the database (issue 20):
``player_main_character_owned``, a composite foreign key (player, main) → the character links
(player, character), checked at commit on PostgreSQL and on SQLite (run this file with
DATABASE_URL=sqlite:///… to see the second). Services write the two sides in either order."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from guildsync.models import Player, PlayerCharacter
from guildsync.services import identity_links

pytestmark = pytest.mark.django_db
MESSAGE = "The main character must be one of the player's own characters: unlink it from its player first."


@pytest.fixture
def two_players(make):
    x, y = make.character("Xal"), make.character("Yoru")
    a = make.player("A", characters=[x, y], main_character=x)
    b = make.player("B")
    return a, b, x, y


def refused(write) -> None:
    """``write`` inside a transaction whose deferred checks run before it ends: IntegrityError,
    nothing kept."""
    with pytest.raises(IntegrityError), transaction.atomic():
        write()
        connection.check_constraints()


def test_another_players_character_is_refused_as_main(two_players):
    a, b, x, _y = two_players
    refused(lambda: Player.objects.filter(pk=b.pk).update(main_character=x))
    assert Player.objects.get(pk=b.pk).main_character_id is None


def test_a_character_nobody_owns_is_refused_as_main(make, two_players):
    _a, b, _x, _y = two_players
    stray = make.character("Stray")
    refused(lambda: Player.objects.filter(pk=b.pk).update(main_character=stray))


def test_taking_the_main_away_without_moving_the_main_is_refused(two_players):
    a, b, x, _y = two_players
    refused(lambda: PlayerCharacter.objects.filter(character=x).delete())
    refused(lambda: PlayerCharacter.objects.filter(character=x).update(player=b))
    assert PlayerCharacter.objects.get(character=x).player_id == a.pk


@pytest.mark.django_db(transaction=True)
def test_a_real_commit_is_refused(make):
    mine, other = make.character("Mine"), make.character("Other")
    owner = make.player("Owner", characters=[other], main_character=other)
    with pytest.raises(IntegrityError), transaction.atomic():
        Player.objects.create(display_name="Thief", main_character=other)
    with pytest.raises(IntegrityError), transaction.atomic():
        Player.objects.create(display_name="Nobody's", main_character=mine)  # never linked to them
    assert list(Player.objects.values_list("display_name", flat=True)) == ["Owner"]
    with transaction.atomic():  # the services' order: the player first, the link in the same transaction
        player = Player.objects.create(display_name="Newbie", main_character=mine)
        PlayerCharacter.objects.create(player=player, character=mine, link_source="manual")
    assert Player.objects.get(display_name="Newbie").main_character == mine
    assert owner.main_character_id == other.pk


def test_the_services_keep_it_in_either_order(make, two_players):
    a, b, x, y = two_players
    identity_links.link_character(x.pk, player_id=b.pk, actor="officer")  # the main moves to B
    connection.check_constraints()
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.main_character_id, b.main_character_id) == (y.pk, x.pk)
    identity_links.unlink_character(PlayerCharacter.objects.get(character=y).pk, actor="officer")
    connection.check_constraints()
    a.refresh_from_db()
    assert a.main_character_id is None
    fresh = make.character("Fresh")
    saved = identity_links.save_player(Player(display_name="New", main_character=fresh), actor="officer")
    connection.check_constraints()
    assert PlayerCharacter.objects.get(character=fresh).player_id == saved.pk


def test_validation_says_it_plainly_before_a_save(two_players):
    _a, b, x, _y = two_players
    b.main_character = x
    with pytest.raises(ValidationError) as error:
        b.full_clean()
    assert error.value.messages == [MESSAGE]
    b.main_character = None
    b.full_clean()


def test_the_migration_repairs_old_rows_before_the_constraint(make, two_players):
    """0016: a main nobody owns gets linked to the player; a main another player owns gives way
    to one of the player's own characters."""
    a, b, x, _y = two_players
    stray, own = make.character("Stray"), make.character("Own")
    c = make.player("C", characters=[own])
    repair = importlib.import_module("guildsync.migrations.0016_player_main_character_repair").repair
    with transaction.atomic():
        Player.objects.filter(pk=b.pk).update(main_character=stray)
        Player.objects.filter(pk=c.pk).update(main_character=x)
        repair(apps, None)
        connection.check_constraints()
    assert PlayerCharacter.objects.get(character=stray).player_id == b.pk
    assert Player.objects.get(pk=c.pk).main_character_id == own.pk
    assert Player.objects.get(pk=a.pk).main_character_id == x.pk
