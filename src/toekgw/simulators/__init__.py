"""Local counterparts that behave like the real ones, faults included, runnable alone."""
