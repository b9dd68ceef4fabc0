"""The ops: one Function per op, forward and backward side by side, grouped by family."""
