"""Reading mail: which mail is automatic (loop prevention), and the subject and body rules."""

from __future__ import annotations

import pytest

from bot.mail.compose import reply_subject
from bot.mail.html_text import html_to_text
from bot.mail.parse import parse_mail
from tests.mail_samples import mail, raw

OWN = frozenset({"support@example.com"})


def parsed(data: bytes):  # type: ignore[no-untyped-def]
    return parse_mail(data, OWN, 10 << 20)


@pytest.mark.parametrize(
    ("headers", "sender"),
    [
        ({"Auto-Submitted": "auto-replied"}, "carol@customer.test"),
        ({"Auto-Submitted": "auto-generated; type=vacation"}, "carol@customer.test"),
        ({"X-Autoreply": "yes"}, "carol@customer.test"),
        ({"X-Autorespond": "Out of office"}, "carol@customer.test"),
        ({"X-Auto-Response-Suppress": "All"}, "carol@customer.test"),
        ({"Precedence": "bulk"}, "carol@customer.test"),
        ({"Precedence": "junk"}, "carol@customer.test"),
        ({"Precedence": "list"}, "carol@customer.test"),
        ({"X-Precedence": "bulk"}, "carol@customer.test"),
        ({"List-Id": "<news.lists.test>"}, "carol@customer.test"),
        ({"List-Unsubscribe": "<mailto:leave@lists.test>"}, "carol@customer.test"),
        ({"X-Loop": "support@example.com"}, "carol@customer.test"),
        ({"Return-Path": "<>"}, "carol@customer.test"),
        ({"X-Failed-Recipients": "nobody@customer.test"}, "carol@customer.test"),
        ({}, "MAILER-DAEMON@mx.customer.test"),
        ({}, "postmaster@customer.test"),
        ({}, "Support <Support@Example.com>"),
    ],
)
def test_automatic_mail_is_recognised(headers: dict[str, str], sender: str) -> None:
    assert parsed(mail(sender=sender, headers=headers)).automatic


@pytest.mark.parametrize(
    "headers",
    [{}, {"Auto-Submitted": "no"}, {"Precedence": "first-class"}, {"X-Loop": "helpdesk@other.test"}, {"Return-Path": "<carol@customer.test>"}],
)
def test_a_person_writing_is_not_automatic(headers: dict[str, str]) -> None:
    assert parsed(mail(headers=headers)).automatic is None


def test_a_delivery_report_is_automatic_whoever_sends_it() -> None:
    report = raw("""
From: carol@customer.test
Subject: Read: Printer
Message-ID: <mdn@customer.test>
Content-Type: multipart/report; report-type=disposition-notification; boundary="r"

--r
Content-Type: text/plain

Your message was read.
--r--
""")
    assert parsed(report).automatic == "a delivery or read report (multipart/report)"


def test_answers_are_in_reply_to_first_then_references_newest_first() -> None:
    m = parsed(mail(in_reply_to="<c@x>", references="<a@x> <b@x> <c@x>"))
    assert m.answers == ("<c@x>", "<b@x>", "<a@x>")


def test_8bit_headers_and_broken_boundaries_are_read_and_named() -> None:
    data = (
        b"From: J\xc3\xbcrgen <j@customer.test>\r\nSubject: Gr\xc3\xbc\xc3\x9fe\r\nMessage-ID: <8bit@x>\r\n"
        b'Content-Type: multipart/mixed; boundary="never"\r\n\r\nno boundary here\r\n'
    )
    m = parsed(data)
    assert (m.sender_name, m.subject) == ("Jürgen", "Grüße")
    assert any(p.startswith("broken MIME") for p in m.problems)


def test_nul_bytes_and_charset_names_cannot_reach_slack_or_the_database() -> None:
    data = raw('From: a@customer.test\nSubject: x\nMessage-ID: <nul@x>\nContent-Type: text/plain; charset="<!channel>"\n\nhello')
    m = parsed(data.replace(b"hello", b"hel\x00lo"))
    assert m.text == "hello"
    assert all("<" not in p for p in m.problems)


def test_reply_subjects_carry_one_re_and_one_token() -> None:
    assert reply_subject("TCK-000007", "RE: AW: Printer [TCK-000007]", "k3y") == "Re: Printer [TCK-000007-k3y]"
    assert reply_subject("TCK-000007", "Re: Printer [tck-000007-old] [TCK-000001]", "k3y") == "Re: Printer [TCK-000001] [TCK-000007-k3y]"
    assert reply_subject("TCK-000007", "") == "Re: Your request [TCK-000007]"


def test_html_to_text_drops_scripts_and_keeps_links() -> None:
    html = "<script>alert(1)</script><p>Hi&nbsp;there</p><br><a href='https://x.test/a'>here</a>"
    assert html_to_text(html) == "Hi there\n\nhere (https://x.test/a)"


@pytest.mark.parametrize(
    ("from_line", "sender", "problem"),
    [
        ("Carol <Carol@Customer.test>", "carol@customer.test", None),
        ("Doe, John <j@customer.test>", "j@customer.test", None),  # an unquoted comma in the name
        ("田中 <田中@例え.test>", "田中@例え.test", None),  # an internationalised address
        ("x\x0by@evil.test", "", "the sender address is malformed"),
        ("a@x.test, b@y.test", "", "more than one sender address"),
        ('"a b"@x.test', "", "the sender address is malformed"),
        ("a@[127.0.0.1]", "", "the sender address is malformed"),
        ("a..b@x.test", "", "the sender address is malformed"),
        ("a@localhost", "", "the sender address is malformed"),
        ("(" * 1500, "", "the sender address is malformed"),
        ("a" * 2100 + "@x.test", "", "the From: line is too long to be one address"),
    ],
)
def test_the_sender_must_be_one_plain_address(from_line: str, sender: str, problem: str | None) -> None:
    m = parsed(f"From: {from_line}\r\nSubject: x\r\nMessage-ID: <s@x>\r\n\r\nhi".encode())
    assert (m.sender, m.sender_problem) == (sender, problem)


def test_two_from_lines_leave_no_sender() -> None:
    m = parsed(b"From: a@x.test\r\nFrom: b@y.test\r\nSubject: x\r\n\r\nhi")
    assert (m.sender, m.sender_problem) == ("", "more than one From: line")


def test_control_characters_in_names_and_subjects_become_spaces() -> None:
    m = parsed(mail("Pay \x1b[31mnow\u202e", sender="Eve\x1b\x07\u202eSmith <eve@customer.test>"))
    assert m.subject == "Pay [31mnow"
    assert m.sender_name == "Eve Smith"
