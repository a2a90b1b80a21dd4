import asyncio
import logging
import signal
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bot import gateway
from bot.runner import GuildOpsBot

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the Discord bot: slash commands, buttons and gateway events (needs DISCORD_TOKEN)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--sync-only", action="store_true",
                            help="Log in, sync the application commands, and exit without connecting to the gateway.")

    def handle(self, *args, sync_only: bool = False, **options) -> None:
        if not settings.DISCORD_TOKEN:
            raise CommandError("DISCORD_TOKEN is not set: set it to your bot's token to run the bot "
                               "(and DISCORD_GUILD_ID to sync commands to one server).")
        # The event loop shares the GIL with the database threads; hand it back to the loop
        # every millisecond (Python's default is 5 ms) so acknowledgements are not held up by
        # ORM work.
        sys.setswitchinterval(0.001)
        asyncio.run(self._run(sync_only))

    async def _run(self, sync_only: bool) -> None:
        bot = GuildOpsBot(sync_only=sync_only)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with bot:
            try:
                await bot.login(settings.DISCORD_TOKEN)
            except Exception as exc:
                raise CommandError(f"Discord login failed: {exc}") from exc
            self.stdout.write(f"Logged in as {bot.user}; synced {len(bot.synced_commands)} command(s).")
            if sync_only:
                return
            runner = asyncio.create_task(self._stay_connected(bot, stop))
            stopper = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if runner in done:
                runner.result()  # a permanent error (bad intents) ends the bot with its message
            self.stdout.write("runbot: shutting down")
            await bot.close()
            runner.cancel()

    async def _stay_connected(self, bot: GuildOpsBot, stop: asyncio.Event) -> None:
        """The gateway connection until stopped: resumes after every outage (bot.gateway); a close
        code no retry can fix ends the command with the sentence that names the fix."""
        try:
            await gateway.stay_connected(bot, stop, say=self.stderr.write)
        except gateway.GatewayClosedError as exc:
            raise CommandError(str(exc)) from exc
