"""Composition: the Context application object wired to a real database and the adapters."""
from __future__ import annotations

import os

from adapters.blobs import FileBlobStore
from adapters.delivery import ChannelSender
from adapters.holidays import PackageHolidays
from adapters.security import DEFAULT_ROUNDS, BcryptHasher, FernetCipher, secret_key
from core.usecases.context import Context
from db.engine import data_dir, database_url, make_engine, migrate
from db.uow import SqlUowFactory
from core import usecases as uc


def build_app(url: str | None = None, run_migrations: bool = True) -> Context:
    url = url or database_url()
    if run_migrations:
        migrate(url)
    engine = make_engine(url)
    rounds = int(os.environ.get("KESU_BCRYPT_ROUNDS", str(DEFAULT_ROUNDS)))
    uow = SqlUowFactory(engine, FernetCipher(secret_key(data_dir())))
    app = Context(uow=uow, blobs=FileBlobStore(data_dir() / "attachments"),
                  hasher=BcryptHasher(rounds), holidays=PackageHolidays(), sender=ChannelSender())
    if run_migrations:
        uc.timing.fill_close_days(app)  # closed cases from before migration 0006
        uow.seal_secrets()  # secrets saved in clear before encryption (issue #11)
    return app
