"""Fault-injection suite (issue 7, "Faults to survive"): crashes, database
faults, a full or unwritable store, and a source video replaced under a run."""
