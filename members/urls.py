from django.urls import path
from django.views.i18n import set_language

from members import me_views, views

urlpatterns = [
    path("calendar/public/raids.ics", views.public_raids, name="calendar-public-raids"),
    path("calendar/public/ark-<int:alliance_id>.ics", views.public_ark, name="calendar-public-ark"),
    path("calendar/<str:token>.ics", views.member_feed, name="calendar-feed"),
    path("me/", me_views.page, name="members-me"),
    path("me/calendar/", me_views.calendar, name="members-calendar"),
    path("me/reminders/", me_views.reminders, name="members-reminders"),
    path("me/export/", me_views.export, name="members-export"),
    path("me/forget/", me_views.forget, name="members-forget"),
    # the page's language switch: Django's own view (a POST sets the language cookie, which
    # LocaleMiddleware reads before the browser's Accept-Language)
    path("me/language/", set_language, name="members-language"),
]
