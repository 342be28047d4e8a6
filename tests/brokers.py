"""Celery apps on a real broker for tests that run a worker in-process."""

from __future__ import annotations

from pathlib import Path

from celery import Celery


def filesystem_app(tmp_path: Path, name: str, **conf: object) -> Celery:
    """An app on Kombu's filesystem transport in `tmp_path`: a real broker no other worker reads.

    Results go to an in-memory store, which the in-process worker shares.
    """
    folders = {key: tmp_path / key for key in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir(exist_ok=True)
    app = Celery(name, set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url="filesystem://",
        broker_transport_options={
            "data_folder_in": str(folders["queue"]),
            "data_folder_out": str(folders["queue"]),
            "processed_folder": str(folders["processed"]),
            "control_folder": str(folders["control"]),
        },
        result_backend="cache+memory://",
        **conf,
    )
    return app
