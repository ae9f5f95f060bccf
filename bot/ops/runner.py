"""Running the bot: migrate, connect over Socket Mode, serve health, stop cleanly."""

from __future__ import annotations

import gc
import logging
import signal
import threading
from concurrent.futures import Executor
from types import FrameType

from bot.api import api_context, api_routes
from bot.app import create_app
from bot.delivery.webhooks import WebhookSender
from bot.jobs.scheduler import start_scheduler
from bot.ops.health import HealthServer
from bot.ops.rating_page import rating_routes
from bot.settings import Settings
from bot.slack.socket_mode import CasedeskSocketModeHandler
from db.migrate import upgrade
from db.session import Database, make_engine, sqlite_single_process

log = logging.getLogger("casedesk")
# SIGTERM to exit: Railway and systemd wait 10 s before they kill.
DRAIN_SECONDS = 7.0


def drain(executor: Executor, timeout: float) -> bool:
    """Let listeners that already acked finish their work; True when all did in time."""
    waiter = threading.Thread(target=executor.shutdown, kwargs={"wait": True}, daemon=True)
    waiter.start()
    waiter.join(timeout)
    return not waiter.is_alive()


def run(settings: Settings) -> int:
    lock = sqlite_single_process(settings.database_url)  # held until the process exits
    engine = make_engine(settings.database_url, prepared=settings.database_prepared)
    upgrade(engine)
    desk = create_app(settings, engine=engine)
    # Asked once before connecting, so a rejected app token stops the start with one line
    # instead of the Socket Mode client's logged error.
    desk.app.client.apps_connections_open(app_token=settings.slack_app_token)
    handler = CasedeskSocketModeHandler(desk.app, settings.slack_app_token, metrics=desk.deps.metrics)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    health = None
    if settings.port:
        surveys = desk.deps.surveys
        health = HealthServer(
            settings.port, engine, handler.client.is_connected, settings.health_host, metrics=desk.deps.metrics,
            routes=[*(rating_routes(surveys) if surveys is not None else ()), *api_routes(api_context(desk.deps))],
        ).start()
        log.info("health server on %s port %d (/health, /ready, /metrics, /api/v1)", settings.health_host, health.port)
    handler.connect()
    desk.deps.sender.start()
    webhooks = WebhookSender(desk.deps.db or Database(engine), desk.deps.clock).start()
    scheduler = start_scheduler(desk.deps) if settings.scheduler_enabled else None
    log.info("Casedesk is running over Socket Mode")
    # Modules, the app and its listeners live as long as the process: frozen, the collector
    # stops walking them in every full collection, and on exit.
    gc.freeze()
    stop.wait()

    if scheduler:
        scheduler.shutdown(wait=False)
    handler.close()  # no new envelopes from here on
    if not drain(desk.listener_executor, DRAIN_SECONDS):
        log.warning("stopped with work still running after %.0f s", DRAIN_SECONDS)
    desk.deps.sender.stop()  # unsent posts stay in the outbox for the next start
    webhooks.stop()  # unsent deliveries too
    if health:
        health.stop()
    engine.dispose()
    if lock:
        lock.close()
    log.info("stopped")
    return 0
