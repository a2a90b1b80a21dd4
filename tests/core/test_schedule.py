"""The periodic schedule is declared once (settings) and every entry names a real task."""

from django.conf import settings

from config.celery import app


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    registered = set(app.tasks)
    missing = {name: entry["task"] for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
               if entry["task"] not in registered}
    assert not missing


def test_celery_runs_tasks_safely():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT
    from django.utils.module_loading import import_string
    from django_celery_beat.schedulers import DatabaseScheduler

    scheduler = import_string(settings.CELERY_BEAT_SCHEDULER.replace(":", "."))
    assert issubclass(scheduler, DatabaseScheduler)  # schedules in the database, editable in the admin


def test_task_names_follow_the_convention():
    app.loader.import_default_modules()
    ours = [n for n in app.tasks if n.split(".")[0] in {"bot", "guildsync", "raids", "ark", "ratmas", "economy"}]
    assert ours and all(n.endswith("_task") for n in ours)
