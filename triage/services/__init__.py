"""The use cases the shells call: poll, send, classify a file, correct, replay, retrain, promote.

Every service takes a frozen `Deps`, built once by a shell (CLI command, web app, worker), and
plain values; it returns plain values. A shell never reaches below this package: it does not open
a session, run a query or call a stage itself.
"""
