import io

import pytest

from ratmas.demo import seed_demo
from ratmas.models import Event, Exclusion, Participant

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent():
    for _ in range(2):
        seed_demo(io.StringIO())
        event = Event.objects.get()
        assert event.status == "locked"  # ready to draw
        assert Participant.objects.filter(event=event).count() == 12
        assert Exclusion.objects.filter(event=event).count() == 1
