"""Alert rules kept in DuckDB, evaluated on demand or by a background check, delivered by webhook and e-mail.

Rule kinds (``threshold`` meaning):

- ``total_below``: the unit's total for the current period of ``period_type`` is below ``threshold`` points.
- ``rank_drop``: its rank is ≥ ``threshold`` places worse than in the previous period of the same type.
- ``group_drop``: group ``group_code`` lost ≥ ``threshold`` points against the previous period.
- ``overdue_spike``: open overdue dossiers in the subtree grew by ≥ ``threshold`` since the last evaluation.
- ``stale_data``: no record ingested for ≥ ``threshold`` hours.

A rule fires on the transition from "not met" to "met" (no repeat while the condition holds). Every firing is
written to ``advisor_alert_events`` with its delivery outcome. Delivery: webhook = HTTP POST of the event JSON
(httpx); e-mail = one message through the configured SMTP server (smtplib). The weekly digest is one message
per rule target with the total, rank, change and the top actions of the advisor.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

import duckdb
import httpx

from chiso766.domain.periods import Period, PeriodType, period_containing
from chiso766.errors import InputError
from chiso766.presentation.format import fmt_count, fmt_points
from chiso766.service.scoreboard import Scoreboard

log = logging.getLogger(__name__)

KINDS = ("total_below", "rank_drop", "group_drop", "overdue_spike", "stale_data")
PERIOD_TYPES = {"month": PeriodType.MONTH, "quarter": PeriodType.QUARTER, "year": PeriodType.YEAR}
Scope = Callable[[str], bool]  # whether a unit code is visible to the caller (None: every unit)

DDL = (
    """CREATE TABLE IF NOT EXISTS advisor_alert_rules (
        rule_id      VARCHAR PRIMARY KEY,
        unit_code    VARCHAR NOT NULL,
        kind         VARCHAR NOT NULL,
        threshold    DOUBLE NOT NULL,
        group_code   VARCHAR,
        period_type  VARCHAR NOT NULL DEFAULT 'month',
        webhook_url  VARCHAR,
        email        VARCHAR,
        enabled      BOOLEAN NOT NULL DEFAULT TRUE,
        created_at   TIMESTAMP NOT NULL,
        last_met     BOOLEAN NOT NULL DEFAULT FALSE,
        last_value   DOUBLE
    )""",
    """CREATE TABLE IF NOT EXISTS advisor_alert_events (
        event_id     VARCHAR PRIMARY KEY,
        rule_id      VARCHAR NOT NULL,
        fired_at     TIMESTAMP NOT NULL,
        kind         VARCHAR NOT NULL,
        unit_code    VARCHAR NOT NULL,
        period_id    VARCHAR,
        value        DOUBLE,
        message_vi   VARCHAR NOT NULL,
        message_en   VARCHAR NOT NULL,
        delivery     VARCHAR NOT NULL       -- e.g. "webhook:ok email:ok" / "webhook:error ..."
    )""",
)
RULE_COLUMNS = (
    "rule_id",
    "unit_code",
    "kind",
    "threshold",
    "group_code",
    "period_type",
    "webhook_url",
    "email",
    "enabled",
    "created_at",
    "last_met",
    "last_value",
)


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "chiso766@localhost"


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in DDL:
        con.execute(ddl)


def _bad(field: str, vi: str, en: str) -> InputError:
    return InputError.single("invalid_rule", vi, en, where="rule", field=field)


def add_rule(board: Scoreboard, doc: dict[str, Any]) -> dict[str, Any]:
    """Validate and store a rule; returns it with its ``rule_id``."""
    kind = doc.get("kind")
    if kind not in KINDS:
        raise _bad("kind", f"Loại cảnh báo phải là một trong {', '.join(KINDS)}", f"kind must be one of {KINDS}")
    unit = doc.get("unit")
    if not isinstance(unit, str):
        raise _bad("unit", "Thiếu mã đơn vị", "Missing unit code")
    board.unit(unit)
    threshold = doc.get("threshold")
    if not isinstance(threshold, int | float) or isinstance(threshold, bool) or threshold < 0:
        raise _bad("threshold", "Ngưỡng phải là số không âm", "threshold must be a non-negative number")
    group = doc.get("group")
    if kind == "group_drop" and group not in {g.code for g in board.methodology.groups}:
        raise _bad("group", "Cần mã nhóm hợp lệ (CKMB, TDGQ, …)", "A valid group code is needed (CKMB, TDGQ, …)")
    period_type = doc.get("period_type", "month")
    if period_type not in PERIOD_TYPES:
        raise _bad("period_type", "Loại kỳ: month, quarter hoặc year", "period_type: month, quarter or year")
    webhook, email = doc.get("webhook_url"), doc.get("email")
    if not webhook and not email:
        raise _bad("webhook_url", "Cần ít nhất webhook_url hoặc email", "At least webhook_url or email is needed")
    if webhook and not str(webhook).startswith(("http://", "https://")):
        raise _bad("webhook_url", "webhook_url phải bắt đầu bằng http(s)://", "webhook_url must start with http(s)://")
    if email and "@" not in str(email):
        raise _bad("email", "Địa chỉ email không hợp lệ", "Invalid e-mail address")
    rule_id = uuid.uuid4().hex[:12]
    with board.lock:
        con = board.store.connection
        ensure_tables(con)
        con.execute(
            "INSERT INTO advisor_alert_rules (rule_id, unit_code, kind, threshold, group_code, period_type, "
            "webhook_url, email, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [rule_id, unit, kind, float(threshold), group, period_type, webhook, email, _utcnow()],
        )
    return get_rule(board, rule_id)


def list_rules(board: Scoreboard, unit: str | None = None, *, scope: Scope | None = None) -> list[dict[str, Any]]:
    """The rules (of ``unit`` only, when given), keeping those whose unit ``scope`` accepts."""
    with board.lock:
        con = board.store.connection
        ensure_tables(con)
        sql = f"SELECT {', '.join(RULE_COLUMNS)} FROM advisor_alert_rules"
        rows = (
            con.execute(sql + " WHERE unit_code = ? ORDER BY created_at, rule_id", [unit])
            if unit
            else con.execute(sql + " ORDER BY created_at, rule_id")
        ).fetchall()
    docs = [_rule_doc(r) for r in rows]
    return [d for d in docs if scope is None or scope(d["unit"])]


def get_rule(board: Scoreboard, rule_id: str) -> dict[str, Any]:
    for r in list_rules(board):
        if r["rule_id"] == rule_id:
            return r
    raise InputError.single(
        "not_found", f"Không có quy tắc '{rule_id}'", f"No rule '{rule_id}'", where=rule_id, field="rule_id"
    )


def delete_rule(board: Scoreboard, rule_id: str) -> None:
    get_rule(board, rule_id)
    with board.lock:
        board.store.connection.execute("DELETE FROM advisor_alert_rules WHERE rule_id = ?", [rule_id])


def list_events(board: Scoreboard, limit: int = 100, *, scope: Scope | None = None) -> list[dict[str, Any]]:
    """The latest ``limit`` events (of the units ``scope`` accepts, when given), newest first."""
    with board.lock:
        con = board.store.connection
        ensure_tables(con)
        sql = (
            "SELECT event_id, rule_id, fired_at, kind, unit_code, period_id, value, message_vi, message_en, delivery "
            "FROM advisor_alert_events ORDER BY fired_at DESC, event_id"
        )
        if scope is None:
            rows = con.execute(sql + " LIMIT ?", [limit]).fetchall()
        else:
            rows = [r for r in con.execute(sql).fetchall() if scope(str(r[4]))][:limit]
    keys = ("event_id", "rule_id", "fired_at", "kind", "unit", "period", "value", "message_vi", "message_en")
    return [{**dict(zip(keys, r[:9], strict=True)), "fired_at": r[2].isoformat() + "Z", "delivery": r[9]} for r in rows]


def _rule_doc(r: tuple[Any, ...]) -> dict[str, Any]:
    doc = dict(zip(RULE_COLUMNS, r, strict=True))
    doc["unit"] = doc.pop("unit_code")
    doc["group"] = doc.pop("group_code")
    doc["created_at"] = doc["created_at"].isoformat() + "Z"
    return doc


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _period(board: Scoreboard, period_type: str) -> Period:
    return period_containing(PERIOD_TYPES[period_type], board.now().date())


def _overdue_open(board: Scoreboard, unit: str, period: Period) -> int:
    with board.prepared(period) as engine:
        row = engine.con.execute(
            "SELECT COUNT(*) FROM dossier_facts f JOIN unit_closure c ON c.descendant = f.unit_code "
            "AND c.ancestor = ? WHERE f.period_id = ? AND f.in_proc AND NOT f.finished AND NOT f.on_time",
            [unit, period.id],
        ).fetchone()
    return int(row[0]) if row else 0


def check_rule(board: Scoreboard, rule: dict[str, Any]) -> tuple[bool, float | None, str, str, str | None]:
    """(met, value, message_vi, message_en, period_id) of one rule now."""
    unit, kind, threshold = rule["unit"], rule["kind"], rule["threshold"]
    name = board.unit(unit).name or unit
    if kind == "stale_data":
        latest = board.state().records_through
        if latest is None:
            return True, None, f"{name}: chưa có dữ liệu", f"{name}: no data yet", None
        hours = (board.now() - latest).total_seconds() / 3600
        return (
            hours >= threshold,
            round(hours, 2),
            f"{name}: không có dữ liệu mới trong {fmt_points(Decimal(str(round(hours, 2))))} giờ",
            f"{name}: no new data for {round(hours, 2)} hours",
            None,
        )
    p = _period(board, rule["period_type"])
    result = board.scores(p)
    score = result.scores[unit]
    if kind == "total_below":
        value = float(score.total)
        return (
            value < threshold,
            value,
            f"{name}: tổng điểm {p.label_vi} là {fmt_points(score.total)}, dưới ngưỡng {threshold:g}",
            f"{name}: total for {p.label_en} is {score.total}, below {threshold:g}",
            p.id,
        )
    if kind == "overdue_spike":
        count = _overdue_open(board, unit, p)
        before = rule.get("last_value")
        grew = count - int(before) if before is not None else 0
        return (
            before is not None and grew >= threshold,
            float(count),
            f"{name}: hồ sơ đang mở quá hạn tăng {fmt_count(grew)} (nay {fmt_count(count)})",
            f"{name}: open overdue dossiers up by {grew} (now {count})",
            p.id,
        )
    previous = board.previous(p)
    if previous is None or unit not in previous.scores:
        return False, None, "", "", p.id
    if kind == "rank_drop":
        now_rank, before_rank = result.ranks.get(unit), previous.ranks.get(unit)
        if now_rank is None or before_rank is None:
            return False, None, "", "", p.id
        drop = now_rank - before_rank
        return (
            drop >= threshold,
            float(drop),
            f"{name}: xếp hạng giảm {drop} bậc ({before_rank} → {now_rank}/{result.cohort_sizes.get(unit, 0)})",
            f"{name}: rank down {drop} places ({before_rank} → {now_rank})",
            p.id,
        )
    group = rule["group"]
    drop_points = previous.scores[unit].groups[group].score - score.groups[group].score
    g = board.methodology.group(group)
    return (
        float(drop_points) >= threshold,
        float(drop_points),
        f"{name}: nhóm “{g.name_vi}” giảm {fmt_points(drop_points)} điểm so với kỳ trước",
        f"{name}: group “{g.name_en}” down {drop_points} points on the previous period",
        p.id,
    )


def deliver(rule: dict[str, Any], subject: str, body: str, payload: dict[str, Any], smtp: SmtpSettings | None) -> str:
    """Send to the rule's webhook and e-mail; returns the outcome per channel (never raises)."""
    outcome = []
    if rule.get("webhook_url"):
        try:
            response = httpx.post(rule["webhook_url"], json=payload, timeout=5.0)
            response.raise_for_status()
            outcome.append("webhook:ok")
        except httpx.HTTPError as exc:
            log.warning("alert webhook %s failed: %s", rule["webhook_url"], exc)
            outcome.append(f"webhook:error {type(exc).__name__}")
    if rule.get("email"):
        if smtp is None:
            outcome.append("email:not_configured")
        else:
            try:
                send_email(smtp, rule["email"], subject, body)
                outcome.append("email:ok")
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("alert e-mail to %s failed: %s", rule["email"], exc)
                outcome.append(f"email:error {type(exc).__name__}")
    return " ".join(outcome)


