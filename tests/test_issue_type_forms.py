"""Forms per issue type, used as people do: an admin gives Bug its fields in /ticket-forms;
a reporter picks Bug in /new-ticket and the form redraws with them; a required one left
empty is refused inline, a number must be one; filled in, the ticket is filed with them,
its card shows them and /system-tickets region:EMEA finds it; changing the form later
leaves old tickets as they were filed."""

from __future__ import annotations

from bot.app import Casedesk
from bot.handlers.message_tickets import SHORTCUT
from slack_double import SlackDouble
from slack_double.blockkit import view_errors
from slack_double.people import Modal, Person
from tests.conftest import GENERAL, REPORTER, SUPPORT, People
from tests.test_ticket_lists import open_list


def add_field(modal: Modal, label: str, kind: str, *, required: bool = False, help_text: str = "", options: str = "") -> None:
    modal.type("New field's label", label).choose("Kind", kind).choose("Required", "Required" if required else "Optional")
    if help_text:
        modal.type("Help text", help_text)
    if options:
        modal.type("Options (selects)", options)
    ack = modal.submit()
    assert ack is not None and ack["response_action"] == "update", ack


def define_bug_form(admin: Person) -> Modal:
    modal = admin.open_modal("/ticket-forms", "Bug")
    assert "Bug has no extra fields" in str(modal.view["blocks"])
    add_field(modal, "Region", "Single select", required=True, help_text="Where the customer is.", options="EMEA\nAPAC\nAmericas")
    add_field(modal, "Seats affected", "Number")
    add_field(modal, "Seen on", "Date")
    add_field(modal, "Browsers", "Multi select", options="Firefox\nChrome\nSafari")
    return modal


def new_bug(reporter: Person) -> Modal:
    modal = reporter.open_modal("/new-ticket")
    modal.choose("Campaign", "Billing").choose("Issue type", "Bug")
    return modal.wait_for_labels(lambda labels: "Region" in labels)


def test_a_type_s_fields_are_asked_checked_filed_shown_and_found(desk: Casedesk, double: SlackDouble, people: People) -> None:
    admin_modal = define_bug_form(people.agent)
    listed = str(admin_modal.view["blocks"])
    assert "`region`" in listed and "`seats_affected`" in listed and "required" in listed

    modal = new_bug(people.reporter)
    assert modal.labels() == [
        "Campaign", "Issue type", "Region", "Seats affected", "Seen on", "Browsers", "Priority", "Details", "Screenshot",
        "Notify (emails)",
    ]
    assert view_errors(modal.view) == []
    [update] = double.workspace.calls_to("views.update")
    assert update.args["hash"]  # redrawn against the view as it was, not over a newer one
    modal.choose("Priority", "🔴 High").type("Details", "Invoices fail to render").type("Seats affected", "many")
    ack = modal.submit()
    assert ack is not None and ack["response_action"] == "errors"
    assert ack["errors"] == {"field:region": "Region is required.", "field:seats_affected": "Seats affected must be a number, such as 42 or 3.5."}
    assert double.messages(SUPPORT) == []

    modal.choose("Region", "EMEA").type("Seats affected", "12").pick_date("Seen on", "2026-11-27")
    modal.choose_many("Browsers", ["Firefox", "Safari"])
    assert modal.submit() is None
    card = double.wait_message(SUPPORT, "TCK-000001")
    shown = str(card.blocks)
    assert "*Region:* EMEA" in shown and "*Seats affected:* 12" in shown and "*Seen on:* 2026-11-27" in shown
    assert "*Browsers:* Firefox, Safari" in shown

    # Another Bug, elsewhere: the filter finds the EMEA one only (any case of the value).
    other = new_bug(people.reporter)
    other.choose("Region", "APAC").choose("Priority", "🔵 Low").type("Details", "Slow export")
    assert other.submit() is None
    double.wait_message(SUPPORT, "TCK-000002")
    found = open_list(people.agent, "/system-tickets", "region:emea")
    text = str(found.view["blocks"])
    assert "TCK-000001" in text and "TCK-000002" not in text
    both = open_list(people.agent, "/system-tickets", "browsers:Safari seats_affected:12")
    assert "TCK-000001" in str(both.view["blocks"])
    people.agent.run("/system-tickets", "colour:red")
    people.agent.wait_ephemeral("No issue type has a field `colour`")


