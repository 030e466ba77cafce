"""Use-cases: each loads state, calls the core where there is one, stores results."""