def send_email(smtp: SmtpSettings, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body, charset="utf-8")
    with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
        client.send_message(message)


def evaluate(
    board: Scoreboard, *, smtp: SmtpSettings | None = None, deliver_now: bool = True, scope: Scope | None = None
) -> list[dict[str, Any]]:
    """Check every enabled rule (whose unit ``scope`` accepts, when given); fire (record + deliver) those newly
    met. Returns the fired events."""
    fired: list[dict[str, Any]] = []
    for rule in list_rules(board, scope=scope):
        if not rule["enabled"]:
            continue
        met, value, vi, en, period_id = check_rule(board, rule)
        fire = met and not rule["last_met"]
        delivery = ""
        if fire:
            payload = {
                "rule_id": rule["rule_id"],
                "kind": rule["kind"],
                "unit": rule["unit"],
                "period": period_id,
                "value": value,
                "message_vi": vi,
                "message_en": en,
            }
            subject = f"[chiso766] Cảnh báo: {vi}"
            delivery = deliver(rule, subject, f"{vi}\n\n{en}\n", payload, smtp) if deliver_now else "not_delivered"
            event_id = uuid.uuid4().hex[:12]
            with board.lock:
                board.store.connection.execute(
                    "INSERT INTO advisor_alert_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        event_id,
                        rule["rule_id"],
                        _utcnow(),
                        rule["kind"],
                        rule["unit"],
                        period_id,
                        value,
                        vi,
                        en,
                        delivery,
                    ],
                )
            fired.append({**payload, "event_id": event_id, "delivery": delivery})
        with board.lock:
            board.store.connection.execute(
                "UPDATE advisor_alert_rules SET last_met = ?, last_value = ? WHERE rule_id = ?",
                [met, value, rule["rule_id"]],
            )
    return fired