def test_a_type_without_fields_costs_no_redraw_and_another_type_drops_them(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    define_bug_form(people.agent)
    modal = people.reporter.open_modal("/new-ticket")
    modal.choose("Issue type", "Question")
    modal.choose("Issue type", "Bug").wait_for_labels(lambda labels: "Region" in labels)
    modal.choose("Issue type", "Question").wait_for_labels(lambda labels: "Region" not in labels)
    assert len(double.workspace.calls_to("views.update")) == 2  # Question at first drew nothing new
    modal.choose("Campaign", "Billing").choose("Priority", "🔵 Low").type("Details", "How do refunds work?")
    assert modal.submit() is None
    card = double.wait_message(SUPPORT, "TCK-000001")
    assert "Region" not in str(card.blocks)


def test_a_form_changed_while_open_is_redrawn_on_submit_and_old_tickets_keep_their_values(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    define_bug_form(people.agent)
    modal = new_bug(people.reporter)
    modal.choose("Region", "EMEA").choose("Priority", "🔵 Low").type("Details", "Login loop")
    assert modal.submit() is None
    double.wait_message(SUPPORT, "TCK-000001")

    # The admin renames Region (removes it, adds Customer region) while a form is open.
    opened = new_bug(people.reporter)
    admin = people.agent.open_modal("/ticket-forms", "Bug")
    admin.select("✕ Remove: Region")
    assert "Removed Region" in str(admin.view["blocks"])
    add_field(admin, "Customer region", "Short text", required=True)
    opened.choose("Region", "APAC").choose("Priority", "🔵 Low").type("Details", "Another login loop")
    ack = opened.submit()
    assert ack is not None and ack["response_action"] == "update"  # the form as it is now
    assert "Customer region" in opened.labels() and "Region" not in opened.labels()
    assert opened.submit() is not None and opened.errors == {"field:customer_region": "Customer region is required."}
    opened.type("Customer region", "Nordics")
    assert opened.submit() is None
    double.wait_message(SUPPORT, "TCK-000002")

    # The old ticket still reads as filed, its card redrawn after the change too.
    first = double.wait_message(SUPPORT, "TCK-000001")
    desk.deps.tickets.assign_to_self(1, people.agent.id)

    def card_now() -> str:
        return str(getattr(double.workspace.find_message(SUPPORT, first.ts), "blocks", ""))

    double.wait_for(lambda: "In Progress" in card_now(), what="the card redrawn")
    assert "*Region:* EMEA" in card_now()
    assert "*Customer region:* Nordics" in str(double.wait_message(SUPPORT, "TCK-000002").blocks)
    assert "TCK-000001" in str(open_list(people.agent, "/system-tickets", "region:EMEA").view["blocks"])


def test_only_admins_change_forms_and_a_bad_field_is_refused_inline(desk: Casedesk, double: SlackDouble, people: People) -> None:
    people.reporter.run("/ticket-forms")
    people.reporter.wait_ephemeral("Only desk admins")
    modal = people.agent.open_modal("/ticket-forms", "Bug")
    modal.type("New field's label", "Region").choose("Kind", "Single select")
    ack = modal.submit()
    assert ack is not None and ack["errors"] == {"options.0": "A select needs its options, one a line."}
    modal.type("Options (selects)", "x" * 76)
    ack = modal.submit()
    assert ack is not None and "at most 75 characters" in ack["errors"]["options.0"]
    modal.type("Options (selects)", "EMEA")
    assert modal.submit() is not None and modal.last_ack and modal.last_ack["response_action"] == "update"
    modal.type("New field's label", "region").choose("Kind", "Short text")
    ack = modal.submit()
    assert ack is not None and ack["errors"] == {"label.1": "Bug has a field named region already."}
    assert [f.key for f in desk.deps.forms.fields_for("Bug")] == ["region"]


def test_the_message_shortcut_s_form_asks_the_type_s_fields_too(desk: Casedesk, double: SlackDouble, people: People) -> None:
    define_bug_form(people.agent)
    asked = people.reporter.say(GENERAL, "Checkout breaks for Swedish cards.")
    env = people.agent.shortcut(asked, SHORTCUT)
    modal = people.agent.modal_from(env.payload["trigger_id"])
    modal.choose("Campaign", "Website").choose("Issue type", "Bug").wait_for_labels(lambda labels: "Region" in labels)
    assert f"<@{REPORTER}>" in str(modal.view["blocks"][0])  # still the shortcut's form, its context kept
    modal.choose("Region", "EMEA")
    assert modal.submit() is None
    card = double.wait_message(SUPPORT, "TCK-000001")
    assert "*Region:* EMEA" in str(card.blocks)
    assert desk.deps.tickets.get(1).reporter_id == REPORTER


def test_an_admin_reorders_fields_and_the_form_follows(desk: Casedesk, double: SlackDouble, people: People) -> None:
    admin = define_bug_form(people.agent)
    admin.select("↑ Move up: Browsers")
    admin.select("↓ Move down: Region")
    assert [f.label for f in desk.deps.forms.fields_for("Bug")] == ["Seats affected", "Region", "Browsers", "Seen on"]
    modal = people.reporter.open_modal("/new-ticket")
    modal.choose("Issue type", "Bug").wait_for_labels(lambda labels: "Region" in labels)
    assert modal.labels()[2:6] == ["Seats affected", "Region", "Browsers", "Seen on"]
    kinds = [(e.kind, e.actor_id) for e in desk.deps.directory.events()]  # the desk's audit trail has each change
    assert kinds.count(("form_field_added", people.agent.id)) == 4 and kinds.count(("form_field_moved", people.agent.id)) == 2


def test_text_and_user_fields_are_stored_as_written_and_escaped_once_on_the_card(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    admin = people.agent.open_modal("/ticket-forms", "Question")
    add_field(admin, "Order <ref>", "Short text", required=True)
    add_field(admin, "What you tried", "Long text")
    add_field(admin, "Account owner", "User")
    modal = people.reporter.open_modal("/new-ticket")
    modal.choose("Issue type", "Question").wait_for_labels(lambda labels: "Account owner" in labels)
    modal.choose("Campaign", "Billing").choose("Priority", "🔵 Low").type("Details", "Where is my refund?")
    modal.type("Order <ref>", "<!channel> A&B").type("What you tried", "Asked *twice*\nthen waited").pick_user("Account owner", people.agent2.id)
    assert modal.submit() is None
    card = str(double.wait_message(SUPPORT, "TCK-000001").blocks)
    assert "*Order &lt;ref&gt;:* &lt;!channel&gt; A&amp;B" in card and "<!channel>" not in card
    assert f"*Account owner:* <@{people.agent2.id}>" in card
    [order, tried, owner] = desk.deps.tickets.get(1).fields
    assert (order.key, order.texts) == ("order_ref", ("<!channel> A&B",))  # stored as written
    assert tried.texts == ("Asked *twice*\nthen waited",) and owner.texts == (people.agent2.id,)
