"""Secrets Manager: names under the configured prefix, then the tenant's namespace."""

from botocore.exceptions import ClientError

from mcpbridge.dataplane.aws.clients import client
from mcpbridge.dataplane.aws.errors import error_code, translated

_MISSING = ("ResourceNotFoundException",)


class SecretsManagerStore:
    @property
    def _sm(self):
        return client("secretsmanager")

    def get(self, name):
        try:
            with translated("GetSecretValue", passthrough=_MISSING):
                found = self._sm.get_secret_value(SecretId=name)
        except ClientError:
            return None
        return found["SecretString"], found["VersionId"]

    def put(self, name, value):
        try:
            with translated("CreateSecret", passthrough=("ResourceExistsException",)):
                created = self._sm.create_secret(Name=name, SecretString=value)
            return created["VersionId"], True
        except ClientError:
            pass
        with translated("PutSecretValue"):
            updated = self._sm.put_secret_value(SecretId=name, SecretString=value)
        return updated["VersionId"], False

    def exists(self, name):
        try:
            with translated("DescribeSecret", passthrough=_MISSING):
                self._sm.describe_secret(SecretId=name)
        except ClientError:
            return False
        return True

    def list_names(self, prefix):
        paginator = self._sm.get_paginator("list_secrets")
        with translated("ListSecrets"):
            for page in paginator.paginate(Filters=[{"Key": "name", "Values": [prefix]}]):
                for entry in page.get("SecretList", []):
                    # The name filter matches prefixes of words too: keep only true prefixes.
                    if entry["Name"].startswith(prefix):
                        yield entry["Name"]

    def delete(self, name):
        try:
            with translated("DeleteSecret", passthrough=_MISSING):
                self._sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        except ClientError as exc:
            if error_code(exc) not in _MISSING:
                raise
