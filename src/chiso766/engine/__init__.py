"""The engine: facts, counters, scores, ranks and explanations as plain SQL over the store's tables."""
