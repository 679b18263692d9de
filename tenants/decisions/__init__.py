"""The decision API (django-ninja): typed answers other services ask at runtime."""
