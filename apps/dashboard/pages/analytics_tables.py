"""Core's analytics answers as the tables the Statistics pages show, chart and export: one builder per answer, so a
page's table, the chart drawn from it (static/dashboard/js/analytics_charts.js reads the table itself) and its CSV
download hold the same figures. A cell keeps core's value (what the CSV holds) and the text the page shows."""

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DASH = "—"
# A spreadsheet runs a cell starting with one of these as a formula (as core's audit export guards).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Cell:
    value: object
    text: str | None = None
    href: str | None = None
    time: bool = False  # an ISO instant: the page shows it as a <time> in the viewer's zone
    key: str | None = None  # a figures table's row header: the figure's name in core's answer

    @property
    def shown(self) -> str:
        if self.text is not None:
            return self.text
        return DASH if self.value is None else str(self.value)


@dataclass
class Table:
    name: str
    caption: str
    columns: list[str]
    rows: list[list[Cell]]
    empty: str = "No data in this period."
    # How the page charts it: {"kind": "line" | "columns" | "bars" | "heatmap", "columns": [indices], "label": ...}
    chart: dict | None = None
    numeric: set[int] = field(default_factory=set)
    keys: list[str] = field(default_factory=list)  # a figures table's: each row's figure name (data-stat)
    csv_url: str = ""


def _number(value) -> Cell:
    if isinstance(value, float):
        return Cell(value, f"{value:,.2f}")
    return Cell(value, f"{value:,}" if isinstance(value, int) else None)


def _rate(value) -> Cell:
    return Cell(value, DASH if value is None else f"{value * 100:.1f} %")


def _duration(seconds) -> Cell:
    if seconds is None:
        return Cell(None)
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    text = f"{hours} h {minutes} min" if hours else f"{minutes} min {rest} s" if minutes else f"{rest} s"
    return Cell(seconds, text)


def _person(ref: dict, href: str | None = None) -> Cell:
    return Cell(ref.get("display_name") or ref.get("username") or ref["user_id"], href=href)


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


def _table(name, caption, columns, rows, *, chart=None, empty=None) -> Table:
    table = Table(name, caption, columns, rows, chart=chart)
    if empty:
        table.empty = empty
    table.numeric = {index for index in range(1, len(columns))
                     if rows and all(isinstance(row[index].value, int | float | type(None)) for row in rows)}
    return table


def _counts(name, caption, heading, counts: dict, *, label=_label, chart_label="Actions") -> Table:
    rows = [[Cell(key, label(key)), _number(count)] for key, count in sorted(counts.items(), key=lambda kv: -kv[1])]
    return _table(name, caption, [heading, chart_label], rows, chart={"kind": "bars", "columns": [1]},
                  empty="None in this period.")


def _zone(name: str):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _bucket_label(point: dict, bucket: str, zone) -> str:
    if bucket == "day":
        return point["day"]
    moment = datetime.fromisoformat(point["start"].replace("Z", "+00:00")).astimezone(zone)
    return moment.strftime("%Y-%m-%d %H:%M")


# -- a group


