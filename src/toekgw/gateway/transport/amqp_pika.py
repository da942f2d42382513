"""RabbitMQ (AMQP 0-9-1) over ``pika``: the real :class:`~.amqp.MessageBroker`.

One blocking connection with one channel in confirm mode and ``prefetch_count`` = the
session's ``prefetch`` (1 unless asked otherwise). Messages
are published persistent to the default exchange with ``mandatory`` set, so an unroutable
message (no such queue) raises instead of vanishing; declared queues are durable, with
``x-max-priority`` and dead-lettering (``x-dead-letter-exchange`` = the default exchange,
``x-dead-letter-routing-key`` = the dead-letter queue) when the spec asks for them.

Login: user and password, or SASL ``EXTERNAL`` with a response the caller supplies (KOMBIT's
Beskedfordeler takes the SF1514 SAML assertion there), optionally over TLS with a client
certificate.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ssl
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pika
import pika.credentials
import pika.exceptions

from toekgw.gateway.transport.amqp import (
    BrokerError,
    BrokerUnavailable,
    Delivery,
    DeliveryStateError,
    PublishRefused,
    QueueSpec,
)

__all__ = ["BrokerSettings", "ExternalCredentials", "PikaBroker"]


@dataclasses.dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Where and how to connect. ``external_response``: log in with SASL ``EXTERNAL`` sending
    these bytes (instead of ``username``/``password``); ``tls``: a client-side SSL context."""

    host: str = "127.0.0.1"
    port: int = 5672
    virtual_host: str = "/"
    username: str = "guest"
    password: str = "guest"  # noqa: S105 (RabbitMQ's documented default, loopback only)
    external_response: bytes | None = None
    tls: ssl.SSLContext | None = None
    heartbeat: int = 60
    connect_timeout: float = 10.0

    def parameters(self) -> pika.ConnectionParameters:
        credentials: Any
        if self.external_response is not None:
            credentials = ExternalCredentials(self.external_response)
        else:
            credentials = pika.PlainCredentials(self.username, self.password)
        return pika.ConnectionParameters(
            host=self.host,
            port=self.port,
            virtual_host=self.virtual_host,
            credentials=credentials,
            ssl_options=pika.SSLOptions(self.tls, self.host) if self.tls else None,
            heartbeat=self.heartbeat,
            blocked_connection_timeout=self.connect_timeout * 3,
            socket_timeout=self.connect_timeout,
            connection_attempts=1,
        )


class ExternalCredentials(pika.credentials.ExternalCredentials):  # type: ignore[misc]
    """SASL ``EXTERNAL`` with a response (pika's own sends an empty one). A subclass of
    pika's: ``ConnectionParameters`` takes no other kind of credentials."""

    def __init__(self, response: bytes) -> None:
        super().__init__()
        self.response = response

    def response_for(self, start: Any) -> tuple[str | None, bytes | None]:
        mechanisms = bytes(start.mechanisms).split()
        if self.TYPE.encode() not in mechanisms:
            return None, None
        return self.TYPE, self.response

    def erase_credentials(self) -> None:
        """Nothing to erase: the response is needed again on a reconnect."""


@contextlib.contextmanager
def _translated(what: str) -> Iterator[None]:
    try:
        yield
    except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as exc:
        raise PublishRefused(f"{what}: the broker did not take the message ({exc})") from exc
    except pika.exceptions.ChannelClosedByBroker as exc:
        raise BrokerError(f"{what}: {exc.reply_code} {exc.reply_text}") from exc
    except (pika.exceptions.AMQPError, OSError) as exc:
        raise BrokerUnavailable(f"{what}: the broker connection failed ({exc!r})") from exc


