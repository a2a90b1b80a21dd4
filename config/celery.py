"""The Celery application: configuration from Django settings (namespace CELERY), tasks
discovered in each app's ``tasks.py``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("guildops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
