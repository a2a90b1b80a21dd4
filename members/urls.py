from django.urls import path

from members import views

urlpatterns = [
    path("calendar/public/raids.ics", views.public_raids, name="calendar-public-raids"),
    path("calendar/public/ark-<int:alliance_id>.ics", views.public_ark, name="calendar-public-ark"),
    path("calendar/<str:token>.ics", views.member_feed, name="calendar-feed"),
]
