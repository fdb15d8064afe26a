"""The store's plain structure tables (DuckDB by default; portable SQL types only).

Conventions:
- Instants are ``TIMESTAMP`` in **UTC** (naive values meaning UTC). Input strings are Vietnam local time
  (``yyyyMMddHHmmss``, UTC+7 all year since 1975) and are converted at ingest. Local calendar dates are derived
  in SQL with :func:`chiso766.engine.dialect.local_date`.
- Flags are ``BOOLEAN``; raw codes the methodology reads (channel, status, payment) stay ``VARCHAR`` as sent.
- Each dossier / petition is kept once, in its latest synced state (D-gen-4); histories are child tables.
- The dossier tables have no PRIMARY KEY constraint: their keys (:data:`LOGICAL_KEYS`) are kept unique by ingest.
- Personal data (owner names, ID numbers, phone, email, addresses) is never stored (DESIGN, reliability rules).
"""

from __future__ import annotations

TABLES: dict[str, str] = {
    # --- reference structure -------------------------------------------------------------------------------
    "units": """
        CREATE TABLE IF NOT EXISTS units (
            unit_code      VARCHAR PRIMARY KEY,   -- MaDonVi
            name           VARCHAR,               -- TenDonVi
            parent_code    VARCHAR,               -- MaDonViCha; NULL for a root
            level          VARCHAR NOT NULL,      -- province | provincial_department | district | commune
            electronic_id  VARCHAR                -- MaDinhDanh (QĐ 20/2020), matched to the MaHoSo prefix
        )""",
    # ancestor/descendant pairs incl. (u, u, 0); rebuilt whenever units change
    "unit_closure": """
        CREATE TABLE IF NOT EXISTS unit_closure (
            ancestor    VARCHAR NOT NULL,
            descendant  VARCHAR NOT NULL,
            depth       INTEGER NOT NULL,
            PRIMARY KEY (ancestor, descendant)
        )""",
    # --- TTHC catalogue (CSDLQG về TTHC; DATA_FORMATS §1.13, INPUT_FORMAT procedures.json) -----------------
    "procedures": """
        CREATE TABLE IF NOT EXISTS procedures (
            procedure_code         VARCHAR PRIMARY KEY,  -- MATTHC
            name                   VARCHAR,              -- TENTTHC
            status                 VARCHAR,              -- public | public_amended | abolished | other (TRANGTHAI)
            requires_paper_result  BOOLEAN NOT NULL,     -- YEUCAUTRAKETQUAGIAY, else non-empty KETQUATHUCHIEN (D-4.1-2)
            has_fee                BOOLEAN NOT NULL,     -- any PHILEPHI[].SOTIEN with a non-zero digit (D-3.6-3)
            citizen_applicant      BOOLEAN,              -- DOITUONGTHUCHIEN: citizens, overseas VN, foreigners (4.5a)
            components_complete    BOOLEAN,              -- all 7 components of khoản 2 Điều 8 NĐ 63/2010 present (1.3)
            levels                 VARCHAR,              -- CAPTHUCHIEN codes, comma-joined (0 Bộ 1 Tỉnh 2 Huyện 3 Xã)
            full_online_eligible   BOOLEAN,              -- (ext) đủ điều kiện DVCTT toàn trình
            published_at           TIMESTAMP,            -- (ext) latest "click Công khai" (1.2)
            updated_at             TIMESTAMP
        )""",
    "procedure_times": """
        CREATE TABLE IF NOT EXISTS procedure_times (
            procedure_code  VARCHAR NOT NULL,
            channel         VARCHAR,                -- KENH '1' | '2' | '3'
            amount          DOUBLE NOT NULL,        -- THOIGIANGIAIQUYET (may be fractional)
            time_unit       VARCHAR NOT NULL        -- working_day | day | hour | working_hour | week | month
        )""",
    # agencies that implement a TTHC (COQUANTHUCHIEN[].MADONVI) — the unit scope of catalogue indicators
    "procedure_units": """
        CREATE TABLE IF NOT EXISTS procedure_units (
            procedure_code  VARCHAR NOT NULL,
            unit_code       VARCHAR NOT NULL,
            PRIMARY KEY (procedure_code, unit_code)
        )""",
    "legal_bases": """
        CREATE TABLE IF NOT EXISTS legal_bases (
            procedure_code  VARCHAR NOT NULL,
            document_no     VARCHAR NOT NULL,      -- SOVANBAN
            effective_on    DATE                   -- NGAYHIEULUC
        )""",
    # online public services (DVC) of a TTHC at an applying unit (3.1, 3.2)
    "services": """
        CREATE TABLE IF NOT EXISTS services (
            service_code    VARCHAR PRIMARY KEY,   -- MaDVC
            procedure_code  VARCHAR NOT NULL,
            unit_code       VARCHAR NOT NULL,      -- applying (processing) unit
            service_level   VARCHAR NOT NULL,      -- partial | full  (một phần | toàn trình)
            status          VARCHAR NOT NULL       -- public | pending_withdrawal | testing | withdrawn | other
        )""",
    # publication decisions (QĐCB) and the TTHC they list (1.1, 1.2)
    "publications": """
        CREATE TABLE IF NOT EXISTS publications (
            decision_id   VARCHAR PRIMARY KEY,     -- số quyết định
            unit_code     VARCHAR NOT NULL,        -- issuing province / ministry
            decided_on    DATE NOT NULL            -- NgayQuyetDinh
        )""",
    "publication_items": """
        CREATE TABLE IF NOT EXISTS publication_items (
            decision_id     VARCHAR NOT NULL,
            procedure_code  VARCHAR NOT NULL,
            change_type     VARCHAR NOT NULL,      -- new | amended | abolished
            PRIMARY KEY (decision_id, procedure_code)
        )""",
    # --- dossiers (hồ sơ; DATA_FORMATS §1.2, INPUT_FORMAT dossiers.json) --------------------------------------
    "dossiers": """
        CREATE TABLE IF NOT EXISTS dossiers (
            dossier_id             VARCHAR NOT NULL,     -- MaHoSo (unique: LOGICAL_KEYS)
            source_system          VARCHAR NOT NULL DEFAULT '',
            unit_code              VARCHAR,              -- MaCoQuanThucHien, else MaDonVi (D-gen-3)
            id_prefix              VARCHAR,              -- MaHoSo before the first '-', matched to units.electronic_id
            procedure_code         VARCHAR,              -- MaTTHC
            channel                VARCHAR,              -- KenhThucHien as sent; '' → NULL
            submitted_at           TIMESTAMP,            -- NgayNopHoSo
            received_at            TIMESTAMP,            -- NgayTiepNhan; NULL = not received
            due_at                 TIMESTAMP,            -- NgayHenTra
            status                 VARCHAR,              -- TrangThaiHoSo '1'..'10'
            processing_end_at      TIMESTAMP,            -- NgayKetThucXuLy
            returned_at            TIMESTAMP,            -- NgayTra
            rejected_at            TIMESTAMP,            -- NgayTuChoi
            payment_code           VARCHAR,              -- DuocThanhToanTrucTuyen as sent
            fee_state              VARCHAR NOT NULL,     -- none (empty/missing list) | all_zero | nonzero (D-3.6-2)
            has_component_file     BOOLEAN NOT NULL,     -- a live TaiLieuNop with DuongDanTaiTepTin (D-4.2-2)
            has_digitised_component BOOLEAN NOT NULL,    -- HoSoCoThanhPhanSoHoa = 1 or a live DuocSoHoa = 1 (D-4.3-1)
            has_store_component    BOOLEAN NOT NULL,     -- a live DuocLayTuKhoDMQG = 1 (4.4, 4.5)
            has_result_file        BOOLEAN NOT NULL,     -- a DanhSachGiayToKetQua with DuongDanTepTinKetQua (D-4.1-1)
            has_result_code        BOOLEAN NOT NULL,     -- a result with MaGiayToKetQua (3.3 design condition)
            result_synced_to_store BOOLEAN NOT NULL,     -- DongBoKhoDMQG = 1 on a result (D-4.4-1)
            vneid                  BOOLEAN NOT NULL,     -- TaiKhoanDuocXacThucVoiVNeID = 1
            disliked               BOOLEAN NOT NULL,     -- DanhGiaKhongHaiLong = 1 (5.4)
            updated_at             TIMESTAMP,            -- version time: a newer version wins
            ingested_at            TIMESTAMP NOT NULL
        )""",
    # progress entries (QuaTrinhXuLy), deduplicated; field-derived terminal events are added in SQL (D-2.1-1)
    "dossier_events": """
        CREATE TABLE IF NOT EXISTS dossier_events (
            dossier_id  VARCHAR NOT NULL,
            status      VARCHAR NOT NULL,            -- TrangThai '1'..'10'
            event_at    TIMESTAMP NOT NULL           -- ThoiDiemXuLy
        )""",
    # DanhSachHoSoBoSung (D-2.1-4): request and, when known, completion
    "dossier_supplements": """
        CREATE TABLE IF NOT EXISTS dossier_supplements (
            dossier_id    VARCHAR NOT NULL,
            requested_at  TIMESTAMP NOT NULL,        -- NgayBoSung
            completed_at  TIMESTAMP                  -- NgayTiepNhanBoSung
        )""",
    # DSKetNoiCSDL[].MaCSDL or flat MaCSDL (D-4.5b-1)
    "dossier_databases": """
        CREATE TABLE IF NOT EXISTS dossier_databases (
            dossier_id  VARCHAR NOT NULL,
            db_code     VARCHAR NOT NULL
        )""",
    # --- petitions (PAKN; INPUT_FORMAT petitions.json) -------------------------------------------------------
    "petitions": """
        CREATE TABLE IF NOT EXISTS petitions (
            petition_id   VARCHAR PRIMARY KEY,       -- MaPAKN
            unit_code     VARCHAR NOT NULL,          -- MaDonVi: first receiver (may be outside the tree, e.g. VPCP)
            sent_at       TIMESTAMP NOT NULL,        -- NgayGui
            dossier_id    VARCHAR,                   -- MaHoSo (5.4)
            likes         INTEGER NOT NULL DEFAULT 0,
            dislikes      INTEGER NOT NULL DEFAULT 0,
            raised_again  BOOLEAN NOT NULL DEFAULT FALSE,  -- PhanAnhLaiKhongHaiLong = 1
            updated_at    TIMESTAMP,
            ingested_at   TIMESTAMP NOT NULL
        )""",
    "petition_events": """
        CREATE TABLE IF NOT EXISTS petition_events (
            petition_id  VARCHAR NOT NULL,
            status       VARCHAR NOT NULL,           -- CHO_TIEP_NHAN | DANG_XU_LY | CHUYEN_XU_LY | TU_CHOI | ...
            event_at     TIMESTAMP NOT NULL,         -- ThoiDiem
            from_unit    VARCHAR,                    -- MaDonViGui (transfers)
            to_unit      VARCHAR,                    -- MaDonViNhan (transfers)
            PRIMARY KEY (petition_id, status, event_at)
        )""",
    # optional national reporting system (BCQG) received counts, for the 1.4 design rule
    "bcqg_counts": """
        CREATE TABLE IF NOT EXISTS bcqg_counts (
            unit_code  VARCHAR NOT NULL,
            period_id  VARCHAR NOT NULL,
            received   BIGINT NOT NULL,
            PRIMARY KEY (unit_code, period_id)
        )""",
    # --- ingestion bookkeeping --------------------------------------------------------------------------------
    "receipts": """
        CREATE TABLE IF NOT EXISTS receipts (
            receipt_id  VARCHAR PRIMARY KEY,
            kind        VARCHAR NOT NULL,
            source      VARCHAR NOT NULL,
            accepted    BIGINT NOT NULL,
            updated     BIGINT NOT NULL,
            unchanged   BIGINT NOT NULL,
            rejected    BIGINT NOT NULL,
            recorded_at TIMESTAMP NOT NULL
        )""",
    "quarantine": """
        CREATE TABLE IF NOT EXISTS quarantine (
            receipt_id  VARCHAR NOT NULL,
            kind        VARCHAR NOT NULL,
            source      VARCHAR NOT NULL,
            record_no   BIGINT NOT NULL,             -- 1-based position in the source
            record_key  VARCHAR,                     -- MaHoSo / MaPAKN / ... when readable
            record      VARCHAR,                     -- the record as JSON, personal data removed
            problems    VARCHAR NOT NULL,            -- JSON list of {where, field, message_vi, message_en}
            recorded_at TIMESTAMP NOT NULL
        )""",
    # --- access (chiso766.access) ------------------------------------------------------------------------------
    # bearer tokens: only a SHA-256 of the token is kept; the plaintext is shown once, at creation
    "access_tokens": """
        CREATE TABLE IF NOT EXISTS access_tokens (
            token_id    VARCHAR PRIMARY KEY,         -- public part of the token (c766_<token_id>_<secret>)
            token_hash  VARCHAR NOT NULL UNIQUE,     -- sha256 hex of the whole token
            name        VARCHAR,
            unit_code   VARCHAR NOT NULL,            -- the token writes records of this unit's subtree only
            scope       VARCHAR NOT NULL,            -- ingest | catalogue | admin
            created_at  TIMESTAMP NOT NULL,
            revoked_at  TIMESTAMP
        )""",
    # every write (and every refused write attempt) and every dossier-level read
    "audit_log": """
        CREATE TABLE IF NOT EXISTS audit_log (
            logged_at   TIMESTAMP NOT NULL,          -- UTC
            actor       VARCHAR NOT NULL,            -- token:<token_id> | user:<login> | anonymous | cli
            action      VARCHAR NOT NULL,            -- ingest | ingest_refused | read_dossiers | ...
            kind        VARCHAR,                     -- record kind written, or what was read
            unit_code   VARCHAR,
            receipt_id  VARCHAR,
            accepted    BIGINT,
            updated     BIGINT,
            unchanged   BIGINT,
            rejected    BIGINT,
            status      INTEGER,                     -- HTTP status answered (NULL off the API)
            remote      VARCHAR,                     -- client address
            detail      VARCHAR                      -- short free text (never personal data)
        )""",
    # what changed since the counters were last brought up to date (incremental path)
    "changes": """
        CREATE TABLE IF NOT EXISTS changes (
            kind         VARCHAR NOT NULL,           -- dossier | petition | procedure | unit | publication
            record_key   VARCHAR NOT NULL,
            unit_code    VARCHAR,
            earliest_at  TIMESTAMP,                  -- earliest instant whose periods the change can affect
            recorded_at  TIMESTAMP NOT NULL
        )""",
}

# Keys kept unique by the ingest code rather than by a PRIMARY KEY constraint: the largest tables, where DuckDB's
# index costs more than the loads it guards (about half of a bulk load's time) and much memory at national scale.
# Stores created before this still have the constraints; the ingest code gives the same rows with either.
LOGICAL_KEYS: dict[str, tuple[str, ...]] = {
    "dossiers": ("dossier_id",),
    "dossier_events": ("dossier_id", "status", "event_at"),
    "dossier_supplements": ("dossier_id", "requested_at"),
    "dossier_databases": ("dossier_id", "db_code"),
}

RECORD_KINDS = ("units", "procedures", "publications", "dossiers", "progress", "petitions")


def create_all(connection: object) -> None:
    """Create every table that does not exist yet (idempotent)."""
    execute = getattr(connection, "execute")  # noqa: B009 — any DB-API-like connection
    for ddl in TABLES.values():
        execute(ddl)
