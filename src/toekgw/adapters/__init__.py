"""One adapter per counterpart: binds a format, a transport, rules and limits into the core."""
