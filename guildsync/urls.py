"""API routes of the guildsync app, mounted under /api/ by config/urls.py."""

from django.urls import path

from guildsync import api

urlpatterns = [
    path("identity/players", api.PlayerListView.as_view(), name="guildsync-players"),
    path("identity/orphans/wow", api.OrphanWowView.as_view(), name="guildsync-orphans-wow"),
    path("identity/orphans/discord", api.OrphanDiscordView.as_view(), name="guildsync-orphans-discord"),
    path("identity/mismatches", api.MismatchView.as_view(), name="guildsync-mismatches"),
    path("identity/link", api.LinkView.as_view(), name="guildsync-link"),
    path("identity/link/<int:link_id>", api.UnlinkView.as_view(), name="guildsync-unlink"),
    path("identity/run-matching", api.RunMatchingView.as_view(), name="guildsync-run-matching"),
    path("guild-sync/blizzard/trigger", api.BlizzardTriggerView.as_view(), name="guildsync-blizzard-trigger"),
    path("guild-sync/discord/trigger", api.DiscordTriggerView.as_view(), name="guildsync-discord-trigger"),
    path("guild-sync/addon/upload", api.AddonUploadView.as_view(), name="guildsync-addon-upload"),
    path("guild-sync/sync-logs/<int:log_id>", api.SyncLogDetailView.as_view(), name="guildsync-sync-log"),
    path("guild-sync/status", api.StatusView.as_view(), name="guildsync-status"),
]
