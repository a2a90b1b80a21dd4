"""Sign in with Discord for officers: django-allauth's Discord provider, with its Discord
URLs taken from settings (tests run the whole flow against a fake OAuth server) and the
officer groups set from the member's Discord roles at each sign-in."""
