from controlplane.settings.env import read_url

# No broker configured: tasks run in-process (the embedded default).
CELERY_BROKER_URL = read_url(
    "CELERY_BROKER_URL", "", schemes=("redis", "rediss", "amqp", "amqps", "pyamqp", "sqs"), needs_host=False,
    example="redis://127.0.0.1:6379/1",
)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# At-least-once: a task is acknowledged only after it ran, and redelivered if its worker dies.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Safety nets for the data plane: the outbox is drained even if a queued drain was lost; usage is reconciled daily.
CELERY_BEAT_SCHEDULE = {
    "drain-event-outbox": {"task": "mcpbridge.tasks.drain_outbox", "schedule": 30.0},
    "reconcile-usage": {"task": "mcpbridge.tasks.reconcile_usage", "schedule": 24 * 3600.0},
    # Tenants created while the data plane was unreachable or not bootstrapped yet.
    "provision-pending-tenant-data": {"task": "mcpbridge.tasks.provision_pending_tenant_data", "schedule": 300.0},
}
