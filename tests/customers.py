"""Helpers for tests of Slack Connect customer channels: the channel shared with Acme, and
a customer's question there with its case's card posted."""

from __future__ import annotations

from bot.app import Casedesk
from slack_double import Message, SlackDouble
from tests.test_customer_channels import ACME, CUSTOMER, SHARED


def shared(desk: Casedesk, double: SlackDouble) -> None:
    """SHARED shared with Acme, and the desk told so."""
    double.share_channel(SHARED, ACME)
    double.wait_for(lambda: desk.deps.customers.get(SHARED), what="the customer channel")


def customer_asks(desk: Casedesk, double: SlackDouble, text: str = "Export is failing") -> Message:
    """Kim of Acme asks in the shared channel; returns her message once case 1's card is posted and recorded."""
    shared(desk, double)
    asked = double.external_person(CUSTOMER, ACME, "kim").say(SHARED, text)
    double.wait_for(lambda: desk.deps.tickets.get(1).card_ts, what="the card posted and recorded")
    return asked
