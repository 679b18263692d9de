"""Queue a Celery task by name after the current transaction commits.

By name, so that services need not import the task module (which imports the services).
"""

from django.db import transaction

from controlplane.celery import app


def enqueue_on_commit(task_name: str, **kwargs) -> None:
    transaction.on_commit(lambda: app.tasks[task_name].delay(**kwargs), robust=True)
