from django.db import models


class Role(models.Model):
    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    capabilities = models.JSONField(default=list, blank=True, help_text="Capability codes this role grants.")
    is_builtin = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.slug
