import base64
import hashlib
import uuid

from cryptography.fernet import Fernet
from django.conf import settings

from mcpbridge.models import LocalSecret


def _fernet() -> Fernet:
    key = hashlib.sha256(b"mcpbridge.local-secrets:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


class LocalSecretStore:
    in_database = True  # its writes can share a transaction with their quota change

    def get(self, name):
        row = LocalSecret.objects.filter(name=name).first()
        if row is None:
            return None
        return _fernet().decrypt(row.ciphertext.encode()).decode(), row.version

    def put(self, name, value):
        version = uuid.uuid4().hex
        ciphertext = _fernet().encrypt(value.encode()).decode()
        _, created = LocalSecret.objects.update_or_create(name=name, defaults={"ciphertext": ciphertext, "version": version})
        return version, created

    def exists(self, name):
        return LocalSecret.objects.filter(name=name).exists()

    def list_names(self, prefix):
        yield from LocalSecret.objects.filter(name__startswith=prefix).order_by("name").values_list("name", flat=True).iterator()

    def delete(self, name):
        LocalSecret.objects.filter(name=name).delete()
