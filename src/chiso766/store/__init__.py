"""The store: plain structure tables in one DuckDB file (current state, histories, receipts, quarantine)."""
