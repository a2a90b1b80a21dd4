"""Connect Battle.net from the member's page: django-allauth's Battle.net provider with its
URLs taken from settings (``BATTLENET_OAUTH_BASE``; tests run the whole flow against a fake), scope
``wow.profile``, the region ``BLIZZARD_REGION``. Only ever *connects* an account to a signed-in
member's login (never signs anyone up); at each connection the account's characters are read
(``guildsync.clients.account_characters``) and linked (``guildsync.services.battlenet``)."""