def group_tables(figures: dict, *, member_url) -> dict[str, Table]:
    """`member_url(user_id)`: the member's statistics page."""
    totals, activity, moderation = figures["totals"], figures["activity"], figures["moderation"]
    zone, bucket = _zone(figures["timezone"]), figures["bucket"]
    summary = [
        ("messages", "Messages", _number(totals["messages"])),
        ("active_members", "Active members", _number(totals["active_members"])),
        ("dau", "Daily active members (mean)", _number(activity["dau"])),
        ("wau", "Weekly active members", _number(activity["wau"])),
        ("mau", "Monthly active members", _number(activity["mau"])),
        ("stickiness", "Stickiness (DAU/MAU over 30 days)", _rate(activity["stickiness"])),
        ("joins", "Joins", _number(totals["joins"])),
        ("leaves", "Leaves", _number(totals["leaves"])),
        ("net_growth", "Net growth", _number(totals["net_growth"])),
        ("messages_per_active_member", "Messages per active member", _number(totals["messages_per_active_member"])),
        ("commands", "Commands", _number(totals["commands"])),
        ("member_count_start", "Members on the eve of the period", _number(totals["member_count_start"])),
        ("member_count_end", "Members at the end", _number(totals["member_count_end"])),
    ]
    hour = bucket == "hour"
    series_columns = ["Hour (group's clock)" if hour else "Day", "Messages", "Commands", "Joins", "Leaves"]
    series_rows = [[Cell(_bucket_label(point, bucket, zone)), *(_number(point[key]) for key in
                                                                  ("messages", "commands", "joins", "leaves"))]
                   for point in figures["series"]]
    for row, point in zip(series_rows, figures["series"], strict=True):
        # Day points carry their active members; an hour's local label repeats when DST turns the clock back, so
        # hour points carry their UTC instant too.
        row.append(Cell(point["start"], time=True) if hour else _number(point["active_members"]))
    series_columns.append("Starts at" if hour else "Active members")
    heatmap = [[Cell(day)] + [_number(count) for count in counts]
               for day, counts in zip(WEEKDAYS, figures["heatmap"], strict=False)]
    tables = [
        _figures_table("summary", "Headline figures", summary),
        _table("series", f"Activity per {'hour' if hour else 'day'} ({figures['timezone']})", series_columns,
               series_rows, chart={"kind": "line", "columns": [1, 3, 4] + ([5] if not hour else [])}),
        _table("member_count", "Member count per day", ["Day", "Members"],
               [[Cell(point["day"]), _number(point["member_count"])] for point in figures["member_count"]],
               chart={"kind": "line", "columns": [1]}),
        _table("heatmap", f"Messages by weekday and hour ({figures['timezone']})",
               ["Weekday", *(f"{hour_of_day:02d}" for hour_of_day in range(24))], heatmap,
               chart={"kind": "heatmap"}),
        _table("top_members", "Top members by messages", ["Member", "Username", "Messages", "Share of messages"],
               [[_person(member, member_url(member["user_id"])), Cell(member["username"]),
                 _number(member["messages"]), _rate(member["share"])] for member in figures["top_members"]],
               chart={"kind": "bars", "columns": [2]}, empty="Nobody sent a message in this period."),
        _table("cohorts", "New members by join week: activation and retention",
               ["Week of", "Joined", "Activated", "Activation rate", "Eligible (7 days)", "Retained (7 days)",
                "Retention (7 days)", "Eligible (30 days)", "Retained (30 days)", "Retention (30 days)"],
               [[Cell(cohort["week_start"]), _number(cohort["joined"]), _number(cohort["activated"]),
                 _rate(cohort["activation_rate"]), _number(cohort["eligible_7d"]), _number(cohort["retained_7d"]),
                 _rate(cohort["retention_7d"]), _number(cohort["eligible_30d"]), _number(cohort["retained_30d"]),
                 _rate(cohort["retention_30d"])] for cohort in figures["cohorts"]],
               chart={"kind": "columns", "columns": [3, 6, 9]}, empty="Nobody joined in this period."),
        _figures_table("moderation", "Moderation", [
            ("actions", "Actions", _number(moderation["actions"])),
            ("automated", "Automated", _number(moderation["automated"])),
            ("manual", "Manual", _number(moderation["manual"])),
            ("reports", "Reports by members", _number(moderation["reports"])),
            ("reports_actioned", "Reports acted on", _number(moderation["reports_actioned"])),
            ("median_report_to_action_seconds", "Median time from a report to an action",
             _duration(moderation["median_report_to_action_seconds"])),
        ]),
        _counts("moderation_automated", "Automated versus manual actions", "Kind",
                {"automated": moderation["automated"], "manual": moderation["manual"]}),
        _counts("moderation_types", "Actions by type", "Type", moderation["by_type"]),
        _table("moderation_moderators", "Manual actions by moderator", ["Moderator", "Username", "Actions"],
               [[_person(moderator), Cell(moderator["username"]), _number(moderator["actions"])]
                for moderator in moderation["by_moderator"]],
               chart={"kind": "bars", "columns": [2]}, empty="No manual action in this period."),
        _counts("moderation_rules", "Automated actions by protection rule", "Rule", moderation["by_rule"],
                label=str),
    ]
    return {table.name: table for table in tables}


