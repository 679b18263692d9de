from django.db import models


class PolicyState(models.Model):
    """A single row whose version moves whenever any input of policy resolution changes.

    Cached principals carry the version they were built at; comparing it with this row is one
    primary-key read, which makes invalidation visible to every process at once.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"policy version {self.version}"
