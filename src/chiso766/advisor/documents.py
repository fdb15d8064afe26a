"""Documents from the same numbers: the one-page leader brief (data for the A4 print page, and .docx) and the
draft monthly notice "Thông báo kết quả Bộ chỉ số 766 tháng …" (.docx, python-docx).

The notice follows the administrative layout (Nghị định 30/2020/NĐ-CP): a two-column state header (issuing body
"ỦY BAN NHÂN DÂN TỈNH …" / "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM — Độc lập - Tự do - Hạnh phúc", number and place,
date line), the title, body paragraphs, a table with numbered columns ((1), (2), …), recipients ("Nơi nhận") and
a signature block. Times New Roman 13 pt (tables 11 pt), vi-VN numbers (89,37) and "—" for null. Fields the
system cannot know (number, signer) are left as dotted placeholders for the office to fill.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from chiso766.advisor.advice import advise
from chiso766.advisor.warnings import early_warnings
from chiso766.domain.periods import Period, PeriodType, parse_period
from chiso766.errors import InputError
from chiso766.presentation.format import fmt_date, fmt_points
from chiso766.scoring.core import json_number
from chiso766.service.scoreboard import Scoreboard

FONT = "Times New Roman"


def brief_data(board: Scoreboard, unit_code: str, period: Period | str) -> dict[str, Any]:
    """Everything on the leader brief: total, rank, six groups vs the national average and the previous period,
    what moved, the top actions (exact gains) and the warnings."""
    p = parse_period(period) if isinstance(period, str) else period
    advice = advise(board, unit_code, p, top=3, records=0)
    result = board.scores(p)
    previous = board.previous(p)
    score = result.scores[unit_code]
    before = previous.scores.get(unit_code) if previous is not None else None
    groups = []
    for g in board.methodology.groups:
        now = score.groups[g.code].score
        groups.append(
            {
                "code": g.code,
                "number": g.number,
                "name_vi": g.name_vi,
                "name_en": g.name_en,
                "score": now,
                "max_score": g.max_points,
                "national": result.national.groups.get(g.code) if result.national is not None else None,
                "previous": before.groups[g.code].score if before is not None else None,
                "change": now - before.groups[g.code].score if before is not None else None,
            }
        )
    warn = early_warnings(board, unit_code, p if p.is_provisional(board.now()) else None, days=3, limit=0)
    return {
        "unit": unit_code,
        "unit_name": result.units[unit_code].name or unit_code,
        "period": p,
        "provisional": result.provisional,
        "total": score.total,
        "max_total": score.max_total,
        "rank": result.ranks.get(unit_code),
        "cohort_size": result.cohort_sizes.get(unit_code, 0),
        "national_total": result.national.total if result.national is not None else None,
        "previous_total": before.total if before is not None else None,
        "previous_rank": previous.ranks.get(unit_code) if previous is not None else None,
        "change": score.total - before.total if before is not None else None,
        "groups": groups,
        "plan": advice["plan"],
        "plan_total": advice["plan_total"],
        "plan_rank": advice["plan_rank"],
        "warnings": warn,
        "methodology": board.methodology.version,
        "generated_at": board.now(),
    }


def _font(paragraph: Paragraph, size: float = 13, bold: bool = False, italic: bool = False) -> None:
    for run in paragraph.runs:
        run.font.name = FONT
        run.font.size = Pt(size)
        run.font.bold = bold or run.font.bold
        run.font.italic = italic or run.font.italic
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)


def _para(
    doc: Any, text: str, *, size: float = 13, bold: bool = False, italic: bool = False, align: Any = None
) -> Paragraph:
    para: Paragraph = doc.add_paragraph(text)
    if align is not None:
        para.alignment = align
    _font(para, size, bold, italic)
    return para


def _cell(
    table: Table,
    row: int,
    col: int,
    text: str,
    *,
    size: float = 11,
    bold: bool = False,
    align: Any = WD_ALIGN_PARAGRAPH.CENTER,
    italic: bool = False,
) -> None:
    cell = table.cell(row, col)
    cell.text = text
    for para in cell.paragraphs:
        para.alignment = align
        _font(para, size, bold, italic)


def _new_document() -> Any:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(13)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    return doc


def _state_header(doc: Any, issuer: str, office: str, number: str, place_date: str) -> None:
    header = doc.add_table(rows=4, cols=2)
    header.alignment = WD_TABLE_ALIGNMENT.CENTER
    _cell(header, 0, 0, issuer.upper(), size=13)
    _cell(header, 0, 1, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=13, bold=True)
    _cell(header, 1, 0, office.upper(), size=13, bold=True)
    _cell(header, 1, 1, "Độc lập - Tự do - Hạnh phúc", size=14, bold=True)
    _cell(header, 2, 0, "_______", size=13)
    _cell(header, 2, 1, "_______________________", size=13)
    _cell(header, 3, 0, number, size=13)
    _cell(header, 3, 1, place_date, size=14, italic=True)


def notice_docx(board: Scoreboard, root_code: str, period: Period | str) -> bytes:
    """The draft monthly notice of a province (root unit) for a calendar month, as .docx bytes."""
    p = parse_period(period) if isinstance(period, str) else period
    if p.type is not PeriodType.MONTH:
        raise InputError.single(
            "invalid_period",
            "Thông báo tháng cần kỳ là một tháng (vd 2026-03)",
            "The monthly notice needs a month period (e.g. 2026-03)",
            where=p.id,
            field="period",
        )
    root = board.unit(root_code)
    if not root.is_root:
        raise InputError.single(
            "invalid_unit",
            f"{root_code} không phải đơn vị cấp tỉnh",
            f"{root_code} is not a province (root) unit",
            where=root_code,
            field="unit",
        )
    result = board.scores(p)
    previous = board.previous(p)
    province = result.scores[root_code]
    name = root.name or root_code
    province_word = name.removeprefix("Tỉnh ").removeprefix("Thành phố ")
    now = board.now()
    doc = _new_document()
    _state_header(
        doc,
        f"ỦY BAN NHÂN DÂN {name.upper() if name.upper().startswith(('TỈNH', 'THÀNH PHỐ')) else 'TỈNH ' + name.upper()}",
        "VĂN PHÒNG",
        "Số:      /TB-VP",
        f"{province_word}, ngày {now.day:02d} tháng {now.month:02d} năm {now.year}",
    )
    _para(doc, "")
    _para(doc, "THÔNG BÁO", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(
        doc,
        f"Kết quả Bộ chỉ số chỉ đạo, điều hành và đánh giá chất lượng phục vụ người dân, doanh nghiệp "
        f"(Bộ chỉ số 766) tháng {p.start.month}/{p.start.year}",
        size=14,
        bold=True,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    _para(doc, "_____________", align=WD_ALIGN_PARAGRAPH.CENTER)
    rank = result.ranks.get(root_code)
    change_text = ""
    if previous is not None and root_code in previous.scores:
        delta = province.total - previous.scores[root_code].total
        change_text = f" ({'tăng' if delta >= 0 else 'giảm'} {fmt_points(abs(delta))} điểm so với tháng trước)"
    national = result.national.total if result.national is not None else None
    status = " (số liệu tạm tính)" if result.provisional else ""
    _para(
        doc,
        f"Căn cứ Quyết định số 766/QĐ-TTg ngày 23/6/2022 của Thủ tướng Chính phủ; căn cứ số liệu đồng bộ từ Hệ "
        f"thống thông tin giải quyết TTHC của tỉnh đến ngày {fmt_date(now)}{status}, kết quả Bộ chỉ số 766 tháng "
        f"{p.start.month}/{p.start.year} của {name} đạt {fmt_points(province.total)}/100 điểm{change_text}, "
        f"xếp hạng {rank or '—'}/{result.cohort_sizes.get(root_code, 0)} tỉnh, thành phố; điểm trung bình cả nước "
        f"{fmt_points(national)} điểm. Kết quả của các cơ quan, đơn vị như sau:",
        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
    )
    groups = board.methodology.groups
    headers = [
        "TT",
        "Cơ quan, đơn vị",
        *[f"{g.name_vi} ({fmt_points(g.max_points).removesuffix(',00')})" for g in groups],
        "Tổng điểm",
        "Xếp hạng",
    ]
    for cohort, title in (("provincial_department", "I. Các sở, ban, ngành"), ("commune", "II. UBND các xã, phường")):
        members = [c for c, u in result.units.items() if u.root_code == root_code and u.level == cohort]
        if not members:
            continue
        ranks = {c: result.ranks.get(c) for c in members}
        members.sort(key=lambda c: (ranks[c] if ranks[c] is not None else 10**9, c))
        _para(doc, title, bold=True)
        table = doc.add_table(rows=2 + len(members), cols=len(headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for i, h in enumerate(headers):
            _cell(table, 0, i, h, size=10, bold=True)
            _cell(table, 1, i, f"({i + 1})", size=10, italic=True)
        for r, code in enumerate(members, start=2):
            s = result.scores[code]
            values = [
                str(r - 1),
                result.units[code].name or code,
                *[fmt_points(s.groups[g.code].score) for g in groups],
                fmt_points(s.total),
                str(ranks[code]) if ranks[code] is not None else "—",
            ]
            for i, v in enumerate(values):
                _cell(table, r, i, v, size=10, align=WD_ALIGN_PARAGRAPH.LEFT if i == 1 else WD_ALIGN_PARAGRAPH.CENTER)
    advice = advise(board, root_code, p, top=3, records=0)
    _para(doc, "")
    _para(
        doc,
        "Đề nghị các cơ quan, đơn vị tập trung khắc phục các chỉ số còn thấp, trước hết:",
        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
    )
    for i, step in enumerate(advice["plan"], start=1):
        ind = board.methodology.indicator(step["indicator"])
        _para(doc, f"{i}. Chỉ tiêu {ind.number} “{ind.name_vi}”: {step['text_vi']}.", align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _para(doc, "Văn phòng thông báo để các cơ quan, đơn vị biết, thực hiện./.", align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    sign = doc.add_table(rows=3, cols=2)
    _cell(sign, 0, 0, "Nơi nhận:", size=12, bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT)
    _cell(sign, 1, 0, "- Như trên;\n- Lưu: VT.", size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    _cell(sign, 0, 1, "CHÁNH VĂN PHÒNG", size=13, bold=True)
    _cell(sign, 2, 1, "……………………", size=13)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def brief_docx(board: Scoreboard, unit_code: str, period: Period | str) -> bytes:
    """The leader brief as a one-page A4 .docx (same numbers as the print page)."""
    data = brief_data(board, unit_code, period)
    doc = _new_document()
    p: Period = data["period"]
    _para(doc, "BẢN TIN LÃNH ĐẠO — BỘ CHỈ SỐ 766", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(
        doc,
        f"{data['unit_name']} · {p.label_vi}{' (tạm tính)' if data['provisional'] else ''}",
        size=13,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    change = data["change"]
    _para(
        doc,
        f"Tổng điểm {fmt_points(data['total'])}/100; xếp hạng {data['rank'] or '—'}/{data['cohort_size']}; "
        f"trung bình cả nước {fmt_points(data['national_total'])}; so với kỳ trước "
        f"{'—' if change is None else ('+' if change >= 0 else '') + fmt_points(change)} điểm.",
        size=12,
    )
    table = doc.add_table(rows=2 + len(data["groups"]), cols=5)
    table.style = "Table Grid"
    for i, h in enumerate(["Nhóm chỉ số", "Điểm", "Tối đa", "TB cả nước", "Thay đổi"]):
        _cell(table, 0, i, h, size=10, bold=True)
        _cell(table, 1, i, f"({i + 1})", size=10, italic=True)
    for r, g in enumerate(data["groups"], start=2):
        ch = g["change"]
        for i, v in enumerate(
            [
                f"{g['number']}. {g['name_vi']}",
                fmt_points(g["score"]),
                fmt_points(g["max_score"]),
                fmt_points(g["national"]),
                "—" if ch is None else ("+" if ch >= 0 else "") + fmt_points(ch),
            ]
        ):
            _cell(table, r, i, v, size=10, align=WD_ALIGN_PARAGRAPH.LEFT if i == 0 else WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, "Việc cần làm trước (số liệu chính xác theo phương pháp tính):", size=12, bold=True)
    for i, s in enumerate(data["plan"], start=1):
        _para(doc, f"{i}. {s['text_vi']}", size=12)
    if data["plan"]:
        _para(
            doc,
            f"Nếu thực hiện đủ: {fmt_points(Decimal(str(data['plan_total'])))} điểm, "
            f"xếp hạng {data['plan_rank']}/{data['cohort_size']}.",
            size=12,
            italic=True,
        )
    w = data["warnings"]
    _para(
        doc,
        f"Cảnh báo: {w['due_soon']['text_vi']}; {w['overdue_open']['count']} hồ sơ đang quá hạn; "
        f"{w['petitions_near_limit']['count']} PAKN sắp hết hạn.",
        size=12,
    )
    _para(
        doc, f"Phương pháp {data['methodology']}; lập lúc {data['generated_at']:%H:%M %d/%m/%Y}.", size=10, italic=True
    )
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def brief_json(data: dict[str, Any]) -> dict[str, Any]:
    """The brief data as JSON-ready values."""
    out = dict(data)
    out["period"] = data["period"].id
    out["generated_at"] = data["generated_at"].isoformat()
    for key in ("total", "max_total", "national_total", "previous_total", "change"):
        out[key] = json_number(data[key])
    out["groups"] = [
        {
            k: (json_number(v) if k in ("score", "max_score", "national", "previous", "change") else v)
            for k, v in g.items()
        }
        for g in data["groups"]
    ]
    return out
