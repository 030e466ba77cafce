"""The work the elected scheduler does on every tick.

The engine runtime adds its timer sweep here (claim due enrollments, enqueue
one job per batch); until then the tick only proves it is alive, through the
heartbeat the scheduler writes.
"""
