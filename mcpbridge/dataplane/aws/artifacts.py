"""S3: one bucket, key = namespace + "/" + name."""

from botocore.exceptions import ClientError
from django.conf import settings

from mcpbridge.dataplane.aws.clients import client
from mcpbridge.dataplane.aws.errors import error_code, translated
from mcpbridge.dataplane.downloads import DOWNLOAD_CONTENT_TYPE, attachment_disposition
from mcpbridge.dataplane.ports import Artifact, ArtifactMeta, BackendError

_MISSING = ("404", "NoSuchKey", "NotFound")
DELETE_OBJECTS_MAX = 1000


class S3ArtifactStore:
    @property
    def _s3(self):
        return client("s3")

    @property
    def _bucket(self) -> str:
        return settings.AWS_S3_BUCKET

    def put(self, key, body, content_type):
        with translated("PutObject"):
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)

    def head(self, key):
        try:
            with translated("HeadObject", passthrough=_MISSING):
                head = self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in _MISSING:
                return None
            raise
        return ArtifactMeta(key, head["ContentLength"], head.get("ContentType", ""), head.get("LastModified"))

    def get(self, key):
        try:
            with translated("GetObject", passthrough=_MISSING):
                obj = self._s3.get_object(Bucket=self._bucket, Key=key)
                body = obj["Body"].read()
        except ClientError as exc:
            if error_code(exc) in _MISSING:
                return None
            raise
        return Artifact(ArtifactMeta(key, len(body), obj.get("ContentType", ""), obj.get("LastModified")), body)

    def delete(self, key):
        with translated("DeleteObject"):
            self._s3.delete_object(Bucket=self._bucket, Key=key)
        return True

    def list(self, prefix, limit, after):
        request = {"Bucket": self._bucket, "Prefix": prefix, "MaxKeys": limit}
        if after is not None:
            request["StartAfter"] = after
        with translated("ListObjectsV2"):
            page = self._s3.list_objects_v2(**request)
        metas = [ArtifactMeta(o["Key"], o["Size"], "", o.get("LastModified")) for o in page.get("Contents", [])]
        return metas, bool(page.get("IsTruncated"))

    def iter_prefix(self, prefix):
        paginator = self._s3.get_paginator("list_objects_v2")
        with translated("ListObjectsV2"):
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
                for o in page.get("Contents", []):
                    yield ArtifactMeta(o["Key"], o["Size"], "", o.get("LastModified"))

    def delete_many(self, keys):
        for start in range(0, len(keys), DELETE_OBJECTS_MAX):
            chunk = keys[start : start + DELETE_OBJECTS_MAX]
            with translated("DeleteObjects"):
                response = self._s3.delete_objects(
                    Bucket=self._bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
                )
            if response.get("Errors"):
                raise BackendError(f"DeleteObjects: {len(response['Errors'])} objects not deleted")

    def presign_put(self, key, content_type, size, expires_in):
        params = {"Bucket": self._bucket, "Key": key, "ContentType": content_type, "ContentLength": size}
        with translated("PresignPut"):
            return self._s3.generate_presigned_url("put_object", Params=params, ExpiresIn=expires_in)

    def presign_get(self, key, expires_in):
        # S3 answers a signed GET with these overrides instead of the stored metadata (see dataplane/downloads.py).
        params = {
            "Bucket": self._bucket,
            "Key": key,
            "ResponseContentDisposition": attachment_disposition(key),
            "ResponseContentType": DOWNLOAD_CONTENT_TYPE,
            "ResponseCacheControl": "private, no-store",
        }
        with translated("PresignGet"):
            return self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
