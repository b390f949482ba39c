"""Alembic environment: runs on the connection ``persistence.migrate`` hands over.

There is no ``alembic.ini`` and no logging configuration here on purpose: the host process
owns logging, and migrations always run through ``upgrade_database``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from persistence.models import Base
from persistence.session import create_db_engine

target_metadata = Base.metadata


def _run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "set sqlalchemy.url or pass a connection in config.attributes"
    engine = create_db_engine(url)
    try:
        with engine.begin() as own_connection:
            _run_on(own_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; use upgrade_database()")
run_migrations_online()
