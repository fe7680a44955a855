"""Placeholder: the `triage privacy` command (issue 15), filled in by its own change."""

from __future__ import annotations
