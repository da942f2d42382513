"""The ``zeep`` plugin that makes each outgoing call an OIO IDWS request.

KOMBIT's services called with a token (SF1490, SF1590_B) take the call only as its token's
holder signed it (:mod:`toekgw.formats.kombit.idws`). :class:`HolderSigning` adds to each
outgoing envelope the WS-Addressing headers (``Action``: the operation's SOAPAction,
``MessageID``, ``To``: the endpoint, ``ReplyTo``: anonymous), then ``wsse:Security`` with a
timestamp and the call's assertion, and signs with the gateway's key the timestamp, the body,
the addressing headers, the Liberty ``Framework`` header when the call has one, and the
assertion (what the captured Serviceplatformen request signs).

The assertion belongs to the call (one per service and municipality): the client sets it
with :meth:`HolderSigning.use` in the thread that makes the call.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from lxml import etree
from zeep.plugins import Plugin

from toekgw.adapters.kombit.settings import Credentials
from toekgw.formats.kombit import idws, wsse
from toekgw.formats.xmlcheck import safe_parser
from toekgw.gateway.tokens import Clock

__all__ = ["HolderSigning"]

_WSA = wsse.NS["wsa"]
_ANONYMOUS = "http://www.w3.org/2005/08/addressing/anonymous"
_FRAMEWORK = "{urn:liberty:sb:2006-08}Framework"


class HolderSigning(Plugin):
    """Signs each outgoing call as the holder of the assertion given to :meth:`use`."""

    def __init__(self, credentials: Credentials, clock: Clock) -> None:
        self.credentials, self.clock = credentials, clock
        self._local = threading.local()

    def use(self, assertion: bytes) -> None:
        """The token the next call in this thread carries."""
        self._local.assertion = assertion

    def egress(
        self,
        envelope: etree._Element,
        http_headers: dict[str, str],
        operation: Any,
        binding_options: Any,
    ) -> tuple[etree._Element, dict[str, str]]:
        header = envelope.find(f"{{{etree.QName(envelope).namespace}}}Header")
        assert header is not None
        action = str(operation.soapaction or operation.name)
        signed = [*header.iterfind(_FRAMEWORK)]
        for name, value in (
            ("Action", action),
            ("MessageID", f"urn:uuid:{uuid.uuid4()}"),
            ("To", str(binding_options["address"])),
        ):
            element = etree.SubElement(header, f"{{{_WSA}}}{name}", nsmap={"wsa": _WSA})
            element.text = value
            signed.append(element)
        reply_to = etree.SubElement(header, f"{{{_WSA}}}ReplyTo", nsmap={"wsa": _WSA})
        etree.SubElement(reply_to, f"{{{_WSA}}}Address").text = _ANONYMOUS
        signed.append(reply_to)
        idws.sign_request(
            envelope,
            etree.fromstring(self._local.assertion, safe_parser()),
            self.credentials.key,
            self.credentials.certificate,
            created=self.clock(),
            headers=signed,
        )
        return envelope, http_headers
