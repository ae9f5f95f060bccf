"""The Slack double takes files as slack_sdk's files_upload_v2 sends them: an upload URL from
files.getUploadURLExternal, the bytes POSTed there, files.completeUploadExternal to share
them in a channel or thread, with a message carrying the file, as Slack posts it."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slack_double import SlackDouble
from slack_double.workspace import BOT_USER_ID

CHANNEL = "C0REPORTS"
OUTSIDE = "C0NOTJOINED"
PERSON = "U0PERSON1"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # bytes of every value, not text


@pytest.fixture
def double() -> Iterator[SlackDouble]:
    d = SlackDouble().start()
    d.channel(CHANNEL, "support-reports")
    d.channel(OUTSIDE, "elsewhere", bot_member=False)
    d.person(PERSON, "pat")
    yield d
    d.stop()


@pytest.fixture
def client(double: SlackDouble) -> WebClient:
    return WebClient(base_url=double.api_url, token=double.bot_token, timeout=10)


def test_files_upload_v2_shares_the_file_in_the_channel(double: SlackDouble, client: WebClient) -> None:
    response = client.files_upload_v2(
        channel=CHANNEL,
        content=PNG,
        filename="tickets-2026-11-02-to-2026-11-29.png",
        title="Tickets over the last 4 weeks",
        alt_txt="Line chart of tickets opened and resolved per day",
        initial_comment="Weekly summary: the chart",
    )
    assert response["ok"]
    file_id = response["file"]["id"]
    assert response["file"]["title"] == "Tickets over the last 4 weeks"

    ws = double.workspace
    assert [c.method for c in ws.calls] == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    assert ws.calls[0].args["length"] == str(len(PNG))
    upload = ws.uploads[file_id]
    assert upload.data == PNG and upload.length == len(PNG)
    assert (upload.filename, upload.title) == ("tickets-2026-11-02-to-2026-11-29.png", "Tickets over the last 4 weeks")
    assert upload.alt_txt == "Line chart of tickets opened and resolved per day"
    assert (upload.channel, upload.thread_ts, upload.initial_comment) == (CHANNEL, None, "Weekly summary: the chart")
    assert ws.files_in(CHANNEL) == [upload]

    [message] = double.messages(CHANNEL)
    assert message.ts == upload.message_ts and message.user == BOT_USER_ID
    assert message.text == "Weekly summary: the chart"
    payload = message.as_payload()
    assert payload["upload"] is True
    [shared] = payload["files"]
    assert shared == {
        "id": file_id,
        "name": "tickets-2026-11-02-to-2026-11-29.png",
        "title": "Tickets over the last 4 weeks",
        "mimetype": "image/png",
        "filetype": "png",
        "size": len(PNG),
        "user": BOT_USER_ID,
        "alt_txt": "Line chart of tickets opened and resolved per day",
    }
    # the bot reads it back in the channel's history as Slack gives it
    history = client.conversations_history(channel=CHANNEL)["messages"]
    assert history[0]["files"][0]["id"] == file_id


def test_a_file_in_a_thread(double: SlackDouble, client: WebClient) -> None:
    parent = client.chat_postMessage(channel=CHANNEL, text="Weekly summary")["ts"]
    client.files_upload_v2(channel=CHANNEL, thread_ts=parent, content=b"a,b\n1,2\n", filename="summary.csv")
    [reply] = double.thread(double.messages(CHANNEL)[0])
    assert reply.thread_ts == parent and reply.text == ""
    assert reply.files and reply.files[0]["name"] == "summary.csv" and reply.files[0]["title"] == "summary.csv"
    assert reply.files[0]["mimetype"] == "text/csv"
    [upload] = double.workspace.files_in(CHANNEL)
    assert upload.thread_ts == parent and upload.data == b"a,b\n1,2\n"
    assert [m.ts for m in double.messages(CHANNEL)] == [parent]  # not at the top of the channel


def test_a_file_to_a_person_goes_to_their_dm(double: SlackDouble, client: WebClient) -> None:
    client.files_upload_v2(channel=PERSON, content=PNG, filename="chart.png", initial_comment="Your chart")
    [dm] = double.workspace.dms_to(PERSON)
    assert dm.text == "Your chart" and dm.files and dm.files[0]["name"] == "chart.png"


def test_without_a_channel_the_file_stays_private(double: SlackDouble, client: WebClient) -> None:
    response = client.files_upload_v2(content=PNG, filename="chart.png")
    upload = double.workspace.uploads[response["file"]["id"]]
    assert upload.completed and upload.channel is None and upload.message_ts is None
    assert double.messages(CHANNEL) == []


@pytest.mark.parametrize(
    ("channel", "thread_ts", "error"),
    [
        ("C0NOWHERE", None, "channel_not_found"),
        (OUTSIDE, None, "not_in_channel"),
        (CHANNEL, "1700000000.000001", "thread_not_found"),
    ],
)
def test_refused_shares(double: SlackDouble, client: WebClient, channel: str, thread_ts: str | None, error: str) -> None:
    with pytest.raises(SlackApiError) as caught:
        client.files_upload_v2(content=PNG, filename="chart.png", channel=channel, thread_ts=thread_ts)
    assert caught.value.response["error"] == error
    assert double.messages(CHANNEL) == [] and not double.workspace.files_in(CHANNEL)


def test_the_three_steps_checked(double: SlackDouble, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        client.files_getUploadURLExternal(filename="chart.png", length=0)
    assert caught.value.response["error"] == "invalid_arguments"

    step = client.files_getUploadURLExternal(filename="chart.png", length=len(PNG))
    url, file_id = step["upload_url"], step["file_id"]
    assert url.startswith(double.base_url)  # on 127.0.0.1

    # completing before the bytes arrived
    with pytest.raises(SlackApiError) as caught:
        client.files_completeUploadExternal(files=[{"id": file_id, "title": "Chart"}], channel_id=CHANNEL)
    assert caught.value.response["error"] == "file_not_found"

    # the URL is the credential: a wrong key is refused
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(url[:-1] + "x", data=PNG, method="POST"), timeout=10)
    assert refused.value.code == 404
    with urllib.request.urlopen(urllib.request.Request(url, data=PNG, method="POST"), timeout=10) as answer:
        assert answer.status == 200 and answer.read() == f"OK - {len(PNG)}".encode()

    done = client.files_completeUploadExternal(files=[{"id": file_id, "title": "Chart"}], channel_id=CHANNEL)
    assert done["files"] == [{"id": file_id, "title": "Chart"}]
    # once only
    with pytest.raises(SlackApiError) as caught:
        client.files_completeUploadExternal(files=[{"id": file_id}], channel_id=CHANNEL)
    assert caught.value.response["error"] == "file_not_found"
    assert len(double.messages(CHANNEL)) == 1


def test_a_wrong_token_is_refused(double: SlackDouble) -> None:
    stranger = WebClient(base_url=double.api_url, token="xoxb-not-the-bot", timeout=10)
    with pytest.raises(SlackApiError) as caught:
        stranger.files_upload_v2(channel=CHANNEL, content=PNG, filename="chart.png")
    assert caught.value.response["error"] == "invalid_auth"
    assert not double.workspace.uploads


def test_clearing_the_workspace_forgets_files(double: SlackDouble, client: WebClient) -> None:
    client.files_upload_v2(channel=CHANNEL, content=PNG, filename="chart.png")
    double.workspace.clear()
    assert not double.workspace.uploads and double.messages(CHANNEL) == []
