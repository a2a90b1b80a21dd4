from core import groups


class GuildsyncConfig(groups.OfficerAppConfig):
    name = "guildsync"
    verbose_name = "Guild sync (WoW ↔ Discord)"
    officer_group = "Guild officers"
    def ready(self) -> None:
        from bot.signals import outbox_failed, outbox_sent
        from guildsync.services import role_plans

        def on_sent(sender, message, **kwargs) -> None:
            if message.topic == role_plans.TOPIC:
                role_plans.record_delivery(message, sent=True)

        def on_failed(sender, message, **kwargs) -> None:
            if message.topic == role_plans.TOPIC:
                role_plans.record_delivery(message, sent=False)

        outbox_sent.connect(on_sent, weak=False, dispatch_uid="guildsync.rank_role_sent")
        outbox_failed.connect(on_failed, weak=False, dispatch_uid="guildsync.rank_role_failed")