def digest_text(board: Scoreboard, unit: str, period: Period | str | None = None) -> tuple[str, str]:
    """(subject, body) of the weekly digest of ``unit``: total, rank, change and the advisor's top actions."""
    from chiso766.advisor.advice import advise
    from chiso766.advisor.warnings import early_warnings

    p = period if period is not None else period_containing(PeriodType.MONTH, board.now().date())
    doc = advise(board, unit, p, top=3, records=0)
    warn = early_warnings(board, unit, p, days=5, limit=0)
    lines = [
        f"{doc['unit_name'] or unit} — {doc['period_label']}{' (tạm tính)' if doc['provisional'] else ''}",
        f"Tổng điểm: {fmt_points(Decimal(str(doc['total'])))} / {doc['max_total']}; "
        f"xếp hạng {doc['rank'] or '—'}/{doc['cohort_size']}",
    ]
    previous = board.previous(p)
    if previous is not None and unit in previous.scores:
        change = Decimal(str(doc["total"])) - previous.scores[unit].total
        lines.append(f"Thay đổi so với kỳ trước: {'+' if change >= 0 else ''}{fmt_points(change)} điểm")
    lines.append("")
    lines.append("Việc cần làm trước:")
    lines += [f"  {i}. {s['text_vi']}" for i, s in enumerate(doc["plan"], start=1)] or ["  (không có)"]
    lines.append("")
    lines.append(
        f"Cảnh báo sớm: {warn['due_soon']['text_vi']}; {fmt_count(warn['overdue_open']['count'])} hồ sơ "
        f"đang quá hạn; {fmt_count(warn['petitions_near_limit']['count'])} PAKN sắp hết hạn."
    )
    subject = f"[chiso766] Bản tin tuần: {doc['unit_name'] or unit} {fmt_points(Decimal(str(doc['total'])))} điểm"
    return subject, "\n".join(lines) + "\n"


def send_digests(
    board: Scoreboard, *, smtp: SmtpSettings | None = None, scope: Scope | None = None
) -> list[dict[str, Any]]:
    """The weekly digest, once per distinct (unit, channel) among the enabled rules (in ``scope``, when given)."""
    sent: list[dict[str, Any]] = []
    seen: set[tuple[str, str | None, str | None]] = set()
    for rule in list_rules(board, scope=scope):
        key = (rule["unit"], rule["webhook_url"], rule["email"])
        if not rule["enabled"] or key in seen:
            continue
        seen.add(key)
        subject, body = digest_text(board, rule["unit"])
        outcome = deliver(rule, subject, body, {"kind": "digest", "unit": rule["unit"], "text_vi": body}, smtp)
        sent.append({"unit": rule["unit"], "subject": subject, "delivery": outcome})
    return sent
