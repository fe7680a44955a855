"""Pure pipeline stages: each takes and returns plain values from `triage.domain`."""
