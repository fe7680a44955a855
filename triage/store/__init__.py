"""Persistence: SQLAlchemy 2 tables (`models`), the queries the pipeline needs (`repo`), and Alembic
migrations (`migrate`). SQLite by default; any SQLAlchemy URL (PostgreSQL for larger installs)."""
