"""moto's server on loopback, started by the tests: the aws adapter talks to it over HTTP like to AWS."""

import json
import os
import urllib.request

import boto3

from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer
from moto.sqs.models import sqs_backends

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class MotoServer:
    def __init__(self):
        for name, value in FAKE_CREDENTIALS.items():
            os.environ.setdefault(name, value)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.port = None

    def start(self):
        if self.port is None:
            self._server.start()
            _, self.port = self._server.get_host_and_port()
        else:  # restart on the same port (state lives in this process and survives)
            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
            self._server.start()
        return self

    def stop(self):
        self._server.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self):
        request = urllib.request.Request(self.url + "/moto-api/reset", method="POST", data=b"")
        urllib.request.urlopen(request, timeout=5).read()


def observe_bus(bus_name: str, queue_name: str, endpoint: str, source_prefix: str | None = None) -> str:
    """An SQS queue receiving every event of the bus (moto delivers EventBridge events to SQS targets)."""
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1")
    events = boto3.client("events", endpoint_url=endpoint, region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": [{"prefix": source_prefix or ""}]}
    events.put_rule(Name=f"{queue_name}-rule", EventBusName=bus_name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=f"{queue_name}-rule", EventBusName=bus_name, Targets=[{"Id": "q", "Arn": arn}])
    return queue_url


def drain_queue(queue_url: str, endpoint: str) -> list[dict]:
    """Every message the queue holds, read from moto's state in this process.

    moto's SQS scans its whole message list on each receive, so receiving 1,000 messages over HTTP
    takes minutes; the server thread shares this process, so its state can be read directly.
    """
    queue = sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].queues[queue_url.rsplit("/", 1)[1]]
    return [json.loads(message.body) for message in list(queue._messages)]
