"""A Web API client that counts its calls for /metrics: each call once, by method and how it
ended after any retries, and every HTTP 429 Slack answered, including those waited out."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.ops.metrics import Metrics

RATE_LIMITED = 429


def _method_of(url: str) -> str:
    return url.split("?", 1)[0].rsplit("/", 1)[-1]


class RateLimitCounter(RetryHandler):
    """Never retries: it sees each answer first, counts the 429s and leaves the decision
    to the handlers after it."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=0)
        self._metrics = metrics

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == RATE_LIMITED:
            self._metrics.slack_429s.labels(_method_of(request.url)).inc()
        return False


class MeteredWebClient(WebClient):
    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics
        self.retry_handlers = [RateLimitCounter(metrics), *self.retry_handlers]

    def api_call(self, api_method: str, **kwargs: Any) -> Any:  # type: ignore[override]
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as err:
            outcome = "rate_limited" if err.response.status_code == RATE_LIMITED else "error"
            self.metrics.slack_calls.labels(api_method, outcome).inc()
            raise
        except Exception:
            self.metrics.slack_calls.labels(api_method, "unreachable").inc()
            raise
        self.metrics.slack_calls.labels(api_method, "ok").inc()
        return response
