"""Persistence: SQLAlchemy tables, repositories, unit of work, engine, Alembic migrations."""
