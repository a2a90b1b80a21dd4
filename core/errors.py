class DomainError(Exception):
    """A rule of the domain was broken. The message is written for the person who acted
    (an officer in the admin, a member in Discord) and is shown to them as is."""
