from django.db import models


class IdempotencyRecord(models.Model):
    """The first answer to a create sent with an Idempotency-Key, replayed to every retry of it.

    The row is inserted in the same transaction as the create, so a concurrent retry waits on the
    unique constraint and then reads the committed answer instead of creating a duplicate.
    """

    owner = models.CharField(max_length=80, help_text="key:<api key id> or user:<user id>")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(default=0)
    response_body = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="unique_idempotency_key")]
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.owner} {self.key}"
