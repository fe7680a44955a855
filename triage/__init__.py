"""klachten-triage: triage an organisation's complaints mailbox."""

__version__ = "0.1.0"
