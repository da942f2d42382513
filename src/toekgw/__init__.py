"""toek-gateway: the integration gateway and adapter SDK for Danish municipal benefit payments.

The packages under this root follow the design (``docs/developers.md``):

- :mod:`toekgw.formats`: pure codecs, bytes <-> typed records, no I/O;
- :mod:`toekgw.xsd`: the XML schemas and WSDLs as package data;
- :mod:`toekgw.gateway`: the core (journal, chunking, transports, pipelines, reconciliation),
  which names no counterpart;
- :mod:`toekgw.adapters`: one package per counterpart; what a developer embeds;
- :mod:`toekgw.simulators`: local counterparts that behave like the real ones;
- :mod:`toekgw.cli`: the ``toekgw`` command.
"""
