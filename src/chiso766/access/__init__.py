"""Access control for writes: bearer tokens scoped to a unit subtree, and the audit log of every write."""
