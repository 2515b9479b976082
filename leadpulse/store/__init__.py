"""Storage: the only package that writes SQL.

SQLAlchemy Core tables (`schema`), Alembic migrations (`migrate`), the engine factory (`engine`),
the single-writer group committer (`writer`) and one query module per table family.
Times are stored as integer epoch milliseconds and keys as integer surrogates.
"""
