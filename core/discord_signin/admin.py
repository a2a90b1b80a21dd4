"""Of allauth's admin pages only the linked Discord accounts stay (an admin can unlink one).
E-mail addresses are unused (logins are usernames), tokens are never stored and the OAuth
application comes from the environment (DISCORD_CLIENT_ID/SECRET), so those pages go."""

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialApp, SocialToken
from django.contrib import admin

for model in (EmailAddress, SocialApp, SocialToken):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
