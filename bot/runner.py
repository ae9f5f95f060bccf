"""Running the bot: migrate, connect over Socket Mode, stop cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from bot.socket_mode import CasedeskSocketModeHandler

from bot.app import create_app
from bot.config import Settings
from bot.jobs.scheduler import start_scheduler
from db.migrate import upgrade
from db.session import make_engine

log = logging.getLogger("casedesk")


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def run(settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    desk = create_app(settings, engine=engine)
    handler = CasedeskSocketModeHandler(desk.app, settings.slack_app_token)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    handler.connect()
    scheduler = start_scheduler(desk.deps)
    log.info("Casedesk is running over Socket Mode")
    stop.wait()

    scheduler.shutdown(wait=False)
    handler.close()
    engine.dispose()
    log.info("stopped")
    return 0
