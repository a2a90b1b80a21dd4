import asyncio
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bot.runner import GuildOpsBot


class Command(BaseCommand):
    help = "Run the Discord bot: slash commands, buttons and gateway events (needs DISCORD_TOKEN)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--sync-only", action="store_true",
                            help="Log in, sync the application commands, and exit without connecting to the gateway.")

    def handle(self, *args, sync_only: bool = False, **options) -> None:
        if not settings.DISCORD_TOKEN:
            raise CommandError("DISCORD_TOKEN is not set: set it to your bot's token to run the bot "
                               "(and DISCORD_GUILD_ID to sync commands to one server).")
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
            runner = asyncio.create_task(bot.connect(reconnect=True))
            stopper = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if runner in done:
                runner.result()  # surface the gateway's error
            self.stdout.write("runbot: shutting down")
            await bot.close()
            runner.cancel()