class PikaBroker:
    """A session with RabbitMQ, holding up to ``prefetch`` unsettled deliveries."""

    def __init__(self, settings: BrokerSettings, *, prefetch: int = 1) -> None:
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1")
        self.settings = settings
        self.prefetch = prefetch
        where = f"RabbitMQ at {settings.host}:{settings.port}{settings.virtual_host}"
        with _translated(f"cannot connect to {where}"):
            self._connection = pika.BlockingConnection(settings.parameters())
            self._channel = self._open_channel()
        self._consuming: str | None = None
        self._held: dict[int, Delivery] = {}

    def declare(self, spec: QueueSpec) -> None:
        arguments: dict[str, Any] = {}
        if spec.max_priority:
            arguments["x-max-priority"] = spec.max_priority
        dead = spec.dead_letter_queue
        try:
            with _translated(f"cannot declare queue {spec.name!r}"):
                if dead is not None:
                    self._channel.queue_declare(dead, durable=True)
                    arguments["x-dead-letter-exchange"] = ""
                    arguments["x-dead-letter-routing-key"] = dead
                self._channel.queue_declare(spec.name, durable=True, arguments=arguments)
        except BrokerError:
            if self._channel.is_closed and self._connection.is_open:
                self._channel = self._open_channel()  # a refused declare closes the channel
            raise

    def publish(
        self,
        queue: str,
        body: bytes,
        *,
        message_id: str | None = None,
        type: str | None = None,
        priority: int = 0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        properties = pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=message_id,
            type=type,
            priority=max(0, min(priority, 255)),
            headers=dict(headers) if headers else None,
        )
        with _translated(f"cannot publish to {queue!r}"):
            self._channel.basic_publish("", queue, bytes(body), properties, mandatory=True)

    def get(self, queue: str, *, wait: float = 0.0) -> Delivery | None:
        if len(self._held) >= self.prefetch:
            raise DeliveryStateError(
                f"{len(self._held)} deliveries unsettled (prefetch {self.prefetch}): "
                "ack, reject or requeue one first"
            )
        with _translated(f"cannot consume from {queue!r}"):
            if self._consuming not in (None, queue):
                self._channel.cancel()
            self._consuming = queue
            for method, props, body in self._channel.consume(
                queue, auto_ack=False, inactivity_timeout=max(wait, 0.0)
            ):
                if method is None:
                    return None
                delivery = _delivery(queue, method, props, body)
                self._held[delivery.tag] = delivery
                return delivery
        return None  # pragma: no cover - the generator never ends while consuming

    def depth(self, queue: str) -> int:
        with _translated(f"cannot count queue {queue!r}"):
            frame = self._channel.queue_declare(queue, passive=True)
        return int(frame.method.message_count)

    def ack(self, delivery: Delivery) -> None:
        self._settle(delivery)
        with _translated("cannot ack"):
            self._channel.basic_ack(delivery.tag)

    def ack_many(self, deliveries: Sequence[Delivery]) -> None:
        tags = sorted(d.tag for d in deliveries)
        if len(set(tags)) != len(tags) or not set(tags) <= self._held.keys():
            raise DeliveryStateError("a delivery is not held by this session (or named twice)")
        if not tags:
            return
        # One "multiple" ack covers every held delivery up to the last tag: usable when
        # those are exactly the ones to ack.
        covered = {tag for tag in self._held if tag <= tags[-1]}
        for tag in tags:
            del self._held[tag]
        with _translated("cannot ack"):
            if covered == set(tags):
                self._channel.basic_ack(tags[-1], multiple=True)
            else:
                for tag in tags:
                    self._channel.basic_ack(tag)

    def reject(self, delivery: Delivery) -> None:
        self._settle(delivery)
        with _translated("cannot reject"):
            self._channel.basic_reject(delivery.tag, requeue=False)

    def requeue(self, delivery: Delivery) -> None:
        self._settle(delivery)
        with _translated("cannot requeue"):
            self._channel.basic_reject(delivery.tag, requeue=True)

    def close(self) -> None:
        self._held.clear()
        with contextlib.suppress(pika.exceptions.AMQPError, OSError):
            if self._connection.is_open:
                self._connection.close()

    def __enter__(self) -> PikaBroker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open_channel(self) -> Any:
        channel = self._connection.channel()
        channel.confirm_delivery()
        channel.basic_qos(prefetch_count=self.prefetch)
        return channel

    def _settle(self, delivery: Delivery) -> None:
        if self._held.pop(delivery.tag, None) is None:
            raise DeliveryStateError(f"delivery {delivery.tag} is not held by this session")


def _delivery(queue: str, method: Any, props: Any, body: bytes) -> Delivery:
    headers = {
        str(key): value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        for key, value in (props.headers or {}).items()
        if key != "x-death"  # RabbitMQ's detailed history; the x-first-death-* pair is kept
    }
    return Delivery(
        queue=queue,
        tag=int(method.delivery_tag),
        body=bytes(body),
        message_id=props.message_id,
        type=props.type,
        priority=int(props.priority or 0),
        headers=headers,
        redelivered=bool(method.redelivered),
    )
