"""The Celery application: configuration from Django settings (namespace CELERY), tasks
discovered in each app's ``tasks.py``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("guildops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Container healthchecks read a file the worker's consumer touches (core.liveness).
from core.liveness import LivenessFile  # noqa: E402

app.steps["consumer"].add(LivenessFile)
