"""CL204's credential formats, matched on the raw bytes of a file.

`scan` holds the entry points (`scan`, `could_match`); `table` the formats CL204 reports, with
their vectors (the one module a rule imports); `text` the scanned text and its probes; `checks`
what makes a candidate documentation rather than a credential; `rule` how a format's rule is
built; `prefixed`, `unprefixed`, `url_passwords` and `key_blocks` the rules themselves.
"""
