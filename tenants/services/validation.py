from django.core.exceptions import ValidationError

from tenants.services.errors import ConflictError, ServiceError


def full_clean(instance, *, exclude=None) -> None:
    """Run the model's validation and turn its first problem into a ServiceError naming the field."""
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        errors = getattr(exc, "message_dict", None) or {"__all__": exc.messages}
        field, messages = next(iter(errors.items()))
        message = f"{field}: {messages[0]}" if field != "__all__" else messages[0]
        error_class = ConflictError if any("already exists" in m for m in messages) else ServiceError
        raise error_class(message, field=None if field == "__all__" else field) from exc
