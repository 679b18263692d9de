"""DynamoDB: partition key `ns` = namespace, sort key `k` = the caller's key, TTL attribute `exp` (epoch seconds)."""

import time
from datetime import datetime, timezone as dt_timezone

from botocore.exceptions import ClientError
from django.conf import settings

from mcpbridge.dataplane.aws.clients import client
from mcpbridge.dataplane.aws.errors import error_code, translated
from mcpbridge.dataplane.ports import BackendError, ConditionFailed, KVEntry, KVItem

BATCH_WRITE_MAX = 25


def _expires(item) -> datetime | None:
    if "exp" not in item:
        return None
    return datetime.fromtimestamp(int(item["exp"]["N"]), dt_timezone.utc)


def _live(item, now: float) -> bool:
    return "exp" not in item or int(item["exp"]["N"]) > now


class DynamoKVStore:
    @property
    def _db(self):
        return client("dynamodb")

    @property
    def _table(self) -> str:
        return settings.AWS_DYNAMODB_TABLE

    def get(self, namespace, key):
        with translated("GetItem"):
            item = self._db.get_item(
                TableName=self._table, Key={"ns": {"S": namespace}, "k": {"S": key}}, ConsistentRead=True
            ).get("Item")
        # TTL deletion lags by up to days: expired items are filtered on every read.
        if item is None or not _live(item, time.time()):
            return None
        return KVItem(item["k"]["S"], item["v"]["S"], int(item["size"]["N"]), _expires(item))

    def put(self, namespace, key, value, size, expires_at, *, must_exist):
        item = {"ns": {"S": namespace}, "k": {"S": key}, "v": {"S": value}, "size": {"N": str(size)}}
        if expires_at is not None:
            item["exp"] = {"N": str(int(expires_at.timestamp()))}
        extra = {}
        if must_exist is True:
            extra["ConditionExpression"] = "attribute_exists(ns)"
        elif must_exist is False:
            extra["ConditionExpression"] = "attribute_not_exists(ns)"
        try:
            with translated("PutItem", passthrough=("ConditionalCheckFailedException",)):
                response = self._db.put_item(TableName=self._table, Item=item, ReturnValues="ALL_OLD", **extra)
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise ConditionFailed(key) from None
            raise
        return "Attributes" in response

    def delete(self, namespace, key):
        with translated("DeleteItem"):
            old = self._db.delete_item(
                TableName=self._table, Key={"ns": {"S": namespace}, "k": {"S": key}}, ReturnValues="ALL_OLD"
            ).get("Attributes")
        if not old:
            return None
        return KVEntry(old["k"]["S"], int(old["size"]["N"]), _expires(old))

    def list(self, namespace, prefix, limit, after):
        now = time.time()
        condition, values = "ns = :ns", {":ns": {"S": namespace}}
        if prefix:
            condition += " AND begins_with(k, :p)"
            values[":p"] = {"S": prefix}
        request = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ProjectionExpression": "k, #s, #e",
            "ExpressionAttributeNames": {"#s": "size", "#e": "exp"},
            "ConsistentRead": True,
        }
        if after is not None:
            request["ExclusiveStartKey"] = {"ns": {"S": namespace}, "k": {"S": after}}
        found: list[KVEntry] = []
        while len(found) <= limit:
            request["Limit"] = limit + 1 - len(found)
            with translated("Query"):
                page = self._db.query(**request)
            found.extend(
                KVEntry(i["k"]["S"], int(i["size"]["N"]), _expires(i)) for i in page.get("Items", []) if _live(i, now)
            )
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found[:limit], len(found) > limit

    def scan_tenant(self, tenant_prefix):
        request = {
            "TableName": self._table,
            "FilterExpression": "begins_with(ns, :t)",
            "ExpressionAttributeValues": {":t": {"S": tenant_prefix}},
            "ProjectionExpression": "ns, k, #s, #e",
            "ExpressionAttributeNames": {"#s": "size", "#e": "exp"},
            "ConsistentRead": True,
        }
        while True:
            with translated("Scan"):
                page = self._db.scan(**request)
            for i in page.get("Items", []):
                yield i["ns"]["S"], KVEntry(i["k"]["S"], int(i["size"]["N"]), _expires(i))
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def delete_many(self, items):
        for start in range(0, len(items), BATCH_WRITE_MAX):
            requests = [
                {"DeleteRequest": {"Key": {"ns": {"S": ns}, "k": {"S": k}}}} for ns, k in items[start : start + BATCH_WRITE_MAX]
            ]
            pending = {self._table: requests}
            for attempt in range(8):
                with translated("BatchWriteItem"):
                    pending = self._db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(min(2.0, 0.05 * 2**attempt))
            else:
                raise BackendError("BatchWriteItem: items left unprocessed after retries")
