"""Journey analytics: what was sent, opened, clicked and bought, per journey, node and variant.

`report.journey_report` is the one source of the figures the canvas overlay, the report page
and the API show; `dashboard` holds the workspace-wide tables; `ab` the A/B results and the
automatic winner; `lift` the holdout comparison; `attribution` the orders credited to emails.
"""