def _figures_table(name: str, caption: str, figures: list[tuple[str, str, Cell]]) -> Table:
    table = _table(name, caption, ["Figure", "Value"], [[Cell(label, key=key), cell] for key, label, cell in figures])
    table.keys = [key for key, _, _ in figures]
    return table


# -- a member


def member_tables(figures: dict, *, group_url) -> dict[str, Table]:
    """`group_url(group_id)`: the member's statistics page in that group."""
    lifetime, period, warnings = figures["lifetime"], figures["period"], figures["warnings"]
    summary = [
        ("first_seen", "First seen", Cell(figures["first_seen"], time=True)),
        ("last_seen", "Last seen", Cell(figures["last_seen"], time=True)),
        ("joined_at", "First joined", Cell(figures["joined_at"], time=True)),
        ("messages", "Messages in the period", _number(period["messages"])),
        ("commands", "Commands in the period", _number(period["commands"])),
        ("active_days", "Active days in the period", _number(period["active_days"])),
        ("lifetime_messages", "Messages, all time", _number(lifetime["messages"])),
        ("lifetime_joins", "Joins, all time", _number(lifetime["joins"])),
        ("lifetime_leaves", "Leaves, all time", _number(lifetime["leaves"])),
        ("warnings_total", "Warnings", _number(warnings["total"])),
        ("warnings_active", "Warnings still active", _number(warnings["active"])),
        ("reports_received", "Reports about them", _number(figures["reports_received"])),
    ]
    tables = [
        _figures_table("summary", "Member figures", summary),
        _table("series", f"Messages per day ({figures['timezone']})", ["Day", "Messages", "Commands"],
               [[Cell(point["day"]), _number(point["messages"]), _number(point["commands"])]
                for point in figures["series"]], chart={"kind": "line", "columns": [1, 2]}),
        _counts("actions_received", "Moderation actions received", "Type", figures["actions_received"]),
        _table("groups_in_common", "Their other groups (where you may see statistics)",
               ["Group", "Status", "Messages (all time)", "Last seen"],
               [[Cell(group["title"] or group["group_id"], href=group_url(group["group_id"])),
                 Cell(group["status"], _label(group["status"]) if group["status"] else DASH),
                 _number(group["messages"]), Cell(group["last_seen"], time=True)]
                for group in figures.get("groups_in_common", [])], empty="None you may see."),
    ]
    return {table.name: table for table in tables}


# -- the platform


def platform_tables(figures: dict, *, group_url) -> dict[str, Table]:
    totals = figures["totals"]
    summary = [(key, label, _number(totals[key])) for key, label in (
        ("messages", "Messages"), ("daily_active_members", "Daily active members (mean, summed over groups)"),
        ("joins", "Joins"), ("leaves", "Leaves"), ("net_growth", "Net growth"), ("commands", "Commands"),
        ("groups", "Groups"), ("active_groups", "Active groups"), ("groups_with_activity", "Groups with activity"),
        ("members", "Members of the active groups"), ("moderation_actions", "Moderation actions"),
        ("automated_actions", "Automated actions"), ("manual_actions", "Manual actions"),
        ("reports", "Reports by members"))]
    columns = ["Group", "Messages", "Commands", "Joins", "Leaves", "Net growth", "Daily active members"]

    def ranked(groups):
        return [[Cell(group["title"] or group["group_id"], href=group_url(group["group_id"])),
                 *(_number(group[key]) for key in ("messages", "commands", "joins", "leaves", "net_growth",
                                                     "daily_active_members"))] for group in groups]

    tables = [
        _figures_table("summary", "Platform figures", summary),
        _table("by_activity", "Groups ranked by messages", columns, ranked(figures["by_activity"]),
               chart={"kind": "bars", "columns": [1]}, empty="No group had activity in this period."),
        _table("by_growth", "Groups ranked by net growth", columns, ranked(figures["by_growth"]),
               chart={"kind": "bars", "columns": [5]}, empty="No group had activity in this period."),
    ]
    return {table.name: table for table in tables}


# -- export


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    return str(value)


def table_csv(table: Table) -> str:
    """The table with core's values (not the page's formatting), a header row first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_csv_cell(cell.value) for cell in row])
    return out.getvalue()
